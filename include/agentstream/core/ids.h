// Identifier generation.
#pragma once

#include <string>

namespace agentstream {

/// Returns a new random (version 4, RFC 9562) UUID in its canonical lower-case 36-character form.
/// Uses a per-thread generator seeded from std::random_device; thread-safe, never blocks.
std::string new_uuid();

/// True if `text` is a UUID in canonical 8-4-4-4-12 hexadecimal form (any version).
bool is_uuid(std::string_view text) noexcept;

}  // namespace agentstream
