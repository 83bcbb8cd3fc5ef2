// The test-side Java murmur2 against Kafka's own vectors (UtilsTest.testMurmur2).
#include <gtest/gtest.h>

#include "support/java_murmur2.h"

namespace agentstream::testing {
namespace {

TEST(JavaMurmur2, MatchesKafkasVectors) {
    EXPECT_EQ(java_murmur2("21"), -973932308);
    EXPECT_EQ(java_murmur2("foobar"), -790332482);
    EXPECT_EQ(java_murmur2("a-little-bit-long-string"), -985981536);
    EXPECT_EQ(java_murmur2("a-little-bit-longer-string"), -1486304829);
    EXPECT_EQ(java_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
    EXPECT_EQ(java_murmur2("abc"), 479470107);
    EXPECT_EQ(java_partition("foobar", 50), 16);
}

}  // namespace
}  // namespace agentstream::testing
