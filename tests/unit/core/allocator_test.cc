#include <agentstream/core/allocator.h>

#include <gtest/gtest.h>

#include <cstdlib>

namespace agentstream {
namespace {

// The build links jemalloc into every executable unless it is a sanitizer build or configured
// without it; a linker that silently drops it (--as-needed) must fail here, not in a benchmark.
TEST(Allocator, IsTheOneTheBuildChose) {
    auto name = allocator_name();
#ifdef AGENTSTREAM_JEMALLOC
    EXPECT_TRUE(name.starts_with("jemalloc 5.")) << name;
    // The executable's own options (src/core/malloc_conf.cc) reached jemalloc, unless the
    // environment overrides them.
    if (std::getenv("MALLOC_CONF") == nullptr) {
        EXPECT_TRUE(name.ends_with(" (1 arena)")) << name;
    }
#else
    EXPECT_EQ(name, "system malloc");
#endif
}

}  // namespace
}  // namespace agentstream
