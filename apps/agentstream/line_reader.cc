#include "line_reader.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli_common.h"

namespace agentstream::cli {

namespace {
constexpr std::size_t CHUNK = 64 * 1024;
}

LineReader::LineReader(const std::string& path, std::size_t max_line_bytes)
    : _path(path == "-" ? std::string("standard input") : path), _max(max_line_bytes) {
    if (path == "-") {
        _fd = STDIN_FILENO;
    } else {
        _fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (_fd < 0) {
            throw UsageError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)),
                             "Give a JSON Lines file, or - to read standard input.");
        }
        _owned = true;
    }
    // A whole line of the bound, its newline and one more chunk to read into.
    _buffer.resize(_max + 1 + CHUNK);
}

LineReader::~LineReader() {
    if (_owned) {
        ::close(_fd);
    }
}

bool LineReader::fill() {
    if (_eof) {
        return false;
    }
    if (_begin > 0) {  // keep the unread part at the front
        std::memmove(_buffer.data(), _buffer.data() + _begin, _end - _begin);
        _end -= _begin;
        _begin = 0;
    }
    if (_end == _buffer.size()) {
        return true;  // full: the caller deals with a line longer than the bound
    }
    for (;;) {
        auto n = ::read(_fd, _buffer.data() + _end, _buffer.size() - _end);
        if (n > 0) {
            _end += static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) {
            _eof = true;
            return false;
        }
        if (errno != EINTR) {
            auto where = _number == 0 ? _path : fmt::format("{} after line {}", _path, _number);
            throw RuntimeError(fmt::format("reading {}: {}", where, std::strerror(errno)));
        }
    }
}

bool LineReader::next(Line& line) {
    std::size_t scanned = _begin;
    for (;;) {
        auto* start = _buffer.data() + scanned;
        auto* nl = static_cast<char*>(std::memchr(start, '\n', _end - scanned));
        if (nl != nullptr) {
            auto length = static_cast<std::size_t>(nl - (_buffer.data() + _begin));
            line = {++_number, std::string_view(_buffer.data() + _begin, length), false, length};
            _begin += length + 1;
            return true;
        }
        if (_end - _begin > _max) {
            // Too long: drop what is buffered and read on to its newline, holding nothing.
            std::size_t length = _end - _begin;
            _begin = _end = 0;
            for (;;) {
                if (!fill()) {
                    break;
                }
                auto* end_of_line = static_cast<char*>(std::memchr(_buffer.data(), '\n', _end));
                if (end_of_line != nullptr) {
                    auto part = static_cast<std::size_t>(end_of_line - _buffer.data());
                    length += part;
                    _begin = part + 1;
                    break;
                }
                length += _end;
                _end = 0;
            }
            line = {++_number, {}, true, length};
            return true;
        }
        auto unread = _end - _begin;
        if (!fill()) {
            if (_end > _begin) {  // a last line without its newline
                auto length = _end - _begin;
                line = {++_number, std::string_view(_buffer.data() + _begin, length), false,
                        length};
                _begin = _end;
                return true;
            }
            return false;
        }
        scanned = _begin + unread;  // fill() moved the unread bytes to the front
    }
}

std::string LineReader::too_long_message(const Line& line) const {
    return fmt::format("line {}: {} bytes, more than the {} a line may have (skipped)", line.number,
                       line.length, _max);
}

}  // namespace agentstream::cli
