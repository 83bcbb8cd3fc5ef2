// Dead letters: the original record (key, value, headers, byte for byte) plus headers that say
// why it failed and where it came from.
#pragma once

#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>
#include <agentstream/runtime/retry.h>

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
};
/// Reads the dead-letter headers of a record (fields missing from it stay empty / -1).
DeadLetter read_dead_letter(const kafka::Message& record);

}  // namespace agentstream::runtime
