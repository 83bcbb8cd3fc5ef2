// A tracker (TaskTracker, DocumentTracker, AgentTracker: pure state machines) on Kafka: a
// StreamProcessor with one worker (one state, each entity's events in order) that feeds the
// tracker the events of its family and sends what it emits, and calls the tracker's check()
// (stuck tasks, expiry) every check interval as its punctuation, on the same thread and
// producer. run() and stop() as for any processor.
#pragma once

#include <agentstream/processors/agents.h>
#include <agentstream/processors/documents.h>
#include <agentstream/processors/tasks.h>
#include <agentstream/runtime/processor.h>

#include <chrono>
#include <mutex>

namespace agentstream::processors {

template <class Tracker>
class TrackerProcessor : public runtime::StreamProcessor {
  public:
    /// `options.workers` is forced to 1; `tracker_args` construct the tracker (its options).
    template <class... Args>
    TrackerProcessor(runtime::ProcessorOptions options, event::Family family,
                     std::chrono::milliseconds check_interval, Args&&... tracker_args)
        : runtime::StreamProcessor(one_worker(std::move(options))),
          _family(family),
          _tracker(std::forward<Args>(tracker_args)...),
          _check_interval(check_interval) {}

    auto tracker_stats() const {
        std::lock_guard lock(_mutex);
        return _tracker.stats();
    }
    /// Calls `f(const Tracker&)` under the tracker's lock and returns what it returns.
    template <class F>
    auto with_tracker(F&& f) const {
        std::lock_guard lock(_mutex);
        return std::forward<F>(f)(static_cast<const Tracker&>(_tracker));
    }

  protected:
    std::chrono::milliseconds punctuation_interval() const noexcept override {
        return _check_interval;
    }
    void punctuate(std::chrono::steady_clock::time_point, runtime::Emitter& out) override {
        Emitted emitted;
        {
            std::lock_guard lock(_mutex);
            _tracker.check(std::chrono::system_clock::now(), emitted);
        }
        for (const auto& [topic, e] : emitted) {
            out.emit(topic, e);
        }
    }
    bool process(const event::Event& event, runtime::Context& context) override {
        if (event.family() != _family) {
            return false;
        }
        Emitted out;
        {
            std::lock_guard lock(_mutex);
            _tracker.on_event(event, out);
        }
        for (const auto& [topic, e] : out) {
            context.emit(topic, e);
        }
        return true;
    }

  private:
    static runtime::ProcessorOptions one_worker(runtime::ProcessorOptions o) {
        o.workers = 1;
        return o;
    }
    event::Family _family;
    mutable std::mutex _mutex;  // the tracker: processing thread and timer
    Tracker _tracker;
    std::chrono::milliseconds _check_interval;
};

using TaskStreamProcessor = TrackerProcessor<TaskTracker>;
using DocumentStreamProcessor = TrackerProcessor<DocumentTracker>;
using AgentStreamProcessor = TrackerProcessor<AgentTracker>;

}  // namespace agentstream::processors
