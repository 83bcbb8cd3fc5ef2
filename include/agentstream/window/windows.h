// Keyed windows on event time: tumbling, hopping, sliding, session and count windows, with
// watermarks (the largest event time seen, minus the allowed out-of-orderness), allowed
// lateness, late events reported instead of dropped, results when a window closes and,
// on request, early updates of the windows that changed. Single-threaded (one per processing
// thread or partition); bounded (a key limit); every key's state serialises for a changelog.
#pragma once

#include <agentstream/window/aggregate.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentstream::window {

/// Event time, milliseconds since the Unix epoch.
using Millis = std::int64_t;

enum class WindowKind : std::uint8_t { Tumbling, Hopping, Sliding, Session, Count };
std::string_view to_string(WindowKind k) noexcept;

struct WindowSpec {
    WindowKind kind = WindowKind::Tumbling;
    /// Tumbling, hopping, sliding: the window's length.
    std::chrono::milliseconds size{0};
    /// Hopping: how far each window starts after the previous (size a multiple of it).
    std::chrono::milliseconds advance{0};
    /// Session: a key's session ends after this much event time without an event.
    std::chrono::milliseconds gap{0};
    /// Count: events per window (per key).
    std::uint64_t count = 0;
    /// The watermark trails the largest event time seen by this much (events up to this much
    /// out of order are on time).
    std::chrono::milliseconds out_of_orderness{0};
    /// A window stays open this long past the watermark reaching its end: events for it that
    /// arrive meanwhile still count. Its result is emitted when the watermark passes
    /// end + allowed_lateness (early updates, on request, say what it holds before that).
    std::chrono::milliseconds allowed_lateness{0};
    AggregateOptions aggregates;
    /// Keys held at most; events of further keys are refused (AddResult::Overflow).
    std::size_t max_keys = 1'000'000;

    static WindowSpec tumbling(std::chrono::milliseconds size);
    static WindowSpec hopping(std::chrono::milliseconds size, std::chrono::milliseconds advance);
    static WindowSpec sliding(std::chrono::milliseconds size);
    static WindowSpec session(std::chrono::milliseconds gap);
    static WindowSpec counting(std::uint64_t count);
    /// Throws std::invalid_argument naming what is wrong (zero size, size not a multiple of
    /// the advance, ...).
    void validate() const;
};

struct WindowResult {
    std::string key;
    Millis start = 0;  ///< inclusive
    Millis end = 0;    ///< exclusive (sliding and session: the last event's time + 1)
    Aggregate aggregate;
    /// true: the window closed (its final result); false: an early or sliding update.
    bool final = true;
};

enum class AddResult : std::uint8_t {
    Added,
    Late,      ///< every window it belongs to has closed: send it to the late-events topic
    Overflow,  ///< a new key beyond max_keys
};

struct WindowStats {
    std::uint64_t added = 0, late = 0, overflow = 0, emitted = 0;
    std::size_t keys = 0, open_windows = 0;
};

class WindowedAggregator {
  public:
    /// Throws std::invalid_argument for an invalid spec.
    explicit WindowedAggregator(WindowSpec spec);
    ~WindowedAggregator();
    WindowedAggregator(const WindowedAggregator&) = delete;
    WindowedAggregator& operator=(const WindowedAggregator&) = delete;

    /// Adds an event's value (and, with distinct counting, its distinct hash). Results of
    /// windows this closes (through the watermark it advances) and sliding or count results
    /// are appended to `out`.
    AddResult add(std::string_view key, Millis event_time, double value,
                  std::vector<WindowResult>& out, std::uint64_t distinct = 0);
    /// Moves the watermark to at least `watermark` (e.g. from processing time when a source
    /// goes idle, or at the end of input) and closes what that closes.
    void advance_watermark(Millis watermark, std::vector<WindowResult>& out);
    /// Closes every open window (end of input).
    void flush(std::vector<WindowResult>& out);
    /// Early updates: the current value of every open window changed since the last call.
    void early_updates(std::vector<WindowResult>& out);

    Millis watermark() const noexcept { return _watermark; }
    WindowStats stats() const;
    const WindowSpec& spec() const noexcept { return _spec; }

    // ---- checkpoints (a compacted changelog topic keyed by key) ----
    /// Every key with state.
    std::vector<std::string> keys() const;
    /// Keys whose state changed since the last call (each once).
    std::vector<std::string> take_changed_keys();
    /// A key's state, or nullopt when it has none (write a tombstone).
    std::optional<std::string> key_state(std::string_view key) const;
    /// Restores a key's state from key_state()'s bytes; false when they are malformed.
    bool restore_key(std::string_view key, std::string_view state);
    /// The watermark to restore with the keys (the largest seen, not the trailing one).
    Millis max_event_time() const noexcept { return _max_event_time; }
    void restore_max_event_time(Millis t);

  private:
    struct Window {
        Millis start;
        Millis end;
        Aggregate aggregate;
        bool dirty = false;
        std::uint64_t version = 0;
    };
    struct Sample {  // sliding windows keep their events
        Millis time;
        double value;
        std::uint64_t distinct;
    };
    struct KeyState {
        std::string key;
        std::vector<Window> windows;  // sorted by start
        std::deque<Sample> recent;    // sliding, sorted by time
        bool changed = false;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct Equal {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
    };
    // A window to close at the map's key: (key, window start, version when scheduled). Stale
    // entries (a session that grew or merged) are skipped when their version moved on.
    struct Closing {
        std::string key;
        Millis start;
        std::uint64_t version;
    };

    KeyState* state_for(std::string_view key, bool* overflow);
    Window& window_for(KeyState& k, Millis start, Millis end);
    void schedule(const KeyState& k, const Window& w);
    void observe(Millis t, std::vector<WindowResult>& out);
    void close_due(std::vector<WindowResult>& out);
    void mark_changed(KeyState& k);
    void drop_if_empty(KeyState& k);
    AddResult add_time_window(KeyState& k, Millis t, double value, std::uint64_t distinct,
                              std::vector<WindowResult>& out);
    AddResult add_session(KeyState& k, Millis t, double value, std::uint64_t distinct,
                          std::vector<WindowResult>& out);
    AddResult add_sliding(KeyState& k, Millis t, double value, std::vector<WindowResult>& out);
    AddResult add_count(KeyState& k, Millis t, double value, std::uint64_t distinct,
                        std::vector<WindowResult>& out);
    Millis close_time(const Window& w) const noexcept;

    WindowSpec _spec;
    std::unordered_map<std::string, std::unique_ptr<KeyState>, Hash, Equal> _keys;
    std::multimap<Millis, Closing> _closing;
    std::vector<std::string> _changed;
    Millis _max_event_time = INT64_MIN;
    Millis _watermark = INT64_MIN;
    std::size_t _open = 0;
    std::uint64_t _next_version = 1;
    WindowStats _stats;
};

}  // namespace agentstream::window
