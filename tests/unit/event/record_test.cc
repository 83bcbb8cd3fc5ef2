#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/sample_events.h"

namespace agentstream::event {
namespace {

TEST(Record, KeyIsTheEntity) {
    EXPECT_EQ(record_key(testing::full_event(Family::Document)), "doc_001");
    EXPECT_EQ(record_key(testing::full_event(Family::Task)), "task_001");
    EXPECT_EQ(record_key(testing::full_event(Family::Agent)), "agent_1");
    EXPECT_EQ(record_key(testing::full_event(Family::Analytics)), "api_gateway/response_time");
    EXPECT_EQ(record_key(testing::full_event(Family::Notification)), "user_7");
    EXPECT_EQ(record_key(testing::full_event(Family::Quality)), "v1");
    EXPECT_EQ(record_key(testing::full_event(Family::BusinessInsight)), "i1");
    EXPECT_EQ(record_key(testing::full_event(Family::SystemHealth)), "kafka");
}

TEST(Record, SameEntitySameKeyAcrossTypes) {
    auto created = EventFactory::task(EventType::TaskCreated, "t9", "x", "a");
    auto done = EventFactory::task(EventType::TaskCompleted, "t9", "x", "b");
    EXPECT_EQ(record_key(created), record_key(done));
}

TEST(Record, NotificationWithoutUserIsKeyedByEventId) {
    auto n = EventFactory::notification("info", "t", "m", "s");
    EXPECT_EQ(record_key(n), n.id());
}

TEST(Record, HeadersCarryTypeIdCorrelationVersionAndContentType) {
    auto event = testing::full_event(Family::Task);
    using ::testing::Pair;
    EXPECT_THAT(
        record_headers(event),
        ::testing::ElementsAre(Pair("event_type", "task.completed"), Pair("event_id", event.id()),
                               Pair("correlation_id", "corr-1"), Pair("schema_version", "1"),
                               Pair("content-type", "application/json")));
    auto plain = EventFactory::notification("info", "t", "m", "s");
    EXPECT_EQ(record_headers(plain).size(), 4U);
}

}  // namespace
}  // namespace agentstream::event
