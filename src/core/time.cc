#include <agentstream/core/time.h>

#include <charconv>
#include <cstdio>

namespace agentstream {
namespace {

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& value) noexcept {
    if (pos + count > text.size()) {
        return false;
    }
    value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        char c = text[i];
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + (c - '0');
    }
    return true;
}

}  // namespace

Timestamp now_utc() noexcept {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
}

void format_rfc3339(Timestamp ts, std::string& out) {
    using namespace std::chrono;
    auto day = floor<days>(ts);
    year_month_day ymd{day};
    hh_mm_ss<microseconds> tod{ts - day};
    char buf[40];
    int n = std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06ldZ", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
        static_cast<int>(tod.seconds().count()), static_cast<long>(tod.subseconds().count()));
    out.append(buf, static_cast<std::size_t>(n));
}

std::string format_rfc3339(Timestamp ts) {
    std::string out;
    format_rfc3339(ts, out);
    return out;
}

std::optional<Timestamp> parse_rfc3339(std::string_view text) noexcept {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!digits(text, 0, 4, y) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, mo) ||
        text[7] != '-' || !digits(text, 8, 2, d) ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, h) ||
        text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s)) {
        return std::nullopt;
    }
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    long micros = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (pos - start < 6) {
                micros = micros * 10 + (text[pos] - '0');
            }
            ++pos;
        }
        std::size_t count = pos - start;
        if (count == 0 || count > 9) {
            return std::nullopt;
        }
        for (std::size_t i = count; i < 6; ++i) {
            micros *= 10;
        }
    }
    int offset_minutes = 0;
    if (pos < text.size()) {
        char z = text[pos];
        if ((z == 'Z' || z == 'z') && pos + 1 == text.size()) {
            // UTC
        } else if ((z == '+' || z == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
            int oh = 0, om = 0;
            if (!digits(text, pos + 1, 2, oh) || !digits(text, pos + 4, 2, om) || oh > 23 ||
                om > 59) {
                return std::nullopt;
            }
            offset_minutes = (oh * 60 + om) * (z == '+' ? 1 : -1);
        } else {
            return std::nullopt;
        }
    }
    // A leap second (:60) is folded into the next second, as most systems do.
    auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + microseconds{micros} -
              minutes{offset_minutes};
    return time_point_cast<microseconds>(tp);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
    if (text.empty()) {
        return std::nullopt;
    }
    std::chrono::milliseconds total{0};
    while (!text.empty()) {
        std::int64_t n = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || ptr == text.data() || n < 0) {
            return std::nullopt;
        }
        text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
        std::int64_t unit_ms = 0;
        if (text.starts_with("ms")) {
            unit_ms = 1;
            text.remove_prefix(2);
        } else if (text.starts_with("s")) {
            unit_ms = 1000;
            text.remove_prefix(1);
        } else if (text.starts_with("m")) {
            unit_ms = 60'000;
            text.remove_prefix(1);
        } else if (text.starts_with("h")) {
            unit_ms = 3'600'000;
            text.remove_prefix(1);
        } else {
            return std::nullopt;
        }
        // Checked before multiplying: 2600000h must be refused, not wrap around.
        auto left = max_duration.count() - total.count();
        if (n > left / unit_ms) {
            return std::nullopt;
        }
        total += std::chrono::milliseconds(n * unit_ms);
    }
    return total;
}

}  // namespace agentstream
