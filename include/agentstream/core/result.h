// Result<T, E>: the value-or-error type for per-event outcomes (habit 4 in STYLE.md).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace agentstream {

/// A failure with a message a user can act on.
struct Error {
    std::string message;
};

/// Wraps an error value so that Result<T, E> can be built from it even when T and E convert.
template <class E>
struct Failure {
    E error;
};

template <class E>
Failure<std::decay_t<E>> failure(E&& error) {
    return {std::forward<E>(error)};
}

/// Holds either a value of type T or an error of type E. Accessing the wrong alternative is a
/// programming error (asserted in debug builds).
template <class T, class E = Error>
class [[nodiscard]] Result {
  public:
    Result(T value) : _state(std::in_place_index<0>, std::move(value)) {}  // NOLINT
    template <class F>
    Result(Failure<F> f) : _state(std::in_place_index<1>, std::move(f.error)) {}  // NOLINT

    bool ok() const noexcept { return _state.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(_state);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(_state);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(_state));
    }
    E& error() & {
        assert(!ok());
        return std::get<1>(_state);
    }
    const E& error() const& {
        assert(!ok());
        return std::get<1>(_state);
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

  private:
    std::variant<T, E> _state;
};

/// Success without a value, or an error.
template <class E>
class [[nodiscard]] Result<void, E> {
  public:
    Result() = default;
    template <class F>
    Result(Failure<F> f) : _error(std::move(f.error)) {}  // NOLINT

    bool ok() const noexcept { return !_error.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    const E& error() const& {
        assert(!ok());
        return *_error;
    }

  private:
    std::optional<E> _error;
};

using Status = Result<void, Error>;

}  // namespace agentstream
