// Helpers the trackers share for the events they derive (private to the processors module).
#pragma once

#include <agentstream/core/time.h>
#include <agentstream/event/event.h>
#include <agentstream/window/windows.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace agentstream::processors::detail {

using Tags = std::initializer_list<std::pair<const char*, std::string>>;

/// An analytics.metric.update about `subject` (service `SOURCE:SUBJECT`, tag
/// `subject_tag: subject` plus `tags`), stamped with the time of the event it measures (so
/// windows downstream count it where it happened) and carrying its correlation id.
event::Event metric_event(std::string_view source, std::string_view name, double value,
                          const char* kind, std::string_view subject_tag, std::string_view subject,
                          const event::Event& cause, Tags tags = {});

std::string json_string(std::string_view s);
window::Millis to_millis(Timestamp t);
/// RFC 3339 text of an event time in milliseconds.
std::string time_text(window::Millis ms);
/// Whole milliseconds from `from` to `to`.
std::int64_t ms_between(Timestamp from, Timestamp to);
/// `START..END` of a window, RFC 3339.
std::string window_bounds(const window::WindowResult& r);

}  // namespace agentstream::processors::detail
