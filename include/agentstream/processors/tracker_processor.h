// A tracker (TaskTracker, DocumentTracker, AgentTracker: pure state machines) on Kafka: a
// StreamProcessor with one worker (one state, each entity's events in order) that feeds the
// tracker the events of its family and sends what it emits, plus a timer that calls the
// tracker's check() (stuck tasks, expiry) and publishes what that emits through its own
// producer.
#pragma once

#include <agentstream/core/logging.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/agents.h>
#include <agentstream/processors/documents.h>
#include <agentstream/processors/tasks.h>
#include <agentstream/runtime/processor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

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

    /// Runs the processor and the timer until stop().
    void run_with_timer() {
        std::atomic<bool> done{false};
        std::mutex m;
        std::condition_variable cv;
        const auto& po = options();
        kafka::ProducerOptions pro;
        static_cast<kafka::ClientOptions&>(pro) = po.client;
        pro.client_id = po.name + "-timer";
        pro.properties = po.producer_properties;
        kafka::Producer producer(pro);
        std::thread timer([&] {
            std::unique_lock lock(m);
            while (!cv.wait_for(lock, _check_interval, [&] { return done.load(); })) {
                Emitted out;
                {
                    std::lock_guard guard(_mutex);
                    _tracker.check(std::chrono::system_clock::now(), out);
                }
                for (const auto& [topic, e] : out) {
                    if (auto status = producer.send(topic, e); !status.ok()) {
                        logger("runtime")->error("{}: not sent to {}: {}", po.name, topic,
                                                 status.error().message);
                    }
                }
            }
        });
        struct Join {
            std::atomic<bool>& done;
            std::condition_variable& cv;
            std::thread& timer;
            ~Join() {
                done = true;
                cv.notify_all();
                timer.join();
            }
        } join{done, cv, timer};
        run();
        producer.flush(std::chrono::seconds(10));
    }

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
