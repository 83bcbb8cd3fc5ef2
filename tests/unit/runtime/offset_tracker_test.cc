#include <gtest/gtest.h>

#include "runtime/offset_tracker.h"

namespace agentstream::runtime::detail {
namespace {

TEST(OffsetTracker, CommitsOnlyTheCompletedPrefix) {
    OffsetTracker t;
    for (std::int64_t o : {10, 11, 12, 15}) {
        t.add(o);
    }
    EXPECT_EQ(t.complete(11), std::nullopt);  // 10 still pending
    EXPECT_EQ(t.complete(12), std::nullopt);
    EXPECT_EQ(t.size(), 4U);
    EXPECT_EQ(t.complete(10), 13);  // 10, 11, 12 done
    EXPECT_EQ(t.size(), 1U);
    EXPECT_EQ(t.complete(15), 16);
    EXPECT_TRUE(t.empty());
}

TEST(OffsetTracker, IgnoresUnknownAndRepeatedCompletions) {
    OffsetTracker t;
    t.add(1);
    t.add(2);
    EXPECT_EQ(t.complete(7), std::nullopt);
    EXPECT_EQ(t.complete(2), std::nullopt);
    EXPECT_EQ(t.complete(2), std::nullopt);
    EXPECT_EQ(t.complete(1), 3);
    EXPECT_EQ(t.complete(1), std::nullopt);
}

TEST(OffsetTracker, AnAbandonedRecordIsNoLongerAwaitedButBlocksTheCommit) {
    OffsetTracker t;
    for (std::int64_t o : {4, 5, 6}) {
        t.add(o);
    }
    EXPECT_EQ(t.open(), 3U);
    EXPECT_EQ(t.complete(4), 5);
    t.abandon(5);
    EXPECT_EQ(t.open(), 1U);
    EXPECT_EQ(t.complete(6), std::nullopt) << "never past the abandoned one";
    EXPECT_EQ(t.open(), 0U);
    EXPECT_EQ(t.size(), 2U);
    EXPECT_EQ(t.complete(5), std::nullopt) << "an abandoned record cannot complete";
    t.abandon(5);
    EXPECT_EQ(t.open(), 0U);
}

}  // namespace
}  // namespace agentstream::runtime::detail
