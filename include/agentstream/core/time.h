// Time points as carried by events: UTC, microsecond precision, RFC 3339 text.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace agentstream {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// The current UTC time, truncated to microseconds.
Timestamp now_utc() noexcept;

/// Formats as RFC 3339 UTC with exactly six fractional digits and `Z`,
/// e.g. `2026-11-27T08:03:39.079210Z`. Appends to `out`.
void format_rfc3339(Timestamp ts, std::string& out);
std::string format_rfc3339(Timestamp ts);

/// Parses an RFC 3339 / ISO 8601 date-time: `T` or a space between date and time, 0 to 9
/// fractional digits (beyond microseconds truncated), and `Z`, `+hh:mm`, `-hh:mm` or no zone.
/// No zone is read as UTC: that is how the Python producers agentstream reads wrote their
/// (naive) times.
/// Returns nullopt for anything else, including out-of-range fields.
std::optional<Timestamp> parse_rfc3339(std::string_view text) noexcept;

/// The longest duration parse_duration() accepts: ten years (87600h). Far beyond any window,
/// timeout or alert hold, and far from where a time point plus it overflows a clock.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours(87600);

/// Parses a duration: `250ms`, `30s`, `5m`, `1h`, `1h30m`; nullopt when malformed or longer
/// than max_duration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

}  // namespace agentstream
