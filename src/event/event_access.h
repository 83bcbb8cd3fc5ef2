// Codec-internal access to Event: builds an event without generating an id or a timestamp.
#pragma once

#include <agentstream/event/event.h>

namespace agentstream::event {

struct EventAccess {
    static Event blank(EventType type) { return Event(type, Event::Blank{}); }
    static std::vector<std::pair<std::string, RawJson>>& extra(Event& e) { return e._extra; }
    /// The catalogue default of a Presence::Defaulted field.
    static Value default_value(const FieldSpec& spec);
};

}  // namespace agentstream::event
