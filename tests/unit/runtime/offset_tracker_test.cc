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

}  // namespace
}  // namespace agentstream::runtime::detail
