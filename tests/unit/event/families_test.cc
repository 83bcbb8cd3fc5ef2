// Every rule of every field of every family, driven by the catalogue table itself, plus the
// family-specific facts from the original (reference §1.3).
#include <agentstream/event/codec.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/sample_events.h"

namespace agentstream::event {
namespace {

using nlohmann::ordered_json;

class FamilyTest : public ::testing::TestWithParam<Family> {
  protected:
    ordered_json full() const {
        return ordered_json::parse(encode(testing::full_event(GetParam())));
    }

    // Decodes `json` and expects exactly one violation, on `field`, of `kind`.
    static void expect_single(const ordered_json& json, std::string_view field,
                              ViolationKind kind) {
        auto result = decode(json.dump());
        ASSERT_FALSE(result.ok()) << json.dump();
        ASSERT_EQ(result.error().size(), 1U) << describe(result.error());
        EXPECT_EQ(result.error()[0].field, field) << describe(result.error());
        EXPECT_EQ(result.error()[0].kind, kind) << describe(result.error());
        EXPECT_NE(result.error()[0].message.find(field), std::string::npos);
    }
    static void expect_valid(const ordered_json& json) {
        auto result = decode(json.dump());
        EXPECT_TRUE(result.ok()) << json.dump() << "\n"
                                 << (result.ok() ? "" : describe(result.error()));
    }
};

ordered_json wrong_kind(FieldKind kind) {
    switch (kind) {
        case FieldKind::String: return 42;
        case FieldKind::Integer: return 1.5;
        case FieldKind::Number: return "1.5";
        case FieldKind::Boolean: return 1;
        case FieldKind::Scalar: return ordered_json::array({1});
        case FieldKind::Object: return ordered_json::array();
        case FieldKind::StringList: return ordered_json::array({"a", 1});
        case FieldKind::ObjectList: return ordered_json::array({ordered_json::object(), 1});
        case FieldKind::StringMap: return ordered_json{{"a", 1}};
        case FieldKind::NumberMap: return ordered_json{{"a", "x"}};
    }
    return nullptr;
}

TEST_P(FamilyTest, FullEventIsValidAndRoundTrips) {
    auto event = testing::full_event(GetParam());
    EXPECT_TRUE(validate(event).empty()) << describe(validate(event));
    EXPECT_EQ(*decode(encode(event)), event);
}

TEST_P(FamilyTest, EveryRequiredFieldIsRequired) {
    for (const auto& spec : family_spec(GetParam()).fields) {
        if (spec.presence != Presence::Required) {
            continue;
        }
        SCOPED_TRACE(spec.name);
        auto json = full();
        json.erase(std::string(spec.name));
        expect_single(json, spec.name, ViolationKind::Missing);
    }
}

TEST_P(FamilyTest, OptionalAndDefaultedFieldsMayBeAbsentOrNull) {
    for (const auto& spec : family_spec(GetParam()).fields) {
        if (spec.presence == Presence::Required) {
            continue;
        }
        SCOPED_TRACE(spec.name);
        auto json = full();
        json.erase(std::string(spec.name));
        expect_valid(json);
        json[std::string(spec.name)] = nullptr;
        expect_valid(json);
    }
}

TEST_P(FamilyTest, EveryFieldRejectsTheWrongJsonType) {
    for (const auto& spec : family_spec(GetParam()).fields) {
        SCOPED_TRACE(spec.name);
        auto json = full();
        json[std::string(spec.name)] = wrong_kind(spec.kind);
        expect_single(json, spec.name, ViolationKind::WrongType);
    }
}

TEST_P(FamilyTest, EveryRangeAndEnumIsEnforcedAtItsBoundaries) {
    for (const auto& spec : family_spec(GetParam()).fields) {
        SCOPED_TRACE(spec.name);
        auto set = [&](ordered_json v) {
            auto json = full();
            json[std::string(spec.name)] = std::move(v);
            return json;
        };
        switch (spec.rule) {
            case Rule::NonNegative:
                expect_valid(set(0));
                expect_single(set(-1), spec.name, ViolationKind::OutOfRange);
                break;
            case Rule::UnitInterval:
                expect_valid(set(0));
                expect_valid(set(1));
                expect_single(set(1.0001), spec.name, ViolationKind::OutOfRange);
                expect_single(set(-0.0001), spec.name, ViolationKind::OutOfRange);
                break;
            case Rule::Percentage:
                expect_valid(set(100));
                expect_single(set(100.5), spec.name, ViolationKind::OutOfRange);
                expect_single(set(-1), spec.name, ViolationKind::OutOfRange);
                break;
            case Rule::OneOf:
                for (auto allowed : spec.allowed) {
                    expect_valid(set(std::string(allowed)));
                }
                expect_single(set("bogus"), spec.name, ViolationKind::NotAllowed);
                break;
            case Rule::NonEmpty:
                expect_single(set(""), spec.name, ViolationKind::NotAllowed);
                break;
            case Rule::None: break;
        }
    }
}

TEST_P(FamilyTest, EventTypeOfAnotherFamilyRejectsThisFamilysRequiredFieldsMissing) {
    // A document field set on a task event is an unknown field, kept, not an error; the task's
    // own required fields are what is checked.
    auto json = full();
    json["event_type"] = GetParam() == Family::Task ? "document.uploaded" : "task.created";
    auto result = decode(json.dump());
    ASSERT_FALSE(result.ok());
    for (const auto& v : result.error()) {
        EXPECT_EQ(v.kind, ViolationKind::Missing) << v.message;
    }
}

INSTANTIATE_TEST_SUITE_P(AllFamilies, FamilyTest,
                         ::testing::Values(Family::Document, Family::Task, Family::Agent,
                                           Family::Analytics, Family::Notification, Family::Quality,
                                           Family::BusinessInsight, Family::SystemHealth),
                         [](const ::testing::TestParamInfo<Family>& p) {
                             return std::string(to_string(p.param));
                         });

// Facts from the original's field list that the table-driven tests do not pin down.
TEST(Families, CatalogueMatchesTheOriginalsRequiredFields) {
    auto required = [](Family f) {
        std::vector<std::string> out;
        for (const auto& s : family_spec(f).fields) {
            if (s.presence == Presence::Required) {
                out.emplace_back(s.name);
            }
        }
        return out;
    };
    using ::testing::ElementsAre;
    EXPECT_THAT(required(Family::Document), ElementsAre("document_id"));
    EXPECT_THAT(required(Family::Task), ElementsAre("task_id", "task_type"));
    EXPECT_THAT(required(Family::Agent),
                ElementsAre("agent_id", "agent_name", "agent_role", "status"));
    EXPECT_THAT(required(Family::Analytics),
                ElementsAre("metric_name", "metric_value", "metric_type", "service"));
    EXPECT_THAT(required(Family::Notification),
                ElementsAre("notification_type", "title", "message"));
    EXPECT_THAT(required(Family::Quality),
                ElementsAre("validation_id", "subject_type", "subject_id", "quality_score",
                            "validation_criteria", "passed_checks", "failed_checks"));
    EXPECT_THAT(required(Family::BusinessInsight),
                ElementsAre("insight_id", "insight_type", "confidence", "title", "description",
                            "key_findings", "data_sources", "business_impact", "generator_agent_id",
                            "data_freshness"));
    EXPECT_THAT(required(Family::SystemHealth), ElementsAre("component", "health_status"));
}

TEST(Families, DefaultsMatchTheOriginal) {
    auto analytics = *decode(testing::minimal_json(EventType::AnalyticsMetricUpdate));
    EXPECT_EQ(analytics.string("environment"), "production");
    EXPECT_EQ(analytics.field("tags")->as_raw_json()->text, "{}");
    auto notification = *decode(testing::minimal_json(EventType::UserNotification));
    EXPECT_EQ(notification.string("channel"), "system");
    EXPECT_EQ(*notification.field("is_persistent"), Value(false));
    EXPECT_EQ(*notification.field("requires_acknowledgment"), Value(false));
    auto health = *decode(testing::minimal_json(EventType::SystemHealth));
    EXPECT_EQ(health.string("alert_level"), "info");
    auto agent = *decode(testing::minimal_json(EventType::AgentStatusChanged));
    EXPECT_EQ(agent.integer("current_tasks"), 0);
    EXPECT_EQ(agent.integer("completed_tasks"), 0);
    EXPECT_EQ(agent.integer("error_count"), 0);
}

}  // namespace
}  // namespace agentstream::event
