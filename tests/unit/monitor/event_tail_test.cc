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

TEST(EventTail, BytesThatAreNotUtf8AreShownEscaped) {
    // kcat -k bad with printf '\xc3\x28\xa0': a lead byte without its continuation, then a
    // stray continuation byte.
    EXPECT_EQ(EventTail::preview_of("\xc3\x28\xa0"), "\\xc3(\\xa0");
    EXPECT_EQ(EventTail::preview_of(std::string_view("a\0b", 3)), std::string("a\0b", 3));
    // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8 either.
    EXPECT_EQ(EventTail::preview_of("\xc0\xaf"), "\\xc0\\xaf");
    EXPECT_EQ(EventTail::preview_of("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    EXPECT_EQ(EventTail::preview_of("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    EXPECT_EQ(EventTail::preview_of("\xf0\x9f\x98\x80 ok"), "\xf0\x9f\x98\x80 ok");
    // A truncated sequence at the end.
    EXPECT_EQ(EventTail::preview_of("ab\xe2\x82"), "ab\\xe2\\x82");
    // An escape is never cut in the middle.
    EXPECT_EQ(EventTail::preview_of("ab\xff\xff", 7), "ab\\xff\xE2\x80\xA6");
}

TEST(EventTail, AMonitorSnapshotOfBinaryRecordsIsValidJson) {
    std::string all;
    for (int c = 0; c < 256; ++c) {
        all += static_cast<char>(c);
    }
    auto shown = EventTail::preview_of(all, 4096);
    // Every byte of the result is part of well-formed UTF-8: re-escaping changes nothing.
    EXPECT_EQ(EventTail::preview_of(shown, 4096), shown);
    EXPECT_NE(shown.find("\\x80"), std::string::npos);
    EXPECT_NE(shown.find("\\xff"), std::string::npos);
}

}  // namespace
}  // namespace agentstream::monitor
