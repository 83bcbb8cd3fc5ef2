// Dead letters: the original record (key, value, headers, byte for byte) plus headers that say
// why it failed and where it came from.
#pragma once

#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>
#include <agentstream/runtime/retry.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentstream::runtime {

inline constexpr std::string_view DLQ_ERROR_CLASS = "x-agentstream-error-class";
inline constexpr std::string_view DLQ_ERROR_MESSAGE = "x-agentstream-error-message";
inline constexpr std::string_view DLQ_SOURCE_TOPIC = "x-agentstream-source-topic";
inline constexpr std::string_view DLQ_SOURCE_PARTITION = "x-agentstream-source-partition";
inline constexpr std::string_view DLQ_SOURCE_OFFSET = "x-agentstream-source-offset";
inline constexpr std::string_view DLQ_ATTEMPTS = "x-agentstream-attempts";
inline constexpr std::string_view DLQ_PROCESSOR = "x-agentstream-processor";
inline constexpr std::string_view DLQ_FAILED_AT = "x-agentstream-failed-at";
/// Added by `dlq replay`: `<dead-letter topic>/<partition>/<offset>` and when.
inline constexpr std::string_view REPLAYED_FROM = "x-agentstream-replayed-from";
inline constexpr std::string_view REPLAYED_AT = "x-agentstream-replayed-at";

/// On a dead letter whose original did not fit its topic: the original value's size in bytes
/// and its SHA-256 (hex). The record then carries only the start of the value (or none), and
/// `dlq replay` leaves it alone.
inline constexpr std::string_view DLQ_ORIGINAL_BYTES = "x-agentstream-original-bytes";
inline constexpr std::string_view DLQ_ORIGINAL_SHA256 = "x-agentstream-original-sha256";
/// Also when the key had to be cut: the original key's size.
inline constexpr std::string_view DLQ_ORIGINAL_KEY_BYTES = "x-agentstream-original-key-bytes";
/// The longest error message a dead letter carries (longer ones are cut, marked with "...").
inline constexpr std::size_t DLQ_MAX_MESSAGE_BYTES = 8192;
/// The value a dead letter keeps once the broker has refused the whole record for its size.
inline constexpr std::size_t DLQ_PREVIEW_BYTES = 64 * 1024;

/// Default dead-letter topic of an input topic.
std::string dead_letter_topic_for(std::string_view topic);

/// Why and where a record failed.
struct Failure {
    ErrorClass error_class = ErrorClass::Permanent;
    std::string message;
    int attempts = 1;
};

/// The dead letter's headers: the original ones (minus any earlier dead-letter headers, so a
/// record that fails again carries only its latest reason), then the failure's.
kafka::Headers dead_letter_headers(const kafka::Message& source, const Failure& failure,
                                   std::string_view processor);

/// How much of the original a dead letter keeps.
enum class DeadLetterFit {
    Whole,        ///< all of it, cut only as far as `max_bytes` needs
    Preview,      ///< at most DLQ_PREVIEW_BYTES of the value (the broker refused more)
    HeadersOnly,  ///< no value, at most 1 KiB of key, none of the original headers
};

/// A dead letter ready to send: views into the source record plus its headers.
struct DeadLetterRecord {
    std::optional<std::string_view> key;
    std::optional<std::string_view> value;  ///< nullopt: a null value
    kafka::Headers headers;
    bool truncated = false;
};

/// The dead letter of `source`, at most `max_bytes` of key, value and headers together (the
/// producer's message.max.bytes less its record overhead). When the original does not fit, or
/// `fit` asks for less, its value (and key, if need be) are cut and DLQ_ORIGINAL_BYTES,
/// DLQ_ORIGINAL_SHA256 say what it was.
DeadLetterRecord make_dead_letter(const kafka::Message& source, const Failure& failure,
                                  std::string_view processor, std::size_t max_bytes,
                                  DeadLetterFit fit = DeadLetterFit::Whole);

/// SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

/// A dead letter as read back.
struct DeadLetter {
    std::optional<ErrorClass> error_class;  ///< nullopt when the header is missing or unknown
    std::string error_class_text;
    std::string message;
    std::string source_topic;
    std::int32_t source_partition = -1;
    std::int64_t source_offset = -1;
    int attempts = 0;
    std::string processor;
    std::string failed_at;
    std::int64_t original_bytes = -1;  ///< >= 0: the value was cut from this many bytes
    std::string original_sha256;
    bool truncated() const { return original_bytes >= 0; }
};
/// Reads the dead-letter headers of a record (fields missing from it stay empty / -1).
DeadLetter read_dead_letter(const kafka::Message& record);

}  // namespace agentstream::runtime
