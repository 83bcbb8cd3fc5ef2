#include <agentstream/event/codec.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/sample_events.h"

namespace agentstream::event {
namespace {

using agentstream::testing::full_event;
using agentstream::testing::minimal_json;

std::vector<std::string> messages(const Violations& v) {
    std::vector<std::string> out;
    for (const auto& x : v) {
        out.push_back(x.message);
    }
    return out;
}

Violations decode_errors(std::string_view json) {
    auto result = decode(json);
    EXPECT_FALSE(result.ok()) << json;
    return result.ok() ? Violations{} : result.error();
}

TEST(Codec, DecodesMinimalEventOfEveryTypeAndFillsDefaults) {
    for (auto type : all_event_types()) {
        auto result = decode(minimal_json(type));
        ASSERT_TRUE(result.ok()) << to_string(type) << ": " << describe(result.error());
        EXPECT_EQ(result->type(), type);
        EXPECT_EQ(result->priority(), Priority::Medium);
        EXPECT_EQ(result->schema_version(), 1);
        EXPECT_EQ(result->metadata().text, "{}");
    }
    auto task = decode(minimal_json(EventType::TaskCreated));
    EXPECT_EQ(task->integer("retry_count"), 0);
    EXPECT_EQ(*task->field("child_task_ids"), Value(StringList{}));
}

TEST(Codec, WritesEnvelopeFirstInOrderThenFamilyFieldsOmittingAbsentOptionals) {
    auto event = EventFactory::document(EventType::DocumentUploaded, "d1", "svc",
                                        {{"document_name", "a.pdf"}});
    event.set_timestamp(*parse_rfc3339("2026-11-27T08:03:39.07921Z"));
    event.set_id("id-1");
    EXPECT_EQ(encode(event),
              R"({"event_id":"id-1","event_type":"document.uploaded","schema_version":1,)"
              R"("timestamp":"2026-11-27T08:03:39.079210Z","priority":"medium","source":"svc",)"
              R"("metadata":{},"document_id":"d1","document_name":"a.pdf"})");
}

TEST(Codec, FullEventsOfEveryFamilyRoundTripExactly) {
    for (std::size_t f = 0; f < FAMILY_COUNT; ++f) {
        auto event = full_event(static_cast<Family>(f));
        auto json = encode(event);
        auto back = decode(json);
        ASSERT_TRUE(back.ok()) << json << "\n" << describe(back.error());
        EXPECT_EQ(*back, event) << json;
        EXPECT_EQ(encode(*back), json);
    }
}

TEST(Codec, UnknownFieldsSurviveARoundTripInOrder) {
    auto json = minimal_json(EventType::TaskCreated);
    json.pop_back();
    json +=
        R"(,"z_custom":{"nested":[1,2,{"a":null}]},"a_flag":true,"_kafka_metadata":{"topic":"tasks"}})";
    auto event = decode(json);
    ASSERT_TRUE(event.ok()) << describe(event.error());
    ASSERT_EQ(event->extra_fields().size(), 3U);
    EXPECT_EQ(event->extra_fields()[0].first, "z_custom");
    EXPECT_EQ(event->extra_fields()[0].second.text, R"({"nested":[1,2,{"a":null}]})");
    auto again = encode(*event);
    EXPECT_NE(
        again.find(
            R"("z_custom":{"nested":[1,2,{"a":null}]},"a_flag":true,"_kafka_metadata":{"topic":"tasks"}})"),
        std::string::npos)
        << again;
    EXPECT_EQ(*decode(again), *event);
}

TEST(Codec, ReadsThePythonOriginalsWireFormat) {
    // What the original KafkaProducer.send_event wrote: str(datetime) timestamps, the default
    // priority as "Priority.MEDIUM", every absent Optional as null, plus _kafka_metadata.
    std::string_view original =
        R"({"event_id": "5b0d6c3e-7a51-4f0e-8d0e-2f1d1c9b6a11", "event_type": "document.uploaded",)"
        R"( "timestamp": "2026-11-27 08:03:39.079210", "priority": "Priority.MEDIUM",)"
        R"( "source": "document_service", "correlation_id": null, "metadata": {},)"
        R"( "document_id": "doc_001", "document_name": "a.pdf", "document_type": null,)"
        R"( "file_size": 1024, "user_id": null, "processing_stage": null, "content_preview": null,)"
        R"( "extracted_metadata": null, "analysis_results": null, "error_details": null,)"
        R"( "processing_time_ms": null, "agent_id": null,)"
        R"( "_kafka_metadata": {"topic": "documents", "key": null, "timestamp": "2026-11-27T08:03:39.080000", "producer_id": 140234}})";
    auto event = decode(original);
    ASSERT_TRUE(event.ok()) << describe(event.error());
    EXPECT_EQ(event->priority(), Priority::Medium);
    EXPECT_EQ(format_rfc3339(event->timestamp()), "2026-11-27T08:03:39.079210Z");
    EXPECT_EQ(event->string("document_name"), "a.pdf");
    EXPECT_EQ(event->integer("file_size"), 1024);
    EXPECT_EQ(event->field("document_type"), nullptr);
    EXPECT_FALSE(event->correlation_id());
    auto out = encode(*event);
    EXPECT_EQ(out.substr(0, out.find("_kafka_metadata")).find("null"), std::string::npos) << out;
    EXPECT_EQ(out.find("document_type"), std::string::npos) << out;
}

TEST(Codec, NamesEachMissingField) {
    auto errors = decode_errors(R"({"event_type":"document.uploaded"})");
    EXPECT_THAT(messages(errors),
                ::testing::UnorderedElementsAre(
                    "event_id: required field is missing", "timestamp: required field is missing",
                    "source: required field is missing", "document_id: required field is missing"));
    for (const auto& v : errors) {
        EXPECT_EQ(v.kind, ViolationKind::Missing);
    }
}

TEST(Codec, RequiredNullIsMissing) {
    auto json = minimal_json(EventType::TaskCreated);
    json.replace(json.find(R"("task_001")"), 10, "null");
    auto errors = decode_errors(json);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].message, "task_id: required field is missing");
}

