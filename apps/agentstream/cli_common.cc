#include "cli_common.h"

namespace agentstream::cli {

int& exit_code() {
    static int code = EXIT_OK;
    return code;
}

}  // namespace agentstream::cli
