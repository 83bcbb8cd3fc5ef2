#include <agentstream/core/time.h>
#include <agentstream/runtime/dead_letter.h>

#include <fmt/format.h>

#include <charconv>

namespace agentstream::runtime {

std::string dead_letter_topic_for(std::string_view topic) {
    return fmt::format("{}.dlq", topic);
}

kafka::Headers dead_letter_headers(const kafka::Message& source, const Failure& failure,
                                   std::string_view processor) {
    kafka::Headers out;
    for (const auto& [name, value] : source.headers()) {
        if (name.rfind("x-agentstream-", 0) == 0 && name != REPLAYED_FROM && name != REPLAYED_AT) {
            continue;
        }
        out.emplace_back(std::string(name), std::string(value));
    }
    std::string when;
    format_rfc3339(now_utc(), when);
    out.emplace_back(DLQ_ERROR_CLASS, to_string(failure.error_class));
    out.emplace_back(DLQ_ERROR_MESSAGE, failure.message);
    out.emplace_back(DLQ_SOURCE_TOPIC, source.topic());
    out.emplace_back(DLQ_SOURCE_PARTITION, fmt::format("{}", source.partition()));
    out.emplace_back(DLQ_SOURCE_OFFSET, fmt::format("{}", source.offset()));
    out.emplace_back(DLQ_ATTEMPTS, fmt::format("{}", failure.attempts));
    out.emplace_back(DLQ_PROCESSOR, processor);
    out.emplace_back(DLQ_FAILED_AT, std::move(when));
    return out;
}

namespace {
template <class T>
T number_or(std::optional<std::string_view> text, T fallback) {
    if (!text) {
        return fallback;
    }
    T value{};
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    return ec == std::errc() && end == text->data() + text->size() ? value : fallback;
}
}  // namespace

DeadLetter read_dead_letter(const kafka::Message& record) {
    DeadLetter d;
    auto text = [&](std::string_view name) {
        auto v = record.header(name);
        return v ? std::string(*v) : std::string();
    };
    d.error_class_text = text(DLQ_ERROR_CLASS);
    ErrorClass c{};
    if (parse_error_class(d.error_class_text, c)) {
        d.error_class = c;
    }
    d.message = text(DLQ_ERROR_MESSAGE);
    d.source_topic = text(DLQ_SOURCE_TOPIC);
    d.source_partition = number_or<std::int32_t>(record.header(DLQ_SOURCE_PARTITION), -1);
    d.source_offset = number_or<std::int64_t>(record.header(DLQ_SOURCE_OFFSET), -1);
    d.attempts = number_or<int>(record.header(DLQ_ATTEMPTS), 0);
    d.processor = text(DLQ_PROCESSOR);
    d.failed_at = text(DLQ_FAILED_AT);
    return d;
}

}  // namespace agentstream::runtime
