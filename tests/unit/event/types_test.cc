#include <agentstream/event/types.h>

#include <gtest/gtest.h>

#include <set>

namespace agentstream::event {
namespace {

TEST(EventTypes, TwentyTwoDistinctWireValuesThatRoundTrip) {
    std::set<std::string_view> seen;
    ASSERT_EQ(all_event_types().size(), 22U);
    for (auto type : all_event_types()) {
        auto wire = to_string(type);
        EXPECT_TRUE(seen.insert(wire).second) << wire;
        EXPECT_EQ(parse_event_type(wire), type);
    }
    for (auto added :
         {"agent.task.started", "agent.task.completed", "agent.error", "system.health"}) {
        EXPECT_TRUE(parse_event_type(added)) << added;
    }
    EXPECT_FALSE(parse_event_type("document.deleted"));
    EXPECT_FALSE(parse_event_type("DOCUMENT_UPLOADED"));
}

TEST(EventTypes, MapsTypesToFamilies) {
    EXPECT_EQ(family_of(EventType::DocumentAnalysisComplete), Family::Document);
    EXPECT_EQ(family_of(EventType::TaskCancelled), Family::Task);
    EXPECT_EQ(family_of(EventType::AgentError), Family::Agent);
    EXPECT_EQ(family_of(EventType::AnalyticsReportGenerated), Family::Analytics);
    EXPECT_EQ(family_of(EventType::UserNotification), Family::Notification);
    EXPECT_EQ(family_of(EventType::QualityCheckComplete), Family::Quality);
    EXPECT_EQ(family_of(EventType::BusinessInsightGenerated), Family::BusinessInsight);
    EXPECT_EQ(family_of(EventType::SystemAlert), Family::SystemHealth);
    EXPECT_EQ(family_of(EventType::SystemHealth), Family::SystemHealth);
}

TEST(EventTypes, PrioritiesIncludingThePythonDefaultSpelling) {
    EXPECT_EQ(to_string(Priority::Critical), "critical");
    EXPECT_EQ(parse_priority("high"), Priority::High);
    EXPECT_EQ(parse_priority("Priority.MEDIUM"), Priority::Medium);
    EXPECT_FALSE(parse_priority("warning"));
    EXPECT_FALSE(parse_priority("HIGH"));
}

TEST(TypePattern, StarMatchesEverything) {
    TypePattern all("*");
    for (auto type : all_event_types()) {
        EXPECT_TRUE(all.matches(type));
    }
    EXPECT_TRUE(all.matches(std::string_view("custom.thing")));
}

TEST(TypePattern, PrefixWildcardMatchesAtAnyDepth) {
    TypePattern documents("document.*");
    EXPECT_TRUE(documents.matches(EventType::DocumentUploaded));
    EXPECT_TRUE(documents.matches(EventType::DocumentAnalysisComplete));
    EXPECT_FALSE(documents.matches(EventType::TaskCreated));
    EXPECT_FALSE(documents.matches(std::string_view("document")));
    EXPECT_FALSE(documents.matches(std::string_view("documents.x")));

    TypePattern agent_tasks("agent.task.*");
    EXPECT_TRUE(agent_tasks.matches(EventType::AgentTaskStarted));
    EXPECT_TRUE(agent_tasks.matches(EventType::AgentTaskCompleted));
    EXPECT_FALSE(agent_tasks.matches(EventType::AgentError));
}

TEST(TypePattern, ExactMatch) {
    TypePattern exact("task.failed");
    EXPECT_TRUE(exact.matches(EventType::TaskFailed));
    EXPECT_FALSE(exact.matches(EventType::TaskCreated));
}

TEST(TypePattern, RejectsBadPatternsWithTheirText) {
    for (const char* bad : {"", "doc*", "*.uploaded", "document.*.x", "nothing.*", "task.eaten"}) {
        try {
            TypePattern p(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
                << e.what();
        }
    }
}

}  // namespace
}  // namespace agentstream::event
