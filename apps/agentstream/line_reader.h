// Reads JSON Lines from a file or standard input with a bound on each line: a line longer than
// the bound is skipped (its bytes are read and dropped, never held), reported as that line's
// error, and reading goes on with the next line. A read that fails throws; the end of input is
// the only way reading stops quietly.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::cli {

class LineReader {
  public:
    /// `path` is a file, or "-" for standard input. Throws UsageError when it cannot be opened.
    LineReader(const std::string& path, std::size_t max_line_bytes);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    struct Line {
        std::size_t number = 0;  ///< 1-based
        std::string_view text;   ///< without its newline; empty when too_long
        bool too_long = false;   ///< longer than the bound: skipped
        std::size_t length = 0;  ///< its length in bytes (also when too_long)
    };

    /// The next line, or false at the end of the input. Throws RuntimeError when reading fails
    /// (the lines before were given out; the caller must not report success).
    bool next(Line& line);

    /// What to print for a skipped line.
    std::string too_long_message(const Line& line) const;
    std::size_t max_line_bytes() const noexcept { return _max; }

  private:
    bool fill();

    std::string _path;
    int _fd = -1;
    bool _owned = false;
    bool _eof = false;
    std::size_t _max;
    std::vector<char> _buffer;
    std::size_t _begin = 0;  // unread bytes are [_begin, _end)
    std::size_t _end = 0;
    std::size_t _number = 0;
};

}  // namespace agentstream::cli
