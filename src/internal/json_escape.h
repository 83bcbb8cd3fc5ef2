// Internal (src/internal: shared by modules, never installed, no API promise).
// JSON string escaping shared by the event codec and the JSON log formatter.
#pragma once

#include <string>
#include <string_view>

namespace agentstream {

/// Appends `text` to `out` as a quoted JSON string. Escapes `"`, `\` and control characters;
/// other bytes (UTF-8 included) are copied as they are.
void append_json_string(std::string& out, std::string_view text);

}  // namespace agentstream
