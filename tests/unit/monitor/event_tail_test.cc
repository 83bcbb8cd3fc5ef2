// The dashboard's event tail: bounded, rate-limited, previews cut on character boundaries.
#include <agentstream/monitor/event_tail.h>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;

TEST(EventTail, KeepsOnePerIntervalAndTheNewestEntries) {
    EventTail tail(3, 100ms);
    auto t0 = std::chrono::steady_clock::time_point(10s);
    EXPECT_TRUE(tail.due(t0));
    EXPECT_FALSE(tail.due(t0 + 50ms));
    EXPECT_TRUE(tail.due(t0 + 100ms));
    for (int i = 0; i < 5; ++i) {
        TailEntry e;
        e.offset = i;
        tail.add(e);
    }
    auto recent = tail.recent();
    ASSERT_EQ(recent.size(), 3u);
    EXPECT_EQ(recent.front().offset, 2);
    EXPECT_EQ(recent.back().offset, 4);
}

TEST(EventTail, OneThreadWinsEachSlot) {
    EventTail tail(10, 1h);
    std::atomic<int> won{0};
    std::vector<std::thread> threads;
    auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            for (int j = 0; j < 1000; ++j) {
                won += tail.due(now) ? 1 : 0;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(won.load(), 1);
}

TEST(EventTail, PreviewsAreCutOnCharacterBoundaries) {
    EXPECT_EQ(EventTail::preview_of("short", 10), "short");
    // "é" is two bytes: a cut inside it backs off to before it.
    EXPECT_EQ(EventTail::preview_of("abcé", 4), "abc\xE2\x80\xA6");
    EXPECT_EQ(EventTail::preview_of("abcé", 5), "abcé");
    EXPECT_EQ(EventTail::preview_of("abcdef", 3), "abc\xE2\x80\xA6");
}

}  // namespace
}  // namespace agentstream::monitor