TEST(Codec, ReportsEveryProblemNotJustTheFirst) {
    auto errors = decode_errors(
        R"({"event_id":5,"event_type":"system.health","timestamp":"yesterday","priority":"urgent",)"
        R"("source":"","component":"db","health_status":"ok","cpu_usage_percent":-1,)"
        R"("cache_hit_rate":1.5,"active_connections":2.5,"network_io":{"in":"lots"}})");
    EXPECT_THAT(
        messages(errors),
        ::testing::UnorderedElementsAre(
            "event_id: expected string, got integer",
            "timestamp: expected RFC 3339 date-time such as 2026-11-27T08:03:39.079210Z, got "
            "'yesterday'",
            "priority: must be one of low, medium, high, critical; got 'urgent'",
            "source: must not be empty",
            "health_status: must be one of healthy, warning, critical, down; got 'ok'",
            "cpu_usage_percent: must be non-negative, got -1",
            "cache_hit_rate: must be between 0 and 1, got 1.5",
            "active_connections: expected integer, got number",
            "network_io: expected object of numbers, got object"));
}

TEST(Codec, UnknownEventTypeIsNamedAndEnvelopeStillChecked) {
    auto errors = decode_errors(
        R"({"event_id":"x","event_type":"document.deleted","timestamp":"2026-11-27T08:03:39Z"})");
    EXPECT_THAT(messages(errors),
                ::testing::UnorderedElementsAre("event_type: unknown event type 'document.deleted'",
                                                "source: required field is missing"));
    EXPECT_EQ(errors[0].kind, ViolationKind::UnknownType);
}

TEST(Codec, MalformedInputIsAViolationNotACrash) {
    for (std::string_view bad :
         {std::string_view(""), std::string_view("{"), std::string_view("null"),
          std::string_view("[1,2]"), std::string_view("\"str\""),
          std::string_view("{\"event_type\":\"task.created\",}"),
          std::string_view("{\"a\":\"\xff\xfe\"}"), std::string_view("{\"a\":1} trailing"),
          std::string_view("\0\0\0", 3)}) {
        auto errors = decode_errors(bad);
        ASSERT_EQ(errors.size(), 1U) << bad;
        EXPECT_EQ(errors[0].kind, ViolationKind::Malformed) << bad;
    }
}

TEST(Codec, OversizedInputIsRejected) {
    std::string huge = minimal_json(EventType::TaskCreated);
    huge.pop_back();
    huge += R"(,"blob":")" + std::string(MAX_EVENT_BYTES, 'x') + "\"}";
    auto errors = decode_errors(huge);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_NE(errors[0].message.find("limit"), std::string::npos);
}

TEST(Codec, DuplicateFieldsAreRejected) {
    auto json = minimal_json(EventType::TaskCreated);
    json.pop_back();
    json += R"(,"task_id":"again","x":1,"x":2,"source":"twice"})";
    auto errors = decode_errors(json);
    EXPECT_THAT(messages(errors), ::testing::UnorderedElementsAre("task_id: field appears twice",
                                                                  "x: field appears twice",
                                                                  "source: field appears twice"));
}

TEST(Codec, IntegersOutside64BitsAreRejected) {
    auto json = minimal_json(EventType::TaskCreated);
    json.pop_back();
    json += R"(,"retry_count":18446744073709551615})";
    auto errors = decode_errors(json);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].field, "retry_count");
}

TEST(Codec, ScalarMetricValueKeepsItsJsonType) {
    for (auto [text, expected] : {std::pair<std::string, Value>{"12", Value(12)},
                                  {"12.0", Value(12.0)},
                                  {"\"12\"", Value("12")},
                                  {"-0.5", Value(-0.5)}}) {
        auto json = minimal_json(EventType::AnalyticsMetricUpdate);
        json.replace(json.find("12.5"), 4, text);
        auto event = decode(json);
        ASSERT_TRUE(event.ok()) << json;
        EXPECT_EQ(*event->field("metric_value"), expected) << text;
        EXPECT_EQ(*decode(encode(*event)), *event) << text;
    }
}

TEST(Codec, EscapesStringsOnOutput) {
    auto event =
        EventFactory::notification("info", "t", "line1\nline2 \"quoted\" \\ \x01 é", "svc");
    auto json = encode(event);
    EXPECT_NE(json.find(R"("message":"line1\nline2 \"quoted\" \\ \u0001 é")"), std::string::npos)
        << json;
    EXPECT_EQ(*decode(json), event);
}

TEST(Codec, ValueFromJsonChecksKindAndRule) {
    const auto& spec =
        family_spec(Family::Quality).fields[*field_index(Family::Quality, "quality_score")];
    EXPECT_EQ(*value_from_json(spec, "0.5"), Value(0.5));
    EXPECT_FALSE(value_from_json(spec, "5").ok());
    EXPECT_FALSE(value_from_json(spec, "\"high\"").ok());
    EXPECT_FALSE(value_from_json(spec, "{").ok());
}

}  // namespace
}  // namespace agentstream::event
