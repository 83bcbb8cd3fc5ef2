// Sample catalogue events for tests and benchmarks.
#pragma once

#include <agentstream/event/factory.h>

#include <string>

namespace agentstream::testing {

/// The minimal valid wire JSON of an event of `type`: envelope plus required fields only.
std::string minimal_json(event::EventType type);

/// A fully populated event of each family, built through EventFactory.
event::Event full_event(event::Family family);

}  // namespace agentstream::testing
