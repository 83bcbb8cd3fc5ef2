// The real Kafka broker the e2e tests run against: scripts/test.sh starts it and exports
// AGENTSTREAM_E2E_BROKERS. Without it a test fails (it never skips).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace agentstream::testing {

inline std::string e2e_brokers() {
    const char* b = std::getenv("AGENTSTREAM_E2E_BROKERS");
    if (b == nullptr || *b == '\0') {
        ADD_FAILURE() << "AGENTSTREAM_E2E_BROKERS is not set: run the e2e tests through "
                         "scripts/test.sh, which starts a real Kafka broker";
        return "127.0.0.1:1";
    }
    return b;
}

}  // namespace agentstream::testing
