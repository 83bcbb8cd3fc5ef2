#include <agentstream/core/ids.h>

#include <gtest/gtest.h>

#include <set>

namespace agentstream {
namespace {

TEST(Ids, UuidIsCanonicalVersion4) {
    for (int i = 0; i < 1000; ++i) {
        auto id = new_uuid();
        ASSERT_TRUE(is_uuid(id)) << id;
        EXPECT_EQ(id[14], '4') << id;
        EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    }
}

TEST(Ids, UuidsAreUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        EXPECT_TRUE(seen.insert(new_uuid()).second);
    }
}

TEST(Ids, IsUuidRejectsOtherShapes) {
    EXPECT_FALSE(is_uuid(""));
    EXPECT_FALSE(is_uuid("8eeeb392-02e3-49a9-a6bb-0fb602402ba"));
    EXPECT_FALSE(is_uuid("8eeeb392x02e3-49a9-a6bb-0fb602402bad"));
    EXPECT_FALSE(is_uuid("8eeeb392-02e3-49a9-a6bb-0fb602402bag"));
    EXPECT_TRUE(is_uuid("8EEEB392-02E3-49A9-A6BB-0FB602402BAD"));
}

}  // namespace
}  // namespace agentstream
