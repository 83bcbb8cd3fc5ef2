#include <agentstream/version.h>

namespace agentstream {

const char* library_version() noexcept {
    return AGENTSTREAM_VERSION_STRING;
}

}  // namespace agentstream
