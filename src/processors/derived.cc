#include "processors/derived.h"

#include <agentstream/event/factory.h>

#include <fmt/format.h>

#include "internal/json_escape.h"

namespace agentstream::processors::detail {

std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

window::Millis to_millis(Timestamp t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string time_text(window::Millis ms) {
    return format_rfc3339(Timestamp(std::chrono::milliseconds(ms)));
}

std::int64_t ms_between(Timestamp from, Timestamp to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

std::string window_bounds(const window::WindowResult& r) {
    return fmt::format("{}..{}", time_text(r.start), time_text(r.end));
}

event::Event metric_event(std::string_view source, std::string_view name, double value,
                          const char* kind, std::string_view subject_tag, std::string_view subject,
                          const event::Event& cause, Tags tags) {
    auto e = event::EventFactory::analytics(
        std::string(name), value, kind, fmt::format("{}:{}", source, subject), std::string(source));
    std::string t = "{" + json_string(subject_tag) + ":" + json_string(subject);
    for (const auto& [k, v] : tags) {
        t += fmt::format(",{}:{}", json_string(k), json_string(v));
    }
    e.set("tags", event::RawJson{t + "}"});
    e.set_timestamp(cause.timestamp());
    e.set_correlation_id(cause.correlation_id());
    e.set_causation_id(cause.id());
    return e;
}

}  // namespace agentstream::processors::detail
