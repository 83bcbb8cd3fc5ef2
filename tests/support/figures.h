// Reliability figures from the tests themselves: a test that proves something measurable (events
// in, lost, duplicates, faults injected) records it with figure(); scripts/test.sh collects the
// lines (AGENTSTREAM_FIGURES names the file) and prints them at the end of the run, and
// docs/reliability.md holds a run's table. Outside test.sh they go to standard output only.
#pragma once

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

namespace agentstream::testing {

inline void figure(const std::string& what, const std::string& value) {
    std::cout << "figure: " << what << ": " << value << "\n";
    if (const char* file = std::getenv("AGENTSTREAM_FIGURES"); file != nullptr && *file != '\0') {
        std::ofstream(file, std::ios::app) << what << "\t" << value << "\n";
    }
}

}  // namespace agentstream::testing
