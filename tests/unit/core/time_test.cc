#include <agentstream/core/time.h>

#include <gtest/gtest.h>

namespace agentstream {
namespace {

using namespace std::chrono;

TEST(Time, FormatsRfc3339WithMicrosecondsAndZ) {
    Timestamp ts = sys_days{2026y / 11 / 27} + 8h + 3min + 39s + 79210us;
    EXPECT_EQ(format_rfc3339(ts), "2026-11-27T08:03:39.079210Z");
    EXPECT_EQ(format_rfc3339(Timestamp{}), "1970-01-01T00:00:00.000000Z");
}

TEST(Time, ParsesWhatItFormats) {
    Timestamp ts = sys_days{1999y / 12 / 31} + 23h + 59min + 59s + 999999us;
    EXPECT_EQ(parse_rfc3339(format_rfc3339(ts)), ts);
}

TEST(Time, ParsesOffsetsFractionsAndThePythonNaiveForm) {
    Timestamp base = sys_days{2026y / 11 / 27} + 8h + 3min + 39s;
    EXPECT_EQ(parse_rfc3339("2026-11-27T08:03:39Z"), base);
    EXPECT_EQ(parse_rfc3339("2026-11-27T10:03:39+02:00"), base);
    EXPECT_EQ(parse_rfc3339("2026-11-27T07:03:39.5-01:00"), base + 500ms);
    EXPECT_EQ(parse_rfc3339("2026-11-27 08:03:39.079210"), base + 79210us);  // str(datetime)
    EXPECT_EQ(parse_rfc3339("2026-11-27T08:03:39.123456789Z"), base + 123456us);
}

TEST(Time, RejectsMalformedAndOutOfRange) {
    for (const char* bad :
         {"", "2026", "2026-11-27", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
          "2026-11-27T24:00:00Z", "2026-11-27T08:60:00Z", "2026-11-27T08:03:39.Z",
          "2026-11-27T08:03:39ZZ", "2026-11-27T08:03:39+0200", "2026-11-27X08:03:39Z",
          "2026-11-27T08:03:39.1234567890Z", "yyyy-11-27T08:03:39Z"}) {
        EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace agentstream

namespace agentstream {
namespace {

TEST(ParseDuration, ReadsUnitsAndSums) {
    EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
    EXPECT_EQ(parse_duration("1h30m"), std::chrono::minutes(90));
    EXPECT_EQ(parse_duration("87600h"), max_duration);
    EXPECT_FALSE(parse_duration(""));
    EXPECT_FALSE(parse_duration("5"));
    EXPECT_FALSE(parse_duration("-5s"));
    EXPECT_FALSE(parse_duration("5d"));
}

// 2600000h passed as milliseconds, then overflowed steady_clock's nanoseconds: an alert with
// `for: 2600000h` fired after one step and `demo --duration 2600000h` ended at once.
TEST(ParseDuration, RefusesWhatIsLongerThanTenYearsWithoutOverflowing) {
    EXPECT_FALSE(parse_duration("87601h"));
    EXPECT_FALSE(parse_duration("2600000h"));
    EXPECT_FALSE(parse_duration("87600h1ms"));
    EXPECT_FALSE(parse_duration("9223372036854775807h"));
    EXPECT_FALSE(parse_duration("9223372036854775807ms"));
    EXPECT_FALSE(parse_duration("87000h87000h"));
    // What it accepts can be added to a clock's now without overflow.
    auto later = std::chrono::steady_clock::now() + *parse_duration("87600h");
    EXPECT_GT(later, std::chrono::steady_clock::now());
}

}  // namespace
}  // namespace agentstream
