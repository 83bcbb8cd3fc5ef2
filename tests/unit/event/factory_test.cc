#include <agentstream/core/ids.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentstream::event {
namespace {

TEST(EventFactory, FillsIdTimestampPriorityAndDefaults) {
    auto before = now_utc();
    auto event = EventFactory::task(EventType::TaskCreated, "t1", "document_analysis", "tm");
    EXPECT_TRUE(is_uuid(event.id()));
    EXPECT_GE(event.timestamp(), before);
    EXPECT_LE(event.timestamp(), now_utc());
    EXPECT_EQ(event.priority(), Priority::Medium);
    EXPECT_EQ(event.integer("retry_count"), 0);
    EXPECT_EQ(event.string("task_id"), "t1");
    EXPECT_NE(EventFactory::task(EventType::TaskCreated, "t1", "x", "tm").id(), event.id());
}

TEST(EventFactory, ValidatesAtConstructionListingEveryViolation) {
    try {
        EventFactory::quality("v1", "essay", "s1", 5.0, {}, {}, {}, "qa");
        FAIL() << "accepted an invalid quality event";
    } catch (const ValidationError& e) {
        EXPECT_THAT(e.violations(), ::testing::SizeIs(2));
        EXPECT_THAT(std::string(e.what()),
                    ::testing::HasSubstr("quality_score: must be between 0 and 1, got 5"));
        EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("subject_type: must be one of"));
    }
}

TEST(EventFactory, RejectsTypesOfAnotherFamilyAndUnknownFields) {
    EXPECT_THROW(EventFactory::document(EventType::TaskCreated, "d1", "s"), std::invalid_argument);
    EXPECT_THROW(
        EventFactory::document(EventType::DocumentUploaded, "d1", "s", {{"colour", "red"}}),
        std::invalid_argument);
    EXPECT_THROW(EventFactory::system_health("c", "healthy", "s", {}, {}, EventType::TaskFailed),
                 std::invalid_argument);
}

TEST(EventFactory, WrongValueTypeIsAViolation) {
    EXPECT_THROW(
        EventFactory::document(EventType::DocumentUploaded, "d1", "s", {{"file_size", "big"}}),
        ValidationError);
    EXPECT_THROW(EventFactory::document(EventType::DocumentUploaded, "d1", "s",
                                        {{"extracted_metadata", RawJson{"[1]"}}}),
                 ValidationError);
    EXPECT_THROW(EventFactory::document(EventType::DocumentUploaded, "d1", "s",
                                        {{"extracted_metadata", RawJson{"{bad"}}}),
                 ValidationError);
    EXPECT_THROW(EventFactory::document(EventType::DocumentUploaded, "d1", "s",
                                        {{"document_name", std::string("\xff")}}),
                 ValidationError);
    EXPECT_THROW(EventFactory::document(EventType::DocumentUploaded, "d1", "s", {},
                                        {.metadata = RawJson{"[]"}}),
                 ValidationError);
}

TEST(EventFactory, SystemHealthIsNotAnAlertUnlessAsked) {
    EXPECT_EQ(EventFactory::system_health("kafka", "healthy", "monitor").type(),
              EventType::SystemHealth);
    EXPECT_EQ(
        EventFactory::system_health("kafka", "down", "monitor", {}, {}, EventType::SystemAlert)
            .type(),
        EventType::SystemAlert);
}

TEST(EventFactory, CausedByCarriesCorrelation) {
    auto upload = EventFactory::document(EventType::DocumentUploaded, "d1", "api", {},
                                         {.priority = Priority::High});
    auto task = EventFactory::task(EventType::TaskCreated, "t1", "document_analysis", "proc", {},
                                   EnvelopeOptions::caused_by(upload));
    EXPECT_EQ(task.correlation_id(), upload.id());
    EXPECT_EQ(task.causation_id(), upload.id());
    EXPECT_EQ(task.priority(), Priority::High);
    auto done = EventFactory::task(EventType::TaskCompleted, "t1", "document_analysis", "agent", {},
                                   EnvelopeOptions::caused_by(task));
    EXPECT_EQ(done.correlation_id(), upload.id());
    EXPECT_EQ(done.causation_id(), task.id());
}

TEST(EventFactory, AnalyticsAndCreateByName) {
    auto metric = EventFactory::analytics("error_rate", 2, "gauge", "api", "collector");
    EXPECT_EQ(metric.type(), EventType::AnalyticsMetricUpdate);
    EXPECT_EQ(*metric.field("metric_value"), Value(2));
    auto generic = EventFactory::create(EventType::AgentError, "orch",
                                        {{"agent_id", "a1"},
                                         {"agent_name", "A"},
                                         {"agent_role", "r"},
                                         {"status", "error"},
                                         {"error_message", "boom"}});
    EXPECT_EQ(generic.string("error_message"), "boom");
    EXPECT_THROW(EventFactory::create(EventType::AgentError, "orch"), ValidationError);
}

TEST(Event, SetEraseAndExtras) {
    Event event(EventType::DocumentUploaded, "s");
    event.set("document_id", "d1");
    EXPECT_TRUE(validate(event).empty());
    EXPECT_TRUE(event.erase("document_id"));
    EXPECT_FALSE(event.erase("document_id"));
    EXPECT_THAT(validate(event), ::testing::SizeIs(1));
    EXPECT_THROW(event.set("nope", 1), std::invalid_argument);
    event.set_extra("x", RawJson{"1"});
    event.set_extra("x", RawJson{"2"});
    ASSERT_EQ(event.extra_fields().size(), 1U);
    EXPECT_EQ(event.extra_fields()[0].second.text, "2");
    event.set_extra("y", RawJson{"{nope"});
    EXPECT_THAT(validate(event), ::testing::SizeIs(2));
}

}  // namespace
}  // namespace agentstream::event
