#include "internal/json_escape.h"

#include <array>

namespace agentstream {
namespace {

constexpr std::array<bool, 256> make_escape_table() {
    std::array<bool, 256> table{};
    for (int c = 0; c < 0x20; ++c) {
        table[c] = true;
    }
    table['"'] = true;
    table['\\'] = true;
    return table;
}
constexpr auto NEEDS_ESCAPE = make_escape_table();

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (!NEEDS_ESCAPE[c]) {
            continue;
        }
        out.append(text.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default: {
                static constexpr char HEX[] = "0123456789abcdef";
                char buf[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 0xF]};
                out.append(buf, sizeof buf);
            }
        }
    }
    out.append(text.data() + run_start, text.size() - run_start);
    out += '"';
}

}  // namespace agentstream
