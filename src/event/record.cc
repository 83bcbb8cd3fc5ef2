#include <agentstream/event/record.h>

#include <fmt/format.h>

namespace agentstream::event {

std::string record_key(const Event& event) {
    std::string key;
    for (auto name : family_spec(event.family()).key_fields) {
        auto value = event.string(name);
        if (!value || value->empty()) {
            return event.id();
        }
        if (!key.empty()) {
            key += '/';
        }
        key += *value;
    }
    return key.empty() ? event.id() : key;
}

std::vector<std::pair<std::string, std::string>> record_headers(const Event& event) {
    std::vector<std::pair<std::string, std::string>> headers;
    headers.reserve(5);
    headers.emplace_back(HEADER_EVENT_TYPE, to_string(event.type()));
    headers.emplace_back(HEADER_EVENT_ID, event.id());
    if (event.correlation_id()) {
        headers.emplace_back(HEADER_CORRELATION_ID, *event.correlation_id());
    }
    headers.emplace_back(HEADER_SCHEMA_VERSION, fmt::format("{}", event.schema_version()));
    headers.emplace_back(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
    return headers;
}

}  // namespace agentstream::event
