// Which malloc this process runs on (agentstream links jemalloc: docs/architecture.md).
#pragma once

#include <string>

namespace agentstream {

/// "jemalloc 5.3.0-0-g54eaed1d8b56… (1 arena)" when jemalloc serves malloc in this process
/// (with how many arenas it was configured to use), otherwise
/// "system malloc" (sanitizer builds, or a build configured with -DAGENTSTREAM_JEMALLOC=OFF).
std::string allocator_name();

}  // namespace agentstream
