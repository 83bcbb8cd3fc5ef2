#include <agentstream/core/time.h>
#include <agentstream/runtime/dead_letter.h>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <stdexcept>

namespace agentstream::runtime {

std::string dead_letter_topic_for(std::string_view topic) {
    return fmt::format("{}.dlq", topic);
}

namespace {
// At most `limit` bytes of `text`, not ending inside a UTF-8 sequence, "..." when cut.
std::string bounded(std::string_view text, std::size_t limit) {
    if (text.size() <= limit) {
        return std::string(text);
    }
    std::size_t end = limit - 3;
    for (int back = 0;
         back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U; ++back) {
        --end;
    }
    return fmt::format("{}...", text.substr(0, end));
}

kafka::Headers headers_of(const kafka::Message& source, const Failure& failure,
                          std::string_view processor, bool with_source_headers) {
    kafka::Headers out;
    if (with_source_headers) {
        for (const auto& [name, value] : source.headers()) {
            if (name.rfind("x-agentstream-", 0) == 0 && name != REPLAYED_FROM &&
                name != REPLAYED_AT) {
                continue;
            }
            out.emplace_back(std::string(name), std::string(value));
        }
    }
    std::string when;
    format_rfc3339(now_utc(), when);
    out.emplace_back(DLQ_ERROR_CLASS, to_string(failure.error_class));
    out.emplace_back(DLQ_ERROR_MESSAGE, bounded(failure.message, DLQ_MAX_MESSAGE_BYTES));
    out.emplace_back(DLQ_SOURCE_TOPIC, source.topic());
    out.emplace_back(DLQ_SOURCE_PARTITION, fmt::format("{}", source.partition()));
    out.emplace_back(DLQ_SOURCE_OFFSET, fmt::format("{}", source.offset()));
    out.emplace_back(DLQ_ATTEMPTS, fmt::format("{}", failure.attempts));
    out.emplace_back(DLQ_PROCESSOR, processor);
    out.emplace_back(DLQ_FAILED_AT, std::move(when));
    return out;
}

// What headers weigh in a record (name, value and each one's length fields).
std::size_t weight(const kafka::Headers& headers) {
    std::size_t n = 0;
    for (const auto& [name, value] : headers) {
        n += name.size() + value.size() + 16;
    }
    return n;
}
}  // namespace

kafka::Headers dead_letter_headers(const kafka::Message& source, const Failure& failure,
                                   std::string_view processor) {
    return headers_of(source, failure, processor, true);
}

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
    }
    return hex;
}

DeadLetterRecord make_dead_letter(const kafka::Message& source, const Failure& failure,
                                  std::string_view processor, std::size_t max_bytes,
                                  DeadLetterFit fit) {
    DeadLetterRecord d;
    d.headers = headers_of(source, failure, processor, fit != DeadLetterFit::HeadersOnly);
    if (source.has_key()) {
        d.key = source.key();
    }
    if (!source.is_null()) {
        d.value = source.value();
    }
    const std::size_t key_size = d.key ? d.key->size() : 0;
    const std::size_t value_size = d.value ? d.value->size() : 0;
    // Room for the truncation headers themselves and the record's own framing.
    constexpr std::size_t reserve = 512;
    const std::size_t used = weight(d.headers) + reserve;
    const std::size_t budget = max_bytes > used ? max_bytes - used : 0;
    std::size_t value_cap = SIZE_MAX;
    std::size_t key_cap = SIZE_MAX;
    if (fit == DeadLetterFit::Preview) {
        value_cap = DLQ_PREVIEW_BYTES;
    } else if (fit == DeadLetterFit::HeadersOnly) {
        value_cap = 0;
        key_cap = 1024;
    }
    std::size_t key_keep = std::min({key_size, key_cap, budget});
    if (key_keep + std::min(value_size, value_cap) > budget) {
        key_keep = std::min(key_keep, budget / 2);  // a huge key leaves the value some room
    }
    const std::size_t value_keep = std::min({value_size, value_cap, budget - key_keep});
    const bool cut_key = key_keep < key_size;
    const bool cut_value = value_keep < value_size;
    if (!cut_key && !cut_value) {
        return d;
    }
    d.truncated = true;
    if (d.key) {
        d.key = d.key->substr(0, key_keep);
    }
    if (d.value) {
        d.value = d.value->substr(0, value_keep);
    }
    d.headers.emplace_back(DLQ_ORIGINAL_BYTES, fmt::format("{}", value_size));
    d.headers.emplace_back(DLQ_ORIGINAL_SHA256,
                           sha256_hex(source.is_null() ? std::string_view() : source.value()));
    if (cut_key) {
        d.headers.emplace_back(DLQ_ORIGINAL_KEY_BYTES, fmt::format("{}", key_size));
    }
    return d;
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
    d.original_bytes = number_or<std::int64_t>(record.header(DLQ_ORIGINAL_BYTES), -1);
    d.original_sha256 = text(DLQ_ORIGINAL_SHA256);
    return d;
}

}  // namespace agentstream::runtime
