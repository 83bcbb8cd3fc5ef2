#include <agentstream/core/histogram.h>
#include <agentstream/core/time.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/processor.h>

#include <array>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include "internal/log.h"
#include "runtime/offset_tracker.h"

namespace agentstream::runtime {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- Context ----

// Outputs live in a buffer the processing thread reuses from record to record: a reused entry
// keeps its strings' capacity, so a steady stream allocates nothing here.
Context::Output& Context::next_output(std::string_view topic) {
    if (_count == _outputs->size()) {
        _outputs->emplace_back();
    }
    auto& out = (*_outputs)[_count++];
    out.topic.assign(topic);
    out.forward = false;
    out.record_headers = false;
    out.key.clear();
    out.value.clear();
    out.headers.clear();
    return out;
}

void Context::emit(std::string_view topic, const event::Event& event) {
    auto& out = next_output(topic);
    out.key = event::record_key(event);
    event::encode(event, out.value);
    out.headers = event::record_headers(event);
}

void Context::send(std::string_view topic, std::string key, std::string value,
                   kafka::Headers headers) {
    auto& out = next_output(topic);
    out.key = std::move(key);
    out.value = std::move(value);
    out.headers = std::move(headers);
}

void Context::send(std::string_view topic, std::string key, std::string value) {
    auto& out = next_output(topic);
    out.key = std::move(key);
    out.value = std::move(value);
    out.record_headers = true;
}

void Context::send_copy(std::string_view topic, std::string_view key, std::string_view value) {
    auto& out = next_output(topic);
    out.key.assign(key);
    out.value.assign(value);
    out.record_headers = true;
}

void Context::forward(std::string_view topic) {
    next_output(topic).forward = true;
}

// ---- StreamProcessor ----

namespace detail {

// One received record until it is committable. Shared with the delivery callbacks of its
// outputs (or of its dead letter), and with its Deferred when the handler deferred it.
struct InFlight final : kafka::DeliverySink {
    kafka::Message record;
    void* impl = nullptr;  // the StreamProcessor::Impl it belongs to
    // Impl::on_output_report, for the delivery reports of its outputs.
    void (*report)(void* impl, InFlight* self, const kafka::DeliveryReport& r) = nullptr;
    std::uint64_t generation = 0;  // of its partition's assignment
    Clock::time_point received;
    std::optional<Timestamp> event_time;
    int type = -1;  // event::EventType once decoded
    int attempts = 1;
    bool dead_letter = false;  // what is pending is its dead letter, not outputs
    bool counted = false;      // its outcome (processed / unhandled) is already counted
    Failure failure;           // when dead_letter
    DeadLetterFit fit = DeadLetterFit::Whole;  // how much of it its dead letter keeps
    std::atomic<bool> too_large{false};        // a delivery was refused for its size
    bool letter_truncated = false;             // the dead letter sent holds only part of it
    std::atomic<bool> abandoned{false};        // its Deferred gave it up: never committable
    // Holds on its completion: 1 while the handler runs (and its outputs are queued), one per
    // output not yet acknowledged, one while a Deferred holds it. The last one released hands
    // the record to the completion queue.
    std::atomic<int> pending{0};
    std::atomic<bool> failed{false};
    // Owns this record while deliveries are pending (callbacks hold a plain pointer, which fits
    // std::function's small buffer); handed to the completion queue by the last one.
    std::shared_ptr<InFlight> keep_alive;
    std::mutex error_mutex;
    std::string error;  // first delivery error

    explicit InFlight(kafka::Message m) : record(std::move(m)) {}
    void on_delivery(const kafka::DeliveryReport& r) noexcept override { report(impl, this, r); }
};

}  // namespace detail

Deferred Context::defer() {
    if (_owner == nullptr) {
        throw std::logic_error(
            "defer(): events are deferred only at-least-once (exactly-once commits each "
            "transaction's events together)");
    }
    if (_deferred) {
        throw std::logic_error("defer() called twice for one event");
    }
    _deferred = true;
    const auto& f = *_owner;
    f->pending.fetch_add(1, std::memory_order_acq_rel);  // released by complete() / abandon()
    return Deferred(f);
}

namespace {

using detail::InFlight;

// Looks partitions up by a consumed record's topic view, without building a std::string.
struct PartitionLess {
    using is_transparent = void;
    using View = std::pair<std::string_view, std::int32_t>;
    static View view(const kafka::TopicPartition& tp) { return {tp.topic, tp.partition}; }
    static View view(const View& v) { return v; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
        return view(a) < view(b);
    }
};

struct PartitionState {
    detail::OffsetTracker tracker;
    std::uint64_t generation = 0;
    std::int64_t to_store = -1;      // committable position not yet stored in the consumer
    std::int64_t handled_next = -1;  // after the last record handed to the handler
};

}  // namespace

struct StreamProcessor::Impl {
    StreamProcessor* self = nullptr;
    ProcessorOptions options;
    std::string group_id;
    std::shared_ptr<spdlog::logger> log = logger("runtime");
    std::vector<std::pair<event::TypePattern, Handler>> handlers;

    std::shared_ptr<kafka::Producer> producer;
    bool shared_producer = false;  // options.producer: other processors send through it too
    // Sends of this processor whose final delivery report has not run yet (a shared producer's
    // in_flight() counts everyone's). Released last in each report: at zero no report of this
    // processor is running or due.
    std::atomic<std::int64_t> unreported{0};
    std::unique_ptr<kafka::Consumer> consumer;             // kept (closed) until destruction
    std::atomic<kafka::Consumer*> consumer_view{nullptr};  // for metrics() on other threads

    std::atomic<bool> stopping{false};
    bool reads_events = true;                  // self->reads_events(), asked when run() starts
    bool eos = false;                          // options.guarantee == ExactlyOnce
    bool stateful = false;                     // self->keeps_state(), asked when run() starts
    std::chrono::milliseconds punctuation{0};  // self->punctuation_interval()
    Clock::time_point next_punctuation{};
    Clock::time_point next_checkpoint{};
    std::atomic<std::uint64_t> checkpoints{0}, failed_checkpoints{0};
    std::atomic<std::size_t> assigned_count{0};         // partitions.size(), for other threads
    std::atomic<std::uint64_t> checkpoint_failures{0};  // deliveries of the round being written
    std::map<kafka::TopicPartition, PartitionState, PartitionLess> partitions;  // loop thread only
    using PartitionIt = std::map<kafka::TopicPartition, PartitionState, PartitionLess>::iterator;
    // The last partition looked up (records and completions come in runs of one partition);
    // forgotten whenever an entry is erased.
    struct {
        const void* topic = nullptr;
        std::int32_t partition = -1;
        PartitionIt it;
    } last_partition;

    PartitionIt find_partition(const kafka::Message& m) {
        const auto* topic = m.topic_handle();
        const auto partition = m.partition();
        if (topic == last_partition.topic && partition == last_partition.partition) {
            return last_partition.it;
        }
        auto it = partitions.find(PartitionLess::View{m.topic(), partition});
        if (it != partitions.end()) {
            last_partition = {topic, partition, it};
        }
        return it;
    }
    // Partitions whose committable position moved since the last store_offsets().
    std::vector<std::map<kafka::TopicPartition, PartitionState, PartitionLess>::iterator> dirty;
    std::uint64_t next_generation = 1;
    bool paused = false;

    std::mutex completions_mutex;
    std::vector<std::shared_ptr<InFlight>> completions;
    std::vector<std::shared_ptr<InFlight>> drained;  // processing thread only
    // Dead letters whose write failed, sent again after a pause (loop thread only).
    std::vector<std::pair<Clock::time_point, std::shared_ptr<InFlight>>> dead_letter_retries;

    // Parallel workers (options.workers > 1): one queue each; a key always maps to one worker.
    struct Worker {
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<std::shared_ptr<InFlight>> queue;
        bool done = false;
        std::thread thread;
    };
    std::vector<std::unique_ptr<Worker>> workers;

    void start_workers() {
        for (int i = 0; i < options.workers; ++i) {
            auto w = std::make_unique<Worker>();
            auto* raw = w.get();
            w->thread = std::thread([this, raw] { worker_loop(*raw); });
            workers.push_back(std::move(w));
        }
    }

    void dispatch(std::shared_ptr<InFlight> f) {
        const auto& r = f->record;
        std::size_t h = r.has_key() ? std::hash<std::string_view>{}(r.key())
                                    : static_cast<std::size_t>(r.partition());
        auto& w = *workers[h % workers.size()];
        {
            std::lock_guard lock(w.mutex);
            w.queue.push_back(std::move(f));
        }
        w.cv.notify_one();
    }

    void worker_loop(Worker& w) {
        while (true) {
            std::shared_ptr<InFlight> f;
            {
                std::unique_lock lock(w.mutex);
                w.cv.wait(lock, [&] { return w.done || !w.queue.empty(); });
                if (w.queue.empty()) {
                    return;  // done and drained
                }
                f = std::move(w.queue.front());
                w.queue.pop_front();
            }
            try {
                work(f);
            } catch (const std::exception& e) {
                log->error("{}: worker: {}", options.name, e.what());
            }
        }
    }

    ~Impl() {
        if (!workers.empty()) {
            stopping = true;
            stop_workers();
        }
    }

    // Lets the workers finish what is queued, then joins them.
    void stop_workers() {
        for (auto& w : workers) {
            {
                std::lock_guard lock(w->mutex);
                w->done = true;
            }
            w->cv.notify_all();
        }
        for (auto& w : workers) {
            w->thread.join();
        }
        workers.clear();
    }

    // Metrics.
    std::atomic<std::uint64_t> consumed{0}, processed{0}, unhandled{0}, produced{0}, failed{0},
        retried{0}, dead_lettered{0}, in_flight{0}, max_in_flight_seen{0}, backpressure_pauses{0},
        transactions{0}, aborted_transactions{0}, truncated_dead_letters{0}, unfinished_at_stop{0};
    bool abandoning = false;  // shutdown past its deadline: failed deliveries are given up
    bool failed_run = false;  // run() threw: the consumer closes without waiting or committing
    std::size_t max_record_bytes = MAX_RECORD_BYTES;  // the producer's message.max.bytes

    // Exactly-once: the open transaction's input range per partition.
    bool txn_open = false;
    bool final_checkpoint = false;  // the transaction being committed carries final states
    Clock::time_point txn_opened;
    std::size_t txn_events = 0;
    std::map<kafka::TopicPartition, std::pair<std::int64_t, std::int64_t>>
        txn_range;  // first, next
    Histogram latency;
    Histogram e2e;
    // The monitor's registry (ProcessorOptions::metrics), fed on the processing thread.
    struct Registry {
        monitor::MetricsRegistry* registry = nullptr;
        Histogram* latency = nullptr;
        Histogram* e2e = nullptr;
        monitor::Counter* errors = nullptr;
        std::map<std::string, std::array<monitor::Counter*, event::EVENT_TYPE_COUNT>, std::less<>>
            events;                                                          // by topic, then type
        std::map<std::string, monitor::Counter*, std::less<>> dead_letters;  // by source topic
    } metrics_registry;

    void count_event(std::string_view topic, int type) {
        auto& m = metrics_registry;
        auto it = m.events.find(topic);
        if (it == m.events.end()) {
            it = m.events
                     .emplace(std::string(topic),
                              std::array<monitor::Counter*, event::EVENT_TYPE_COUNT>{})
                     .first;
        }
        auto*& counter = it->second[static_cast<std::size_t>(type)];
        if (counter == nullptr) {
            counter = &m.registry->counter(
                "events_total",
                {{"topic", std::string(topic)},
                 {"type", std::string(event::to_string(static_cast<event::EventType>(type)))}});
        }
        counter->add();
    }

    void count_dead_letter(std::string_view source_topic) {
        auto& m = metrics_registry;
        auto it = m.dead_letters.find(source_topic);
        if (it == m.dead_letters.end()) {
            auto dlq = options.dead_letter_topic.empty() ? dead_letter_topic_for(source_topic)
                                                         : options.dead_letter_topic;
            it = m.dead_letters
                     .emplace(std::string(source_topic),
                              &m.registry->counter("dead_letters_total", {{"topic", dlq}}))
                     .first;
        }
        it->second->add();
        m.errors->add();
    }

    std::string dead_letter_topic(std::string_view source) const {
        return options.dead_letter_topic.empty() ? dead_letter_topic_for(source)
                                                 : options.dead_letter_topic;
    }

    // Counts one send of this processor until its report: `send` queues it.
    template <class Send>
    Status counted(Send&& send) {
        unreported.fetch_add(1, std::memory_order_relaxed);
        auto status = send();
        if (!status.ok()) {
            unreported.fetch_sub(1, std::memory_order_release);  // no report will come
        }
        return status;
    }
    void reported() noexcept { unreported.fetch_sub(1, std::memory_order_release); }
    bool all_reported() const noexcept { return unreported.load(std::memory_order_acquire) == 0; }
    // Until every send so far has its report (false: not by `deadline`).
    bool wait_reported(Clock::time_point deadline) {
        while (!all_reported()) {
            if (Clock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(1ms);
        }
        return true;
    }

    // ---- completion ----

    void push_completion(std::shared_ptr<InFlight> f) {
        std::lock_guard lock(completions_mutex);
        completions.push_back(std::move(f));
    }

    kafka::DeliveryCallback on_output(const std::shared_ptr<InFlight>& owner) {
        InFlight* f = owner.get();
        return [f](const kafka::DeliveryReport& r) {
            static_cast<Impl*>(f->impl)->on_output_report(f, r);
        };
    }

    void on_output_report(InFlight* f, const kafka::DeliveryReport& r) {
        {
            if (r.ok) {
                if (!f->dead_letter) {
                    produced.fetch_add(1, std::memory_order_relaxed);
                }
            } else {
                if (r.too_large) {
                    f->too_large.store(true, std::memory_order_relaxed);
                }
                if (!f->failed.exchange(true)) {
                    std::lock_guard lock(f->error_mutex);
                    f->error = fmt::format("delivery to {} failed: {}", r.topic, r.error);
                }
            }
            if (f->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                push_completion(std::move(f->keep_alive));
            }
        }
        reported();
    }

    // Marks a record done in its partition and stores the new committable offset. `now` and
    // `utc` are read once per drain.
    void complete(const InFlight& f, Clock::time_point now, Timestamp utc) {
        auto it = find_partition(f.record);
        if (it == partitions.end() || it->second.generation != f.generation) {
            return;  // revoked meanwhile: its new owner redelivers it
        }
        auto before = it->second.tracker.size();
        auto next = it->second.tracker.complete(f.record.offset());
        in_flight.fetch_sub(before - it->second.tracker.size(), std::memory_order_relaxed);
        if (next && !stateful) {
            if (it->second.to_store < 0) {
                dirty.push_back(it);
            }
            it->second.to_store = *next;
        }
        auto spent = std::chrono::duration_cast<std::chrono::microseconds>(now - f.received);
        latency.record(spent);
        std::optional<std::chrono::microseconds> age;
        if (f.event_time) {
            age = std::max(utc - *f.event_time, std::chrono::microseconds(0));
            e2e.record(*age);
        }
        if (metrics_registry.registry != nullptr) {
            metrics_registry.latency->record(spent);
            if (age) {
                metrics_registry.e2e->record(*age);
            }
            if (f.type >= 0) {
                count_event(f.record.topic(), f.type);
            }
        }
        // Dead letters are rare and what an operator looks for: each one is kept.
        if (options.tail != nullptr && (f.dead_letter || options.tail->due(now))) {
            const auto& r = f.record;
            options.tail->add(
                {std::chrono::system_clock::now(), std::string(r.topic()), r.partition(),
                 r.offset(), monitor::EventTail::preview_of(r.key(), 120),
                 f.type >= 0 ? std::string(event::to_string(static_cast<event::EventType>(f.type)))
                             : std::string(),
                 f.dead_letter ? "dead-lettered" : "processed",
                 f.dead_letter ? monitor::EventTail::preview_of(f.failure.message, 480)
                               : std::string(),
                 monitor::EventTail::preview_of(r.value())});
        }
    }

    // One offsets-store per partition per drain, not one per event.
    void store_offsets() {
        for (auto it : dirty) {
            if (it->second.to_store >= 0) {
                consumer->store_offset(it->first, it->second.to_store);
                it->second.to_store = -1;
            }
        }
        dirty.clear();
    }

    void drain_completions() {
        // Two buffers swapped back and forth keep their capacity: no allocation per drain.
        auto& done = drained;
        {
            std::lock_guard lock(completions_mutex);
            done.swap(completions);
        }
        const auto now = done.empty() ? Clock::time_point{} : Clock::now();
        const auto utc = done.empty() ? Timestamp{} : now_utc();
        for (auto& f : done) {
            if (f->abandoned.load()) {
                // Given up by its Deferred: no longer awaited, never committed.
                if (auto it = find_partition(f->record);
                    it != partitions.end() && it->second.generation == f->generation) {
                    it->second.tracker.abandon(f->record.offset());
                }
                continue;
            }
            if (f->failed.load() && abandoning) {
                continue;  // shutting down past the deadline: left uncommitted, not retried
            }
            if (f->failed.load()) {
                std::string error;
                {
                    std::lock_guard lock(f->error_mutex);
                    error = f->error;
                }
                f->failed = false;
                if (f->dead_letter && f->too_large.exchange(false) &&
                    f->fit != DeadLetterFit::HeadersOnly) {
                    // The dead-letter topic takes less than the producer sends: a smaller one
                    // at once, never the same one again.
                    f->fit = f->fit == DeadLetterFit::Whole ? DeadLetterFit::Preview
                                                            : DeadLetterFit::HeadersOnly;
                    log->warn(
                        "{}: dead letter for {}/{}@{} refused for its size ({}); writing "
                        "it with {}",
                        options.name, f->record.topic(), f->record.partition(), f->record.offset(),
                        error,
                        f->fit == DeadLetterFit::Preview
                            ? fmt::format("the first {} bytes of its value", DLQ_PREVIEW_BYTES)
                            : std::string("its headers only"));
                    send_dead_letter(f, f->failure);
                } else if (f->dead_letter) {
                    log->error("{}: dead letter for {}/{}@{} not written ({}); retrying in 1 s",
                               options.name, f->record.topic(), f->record.partition(),
                               f->record.offset(), error);
                    dead_letter_retries.emplace_back(Clock::now() + 1s, f);
                } else {
                    f->too_large = false;
                    failed.fetch_add(1, std::memory_order_relaxed);
                    send_dead_letter(f, {ErrorClass::Delivery, error, f->attempts});
                }
                continue;
            }
            if (f->dead_letter) {
                dead_lettered.fetch_add(1, std::memory_order_relaxed);
                if (f->letter_truncated) {
                    truncated_dead_letters.fetch_add(1, std::memory_order_relaxed);
                }
                if (metrics_registry.registry != nullptr) {
                    count_dead_letter(f->record.topic());
                }
            } else if (!f->counted) {
                processed.fetch_add(1, std::memory_order_relaxed);
            }
            complete(*f, now, utc);
        }
        done.clear();
        if (!dead_letter_retries.empty()) {
            const auto retry_now = Clock::now();
            std::vector<std::shared_ptr<InFlight>> due;
            std::erase_if(dead_letter_retries, [&](auto& item) {
                if (item.first > retry_now) {
                    return false;
                }
                due.push_back(std::move(item.second));
                return true;
            });
            for (auto& f : due) {
                send_dead_letter(f, f->failure);
            }
        }
        store_offsets();
    }

    // ---- sending ----

    void send_dead_letter(const std::shared_ptr<InFlight>& f, Failure failure) {
        f->dead_letter = true;
        f->failure = std::move(failure);
        f->pending = 1;
        f->keep_alive = f;
        auto letter =
            make_dead_letter(f->record, f->failure, options.name, max_record_bytes, f->fit);
        auto topic = dead_letter_topic(f->record.topic());
        f->letter_truncated = letter.truncated;
        auto status = counted([&] {
            return producer->send(topic, letter.key.value_or(std::string_view()),
                                  letter.value.value_or(std::string_view()), letter.headers,
                                  on_output(f));
        });
        if (!status.ok()) {
            // Not queued: no callback will come; try again later.
            f->keep_alive.reset();
            {
                std::lock_guard lock(f->error_mutex);
                f->error = fmt::format("cannot queue it: {}", status.error().message);
            }
            f->failed = true;
            push_completion(f);  // the processing thread schedules the retry
        }
    }

    // The handler's hold (pending 1) is taken; one more per output, and it is released once
    // all are queued.
    void send_outputs(const std::shared_ptr<InFlight>& f,
                      std::span<const Context::Output> outputs) {
        f->keep_alive = f;
        f->pending.fetch_add(static_cast<int>(outputs.size()), std::memory_order_acq_rel);
        auto& r = f->record;
        for (const auto& out : outputs) {
            Status status;
            unreported.fetch_add(1, std::memory_order_relaxed);
            if (out.forward && &out == &outputs.back()) {
                // The record's last use: its parsed headers move to the output instead of
                // being copied (librdkafka parses them again if a dead letter needs them).
                status = producer->forward_last(out.topic, r, *f);
            } else if (out.forward) {
                status = producer->forward(out.topic, r, *f);
            } else if (out.record_headers) {
                status = producer->send_with_headers_of(out.topic, out.key, out.value, r,
                                                        &out == &outputs.back(), *f);
            } else {
                status = producer->send(out.topic, out.key, out.value, out.headers, on_output(f));
            }
            if (!status.ok()) {
                reported();  // no report will come
                if (!f->failed.exchange(true)) {
                    std::lock_guard lock(f->error_mutex);
                    f->error = status.error().message;
                }
                f->pending.fetch_sub(1, std::memory_order_acq_rel);
            }
        }
        if (f->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            push_completion(std::move(f->keep_alive));
        }
    }

    // Outputs that belong to no input (Emitter): counted, failures logged.
    void send_unattached(std::string_view topic, std::string_view key, std::string_view value,
                         const kafka::Headers& headers) {
        auto status = counted([&] {
            return producer->send(topic, key, value, headers,
                                  [this](const kafka::DeliveryReport& r) {
                                      if (r.ok) {
                                          produced.fetch_add(1, std::memory_order_relaxed);
                                      } else {
                                          failed.fetch_add(1, std::memory_order_relaxed);
                                          log->error("{}: an output to {} was not delivered: {}",
                                                     options.name, r.topic, r.error);
                                      }
                                      reported();
                                  });
        });
        if (!status.ok()) {
            failed.fetch_add(1, std::memory_order_relaxed);
            log->error("{}: an output to {} was not sent: {}", options.name, topic,
                       status.error().message);
        }
    }

    void punctuate_if_due() {
        if (punctuation.count() <= 0) {
            return;
        }
        auto now = Clock::now();
        if (now < next_punctuation) {
            return;
        }
        next_punctuation = now + punctuation;
        if (eos && !txn_open) {
            begin_transaction();  // what it emits commits with the inputs
        }
        Emitter out(this);
        try {
            self->punctuate(now, out);
        } catch (const std::exception& e) {
            failed.fetch_add(1, std::memory_order_relaxed);
            log->error("{}: punctuate: {}", options.name, e.what());
        }
    }

    // ---- checkpoints (stateful processors) ----

    // The checkpoint protocol at-least-once: every event handled so far complete (outputs and
    // unattached sends acknowledged), then each partition's state records, acknowledged, then
    // the offsets committed. Exactly-once, commit_transaction() does the same in one
    // transaction.
    void checkpoint_round(const std::vector<kafka::TopicPartition>& which, bool final) {
        if (eos) {
            if (final && !which.empty()) {
                // Revoked or stopping: this transaction carries their last state.
                write_states(which, true);
            }
            commit_transaction();
            return;
        }
        auto deadline = Clock::now() + std::max<Clock::duration>(options.shutdown_timeout, 1s);
        while (true) {
            drain_completions();
            if ((in_flight.load() == 0 || all_idle(which)) && all_reported() &&
                dead_letter_retries.empty()) {
                break;
            }
            if (Clock::now() >= deadline) {
                failed_checkpoints.fetch_add(1, std::memory_order_relaxed);
                log->error(
                    "{}: checkpoint: events still unfinished after {} ms; offsets not "
                    "committed",
                    options.name, options.shutdown_timeout.count());
                self->checkpoint_done(false);
                return;
            }
            std::this_thread::sleep_for(1ms);
        }
        auto positions = write_states(which, final);
        if (positions.empty()) {
            return;
        }
        auto failures = checkpoint_failures.load();
        if (!wait_reported(Clock::now() + 30s) || checkpoint_failures.load() != failures) {
            failed_checkpoints.fetch_add(1, std::memory_order_relaxed);
            log->error(
                "{}: checkpoint not written; offsets not committed (the next one tries "
                "again)",
                options.name);
            self->checkpoint_done(false);
            return;
        }
        for (const auto& [tp, offset] : positions) {
            consumer->store_offset(tp, offset);
        }
        consumer->commit(true);
        checkpoints.fetch_add(1, std::memory_order_relaxed);
        self->checkpoint_done(true);
    }

    // Events still awaited (handlers, outputs, open Deferreds) over every partition.
    std::size_t awaited() const {
        std::size_t n = 0;
        for (const auto& [tp, state] : partitions) {
            n += state.tracker.open();
        }
        return n;
    }

    bool all_idle(const std::vector<kafka::TopicPartition>& which) {
        for (const auto& tp : which) {
            auto it = partitions.find(tp);
            if (it != partitions.end() && !it->second.tracker.empty()) {
                return false;
            }
        }
        return true;
    }

    // Asks each partition that read something for its state; returns their positions.
    std::vector<std::pair<kafka::TopicPartition, std::int64_t>> write_states(
        const std::vector<kafka::TopicPartition>& which, bool final,
        std::size_t* skipped = nullptr) {
        std::vector<std::pair<kafka::TopicPartition, std::int64_t>> positions;
        for (const auto& tp : which) {
            auto it = partitions.find(tp);
            if (it == partitions.end() || it->second.handled_next < 0) {
                continue;
            }
            CheckpointWriter out(this, tp.partition);
            if (self->checkpoint(tp, it->second.handled_next, out, final)) {
                positions.emplace_back(tp, it->second.handled_next);
            } else if (skipped != nullptr) {
                ++*skipped;
            }
        }
        return positions;
    }

    std::vector<kafka::TopicPartition> assigned() const {
        std::vector<kafka::TopicPartition> out;
        out.reserve(partitions.size());
        for (const auto& [tp, state] : partitions) {
            out.push_back(tp);
        }
        return out;
    }

    void checkpoint_if_due() {
        if (!stateful) {
            return;
        }
        auto now = Clock::now();
        if (now < next_checkpoint) {
            return;
        }
        next_checkpoint = now + options.checkpoint_interval;
        checkpoint_round(assigned(), false);
    }

    // ---- one record ----

    // `received`: when the poll that returned it began (one clock read per batch).
    void handle(kafka::Message message, Clock::time_point received) {
        consumed.fetch_add(1, std::memory_order_relaxed);
        auto it = find_partition(message);
        if (it == partitions.end()) {
            // Assigned outside a rebalance callback (should not happen): track from here.
            it = partitions
                     .emplace(
                         kafka::TopicPartition{std::string(message.topic()), message.partition()},
                         PartitionState{{}, next_generation++})
                     .first;
        }
        it->second.tracker.add(message.offset());
        it->second.handled_next = message.offset() + 1;
        auto now_in_flight = in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
        if (now_in_flight > max_in_flight_seen.load(std::memory_order_relaxed)) {
            max_in_flight_seen.store(now_in_flight, std::memory_order_relaxed);
        }
        auto f = std::make_shared<InFlight>(std::move(message));
        f->impl = this;
        f->report = [](void* owner, InFlight* record, const kafka::DeliveryReport& r) {
            static_cast<Impl*>(owner)->on_output_report(record, r);
        };
        f->generation = it->second.generation;
        f->received = received;
        if (workers.empty()) {
            work(f);
        } else {
            dispatch(std::move(f));
        }
    }

    // Classifies, decodes and processes one admitted record: on the processing thread, or on
    // a worker (all of one key's records on the same one, in order).
    void work(const std::shared_ptr<InFlight>& f) {
        const auto& r = f->record;

        if (r.is_null()) {
            return reject(f, ErrorClass::NullValue, "the record has no value");
        }
        if (r.value().size() > event::MAX_EVENT_BYTES) {
            return reject(f, ErrorClass::Oversized,
                          fmt::format("{} bytes, more than the {} an event may have",
                                      r.value().size(), event::MAX_EVENT_BYTES));
        }
        // Checked against the catalogue either way; built only for processors that read it.
        std::optional<event::Event> ev;
        auto summary = [&]() -> Result<event::EventSummary, event::Violations> {
            if (!reads_events) {
                return event::check(r.value());
            }
            auto decoded = event::decode(r.value());
            if (!decoded) {
                return failure(std::move(decoded.error()));
            }
            ev.emplace(std::move(*decoded));
            return event::EventSummary{ev->type(), ev->timestamp()};
        }();
        if (!summary) {
            const auto& violations = summary.error();
            bool malformed = std::any_of(violations.begin(), violations.end(), [](const auto& v) {
                return v.kind == event::ViolationKind::Malformed;
            });
            return reject(f, malformed ? ErrorClass::Undecodable : ErrorClass::Invalid,
                          event::describe(violations));
        }
        f->event_time = summary->timestamp;
        f->type = static_cast<int>(summary->type);

        Clock::time_point first_failure{};               // read when the first attempt fails
        f->pending.store(1, std::memory_order_release);  // the handler's hold
        for (int attempt = 1;; ++attempt) {
            thread_local std::vector<Context::Output> output_buffer;
            Context ctx(r, attempt, output_buffer, eos ? nullptr : &f);
            ErrorClass error_class = ErrorClass::Permanent;
            std::string error;
            try {
                bool wanted = ev ? self->process(*ev, ctx) : self->process_record(*summary, ctx);
                f->attempts = attempt;
                if (ctx._deferred) {
                    // Held by its Deferred from here: committable once that completes and
                    // every output is acknowledged.
                    send_outputs(f, std::span(ctx._outputs->data(), ctx._count));
                    return;
                }
                if (!wanted) {
                    unhandled.fetch_add(1, std::memory_order_relaxed);
                    f->counted = true;
                    push_completion(f);
                    return;
                }
                if (ctx._count == 0) {
                    push_completion(f);
                    return;
                }
                send_outputs(f, std::span(ctx._outputs->data(), ctx._count));
                return;
            } catch (const RetriableError& e) {
                error_class = ErrorClass::Retriable;
                error = e.what();
            } catch (const std::exception& e) {
                error = e.what();
            } catch (...) {
                error = "unknown exception";
            }
            if (ctx._deferred) {
                // Its Deferred is in charge now: not retried, not dead-lettered here; what the
                // handler added before throwing is dropped.
                log->error(
                    "{}: {}/{}@{}: the handler threw after deferring it ({}); left to "
                    "its Deferred",
                    options.name, r.topic(), r.partition(), r.offset(), error);
                send_outputs(f, {});
                return;
            }
            if (attempt == 1) {
                first_failure = Clock::now();
            }
            thread_local std::mt19937_64 rng{std::random_device{}()};
            std::uniform_real_distribution<double> uniform(0.0, 1.0);
            auto decision = decide(options.retry, error_class, attempt, first_failure, Clock::now(),
                                   uniform(rng));
            if (!decision.retry || stopping.load()) {
                f->attempts = attempt;
                if (stopping.load() && decision.retry) {
                    // Shutting down: leave it uncommitted; it is redelivered after a restart.
                    log->info("{}: stopping; {}/{}@{} left for redelivery", options.name, r.topic(),
                              r.partition(), r.offset());
                    return;
                }
                return reject(f, error_class, error);
            }
            retried.fetch_add(1, std::memory_order_relaxed);
            log->debug("{}: {}/{}@{} failed ({}); retry {} in {} ms", options.name, r.topic(),
                       r.partition(), r.offset(), error, attempt, decision.delay.count());
            sleep_unless_stopping(decision.delay);
        }
    }

    void reject(const std::shared_ptr<InFlight>& f, ErrorClass error_class, std::string message) {
        failed.fetch_add(1, std::memory_order_relaxed);
        log->warn("{}: {}/{}@{} to dead letters ({}): {}", options.name, f->record.topic(),
                  f->record.partition(), f->record.offset(), to_string(error_class), message);
        send_dead_letter(f, {error_class, std::move(message), f->attempts});
    }

    void sleep_unless_stopping(std::chrono::milliseconds delay) {
        auto until = Clock::now() + delay;
        while (!stopping.load() && Clock::now() < until) {
            std::this_thread::sleep_for(
                std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
        }
    }

    // ---- flow control and rebalances ----

    // While the consumer reports every broker down, asks for metadata every 2 s so that the
    // health clears when the cluster is back even if no record arrives.
    Clock::time_point last_probe{};
    // The fetch watchdog (processing thread), its findings for metrics() (any thread).
    Clock::time_point last_received = Clock::now();
    Clock::time_point next_stall_check{};
    std::atomic<std::uint64_t> fetch_stalls{0};
    std::atomic<bool> stalled{false};
    std::atomic<std::int64_t> stalled_behind{0};
    std::atomic<std::int64_t> stalled_since_ms{0};  // steady clock

    void received_now(Clock::time_point now) {
        last_received = now;
        if (stalled.load(std::memory_order_relaxed)) {
            stalled.store(false, std::memory_order_relaxed);
            log->info("{}: records arrive again after the fetch restart", options.name);
        }
    }

    // Assigned, behind and nothing received for stall_timeout: the fetch stalled (seen once
    // after a broker outage: 100 s without a record while the lag stood). Asking the broker
    // for the partitions' ends tells a stall from an idle input.
    void watch_for_stall() {
        if (options.stall_timeout.count() <= 0 || paused) {
            return;
        }
        auto now = Clock::now();
        if (now - last_received < options.stall_timeout || now < next_stall_check ||
            partitions.empty()) {
            return;
        }
        next_stall_check = now + std::max<Clock::duration>(options.stall_timeout / 2, 1s);
        std::int64_t behind = 0;
        try {
            for (const auto& p : consumer->query_lag(2s)) {
                behind += std::max<std::int64_t>(0, p.lag);
            }
        } catch (const std::exception& e) {
            log->debug("{}: stall check: {}", options.name, e.what());
            return;
        }
        if (behind == 0) {
            return;  // idle: nothing to read
        }
        if (!stalled.exchange(true)) {
            stalled_since_ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       last_received.time_since_epoch())
                                       .count());
        }
        stalled_behind.store(behind);
        fetch_stalls.fetch_add(1, std::memory_order_relaxed);
        int restarted = consumer->refetch(2s);
        log->warn(
            "{}: {} event(s) behind and nothing received for {} s: restarted the fetch of "
            "{} partition(s)",
            options.name, behind,
            std::chrono::duration_cast<std::chrono::seconds>(now - last_received).count(),
            restarted);
    }
    void probe_if_down() {
        auto now = Clock::now();
        if (now - last_probe < 2s || consumer->stats().brokers_down_for.count() == 0) {
            return;
        }
        last_probe = now;
        consumer->probe(500ms);
    }

    void apply_backpressure() {
        auto n = in_flight.load(std::memory_order_relaxed);
        if (!paused && n >= options.max_in_flight) {
            paused = true;
            backpressure_pauses.fetch_add(1, std::memory_order_relaxed);
            log->debug("{}: {} events in flight; pausing", options.name, n);
            consumer->pause_all();
        } else if (paused && n <= options.max_in_flight / 2) {
            paused = false;
            consumer->resume_all();
        }
    }

    // ---- exactly-once ----

    void begin_transaction() {
        auto status = producer->begin_transaction();
        if (!status.ok()) {
            throw kafka::KafkaError(status.error().message);
        }
        txn_open = true;
        txn_opened = Clock::now();
        txn_events = 0;
    }

    // Commits the open transaction with the consumed offsets. On failure aborts it and rewinds
    // the inputs to where it began; a fatal error (fenced by a newer instance) throws.
    void commit_transaction() {
        if (!txn_open) {
            return;
        }
        txn_open = false;
        if (stateful) {
            // Every partition's changes (punctuation changes state too) in this transaction.
            std::size_t skipped = 0;
            write_states(assigned(), final_checkpoint, &skipped);
            if (skipped > 0) {
                // The processor kept a partition's state out of the checkpoint: what this
                // transaction holds must not commit without it, so it is given up whole.
                log->info("{}: {} partition(s) not checkpointed; aborting the transaction",
                          options.name, skipped);
                abort_and_rewind();
                return;
            }
        }
        std::vector<std::pair<kafka::TopicPartition, std::int64_t>> offsets;
        for (const auto& [tp, range] : txn_range) {
            offsets.emplace_back(tp, range.second);
        }
        kafka::Producer::TxnStatus status;
        if (!offsets.empty()) {
            status =
                producer->send_offsets_to_transaction(offsets, consumer->group_metadata(), 30s);
        }
        for (int attempt = 0; status.ok(); ++attempt) {
            status = producer->commit_transaction(60s);
            if (status.ok() || !status.error().retriable || attempt >= 3) {
                break;
            }
        }
        if (status.ok()) {
            transactions.fetch_add(1, std::memory_order_relaxed);
            drain_completions();
            txn_range.clear();
            if (stateful) {
                checkpoints.fetch_add(1, std::memory_order_relaxed);
                self->checkpoint_done(true);
            }
            return;
        }
        const auto& e = status.error();
        if (e.fatal) {
            throw kafka::KafkaError(fmt::format("{}: {}", options.name, e.message));
        }
        log->warn("{}: {}; aborting and reading {} partition(s) again", options.name, e.message,
                  txn_range.size());
        abort_and_rewind();
    }

    void abort_and_rewind() {
        // Written first (bounded), then aborted: an abort while the transaction's first records
        // are in flight can reach the coordinator before their partitions are registered, and
        // the coordinator refuses it as INVALID_TXN_STATE, fatal for the producer (librdkafka
        // issue #4849, open; seen here on Kafka 4.1 in one run of four). A record acknowledged
        // proves its partition registered; aborted records stay invisible to read_committed.
        producer->flush(10s);
        auto status = producer->abort_transaction(60s);
        if (!status.ok() && status.error().fatal) {
            throw kafka::KafkaError(fmt::format("{}: {}", options.name, status.error().message));
        }
        aborted_transactions.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard lock(completions_mutex);
            completions.clear();
        }
        dead_letter_retries.clear();
        if (stateful) {
            failed_checkpoints.fetch_add(1, std::memory_order_relaxed);
            self->checkpoint_done(false);
        }
        // Stateful: every partition's state goes back to its last committed checkpoint (the
        // aborted events, and punctuation, changed it), and reading resumes there.
        auto rewound = stateful ? assigned() : std::vector<kafka::TopicPartition>{};
        for (const auto& [tp, range] : txn_range) {
            if (!stateful) {
                rewound.push_back(tp);
            }
        }
        for (const auto& tp : rewound) {
            auto it = partitions.find(tp);
            if (it == partitions.end()) {
                continue;  // no longer ours
            }
            in_flight.fetch_sub(it->second.tracker.size(), std::memory_order_relaxed);
            std::erase(dirty, it);
            it->second = PartitionState{{}, next_generation++};
            std::optional<std::int64_t> at;
            if (auto r = txn_range.find(tp); r != txn_range.end()) {
                at = r->second.first;
            }
            if (stateful) {
                self->release(tp);
                if (auto restored = self->restore(tp)) {
                    at = restored;
                }
            }
            if (!at) {
                continue;
            }
            try {
                consumer->seek(tp, *at);
            } catch (const kafka::KafkaError& e) {
                // Being revoked: its new owner starts from the committed offset anyway.
                log->warn("{}: {}", options.name, e.what());
            }
        }
        last_partition = {};
        txn_range.clear();
    }

    void handle_transactional(kafka::Message message) {
        if (!txn_open) {
            begin_transaction();
        }
        kafka::TopicPartition tp{std::string(message.topic()), message.partition()};
        auto [it, inserted] = txn_range.try_emplace(tp, message.offset(), message.offset() + 1);
        if (!inserted) {
            it->second.second = message.offset() + 1;
        }
        ++txn_events;
        handle(std::move(message), Clock::now());
    }

    void run_exactly_once() {
        while (!stopping.load()) {
            drain_completions();
            probe_if_down();
            auto message = consumer->poll(txn_open ? 5ms : 100ms);
            if (message) {
                received_now(Clock::now());
                handle_transactional(std::move(*message));
            } else if (!txn_open) {
                watch_for_stall();
            }
            punctuate_if_due();
            if (txn_open && (txn_events >= options.transaction_max_events ||
                             Clock::now() - txn_opened >= options.transaction_interval)) {
                commit_transaction();
            }
        }
        self->on_stopping();
        final_checkpoint = true;
        commit_transaction();
        final_checkpoint = false;
    }

    void on_assigned(const std::vector<kafka::TopicPartition>& list) {
        last_received = Clock::now();  // the watchdog gives new partitions a full stall_timeout
        // Partitions assigned while paused for room start paused (kafka::Consumer::pause_all).
        for (const auto& tp : list) {
            partitions[tp] = PartitionState{{}, next_generation++};
        }
        assigned_count.store(partitions.size());
    }

    // Waits (bounded) for the revoked partitions' in-flight records, stores what completed,
    // and forgets the rest: the consumer commits right after, and the new owner redelivers.
    void on_revoked(const std::vector<kafka::TopicPartition>& list) {
        if (failed_run) {
            return;  // nothing is waited for or committed beyond what completed
        }
        if (eos) {
            // Their offsets (and states) go with the open transaction: commit it before they go.
            final_checkpoint = true;
            commit_transaction();
            final_checkpoint = false;
        }
        auto deadline = Clock::now() + options.revoke_timeout;
        auto busy = [&] {
            for (const auto& tp : list) {
                auto it = partitions.find(tp);
                if (it != partitions.end() && it->second.tracker.open() != 0) {
                    return true;
                }
            }
            return false;
        };
        while (true) {
            drain_completions();
            // Abandoning: the stop past its deadline gave the open events up already.
            if (!busy() || abandoning || Clock::now() >= deadline) {
                break;
            }
            std::this_thread::sleep_for(2ms);
        }
        if (stateful && !eos) {
            checkpoint_round(list, true);
        }
        for (const auto& tp : list) {
            auto it = partitions.find(tp);
            if (it == partitions.end()) {
                continue;
            }
            if (stateful) {
                self->release(tp);
            }
            if (!it->second.tracker.empty()) {
                log->warn(
                    "{}: {}/{} revoked with {} event(s) uncommitted; they will be redelivered",
                    options.name, tp.topic, tp.partition, it->second.tracker.size());
                in_flight.fetch_sub(it->second.tracker.size(), std::memory_order_relaxed);
            }
            std::erase(dirty, it);
            last_partition = {};
            partitions.erase(it);
        }
        assigned_count.store(partitions.size());
    }

    // What is not written is given up: failed deliveries are no longer sent again, and once
    // every output of this processor has its final report nothing holds the consumer's records.
    void give_up_outputs() {
        abandoning = true;
        dead_letter_retries.clear();
        if (!shared_producer) {
            producer->purge();
            wait_reported(Clock::now() + 5s);
            return;
        }
        // Other processors' records are in the same queue: this one's reports come when the
        // producer gives them up (its message timeout). Until then they hold records of this
        // consumer, which must not close under them.
        while (!wait_reported(Clock::now() + 10s)) {
            log->warn("{}: waiting for the shared producer to give up {} output(s)", options.name,
                      unreported.load());
        }
    }

    // run() is ending by an exception (a fenced transactional producer, a restore that threw):
    // what is in flight is given up (left uncommitted) and the consumer closed here, while
    // what its revocation touches is alive; the destructor would close it after the members
    // it needs. The processor does not run again.
    void close_after_failure() noexcept {
        try {
            failed_run = true;
            stopping = true;
            if (!consumer) {
                return;  // it failed before reading anything
            }
            try {
                self->on_stopping();  // ends work that holds records (agent tasks)
            } catch (const std::exception& e) {
                log->error("{}: on_stopping: {}", options.name, e.what());
            }
            stop_workers();
            give_up_outputs();
            {
                std::lock_guard lock(completions_mutex);
                completions.clear();
            }
            drained.clear();
            unfinished_at_stop.store(in_flight.load(), std::memory_order_relaxed);
            consumer->close();  // commits what completed (at-least-once), leaves the group
            last_partition = {};
            dirty.clear();
            partitions.clear();
            assigned_count.store(0);
        } catch (const std::exception& e) {
            log->error("{}: closing after a failure: {}", options.name, e.what());
        }
    }

    void shutdown() {
        if (!eos) {
            self->on_stopping();  // exactly-once: before the final transaction
        }
        log->info("{}: stopping: draining {} in-flight event(s)", options.name, in_flight.load());
        auto deadline = Clock::now() + options.shutdown_timeout;
        consumer->pause_all();
        stop_workers();  // they finish their queues (retries give up at once: stopping is set)
        while (Clock::now() < deadline) {
            drain_completions();
            if (all_reported() && dead_letter_retries.empty() && awaited() == 0) {
                break;
            }
            std::this_thread::sleep_for(5ms);
        }
        drain_completions();
        if (!all_reported() || !dead_letter_retries.empty()) {
            // Past the deadline (an output's partition has no leader, say): what is not
            // written is given up, so nothing holds the consumer's records any more, and its
            // input stays uncommitted for the next start to process again.
            give_up_outputs();
            drain_completions();
            std::lock_guard lock(completions_mutex);
            completions.clear();
        }
        unfinished_at_stop.store(in_flight.load(), std::memory_order_relaxed);
        if (in_flight.load() != 0 && awaited() != 0) {
            log->warn(
                "{}: {} event(s) not finished within the shutdown deadline ({} ms); left "
                "uncommitted, the next start processes them again",
                options.name, in_flight.load(), options.shutdown_timeout.count());
        } else if (in_flight.load() != 0) {
            log->info(
                "{}: {} event(s) left uncommitted behind one given up; the next start processes "
                "them again",
                options.name, in_flight.load());
        }
        if (stateful) {
            if (!eos && !abandoning) {
                checkpoint_round(assigned(), true);
            }
            for (const auto& tp : assigned()) {
                self->release(tp);
            }
            // Checkpointed and released: the revocation inside close() has nothing left to do.
            last_partition = {};
            dirty.clear();
            partitions.clear();
        }
        consumer->close();  // commits the stored offsets, leaves the group
        if (shared_producer) {
            // The reports of what was sent without an input (emitter) still call into this.
            while (!wait_reported(Clock::now() + 10s)) {
                log->warn("{}: still {} output(s) unreported", options.name, unreported.load());
            }
        }
        producer.reset();  // its own: flushes what is left (bounded)
        last_partition = {};
        partitions.clear();
        assigned_count.store(0);
        log->info("{}: stopped", options.name);
    }
};

StreamProcessor::StreamProcessor(ProcessorOptions options) : _impl(std::make_unique<Impl>()) {
    if (options.inputs.empty()) {
        throw std::invalid_argument("a processor needs at least one input topic");
    }
    if (options.guarantee == Guarantee::ExactlyOnce && options.producer) {
        throw std::invalid_argument(
            "exactly-once needs a producer of its own: a transaction holds everything its "
            "producer sends");
    }
    if (options.max_in_flight == 0) {
        throw std::invalid_argument("max_in_flight must be at least 1");
    }
    if (options.workers < 1) {
        throw std::invalid_argument("workers must be at least 1");
    }
    if (options.retry.max_attempts < 1) {
        throw std::invalid_argument("retry.max_attempts must be at least 1");
    }
    _impl->self = this;
    _impl->group_id = options.group_id.empty() ? "agentstream-" + options.name : options.group_id;
    _impl->options = std::move(options);
}

StreamProcessor::~StreamProcessor() = default;

StreamProcessor& StreamProcessor::on(std::string_view pattern, Handler handler) {
    _impl->handlers.emplace_back(event::TypePattern(pattern), std::move(handler));
    return *this;
}

StreamProcessor& StreamProcessor::on(event::EventType type, Handler handler) {
    return on(event::to_string(type), std::move(handler));
}

bool StreamProcessor::reads_events() const noexcept {
    return true;
}

bool StreamProcessor::process_record(const event::EventSummary&, Context&) {
    throw std::logic_error(
        "a processor whose reads_events() is false must override process_record");
}

bool StreamProcessor::process(const event::Event& event, Context& context) {
    bool any = false;
    for (const auto& [pattern, handler] : _impl->handlers) {
        if (pattern.matches(event.type())) {
            any = true;
            handler(event, context);
        }
    }
    return any;
}

void StreamProcessor::run() {
    try {
        run_engine();
    } catch (...) {
        _impl->close_after_failure();
        throw;
    }
}

void StreamProcessor::run_engine() {
    auto& impl = *_impl;
    const auto& o = impl.options;
    impl.reads_events = reads_events();
    if (o.metrics != nullptr && impl.metrics_registry.registry == nullptr) {
        auto& m = impl.metrics_registry;
        m.registry = o.metrics;
        m.latency = &o.metrics->histogram("processing_latency_ms", {{"processor", o.name}});
        m.e2e = &o.metrics->histogram("e2e_latency_ms", {{"processor", o.name}});
        m.errors = &o.metrics->counter("errors_total", {{"component", o.name}});
    }
    const bool eos = o.guarantee == Guarantee::ExactlyOnce;
    impl.eos = eos;
    impl.stateful = keeps_state();
    impl.punctuation = punctuation_interval();
    if (impl.stateful && o.workers > 1) {
        throw std::invalid_argument(
            "a stateful processor runs one worker: its state is checkpointed between events");
    }
    if (impl.stateful && o.checkpoint_interval.count() <= 0) {
        throw std::invalid_argument("checkpoint_interval must be positive");
    }
    if (eos && o.workers > 1) {
        throw std::invalid_argument(
            "exactly-once runs with one worker: a transaction spans the whole partition set");
    }
    if (eos) {
        auto id = kafka::Admin(o.client).cluster_id(10s);
        if (id && id->starts_with("mockCluster")) {
            throw std::invalid_argument(
                "exactly-once needs a real Kafka cluster: the embedded broker does not implement "
                "transactions faithfully (read_committed consumers see aborted records, offsets "
                "sent to a transaction are not stored); use --brokers, or at-least-once");
        }
    }
    if (o.producer) {
        impl.producer = o.producer;
        impl.shared_producer = true;
    } else {
        kafka::ProducerOptions po;
        static_cast<kafka::ClientOptions&>(po) = o.client;
        po.max_message_bytes = MAX_RECORD_BYTES;
        po.properties.insert(po.properties.end(), o.producer_properties.begin(),
                             o.producer_properties.end());
        if (eos) {
            po.transactional_id =
                o.transactional_id.empty() ? impl.group_id + "-" + o.name : o.transactional_id;
        }
        impl.producer = std::make_shared<kafka::Producer>(std::move(po));
    }
    impl.max_record_bytes = impl.producer->max_message_bytes();
    if (eos) {
        auto status = impl.producer->init_transactions(60s);
        if (!status.ok()) {
            throw kafka::KafkaError(status.error().message);
        }
    }

    kafka::ConsumerOptions co;
    static_cast<kafka::ClientOptions&>(co) = o.client;
    co.properties.insert(co.properties.end(), o.consumer_properties.begin(),
                         o.consumer_properties.end());
    co.group_id = impl.group_id;
    co.commits = !eos;  // exactly-once: offsets are committed by the transactions
    co.start_from = o.start_from;
    if (impl.stateful) {
        // State first: a partition is read only once its state is back.
        co.start_offset = [this](const kafka::TopicPartition& tp) { return restore(tp); };
    }
    co.on_assigned = [&impl](const auto& list) { impl.on_assigned(list); };
    co.on_revoked = [&impl](const auto& list) { impl.on_revoked(list); };
    impl.consumer = std::make_unique<kafka::Consumer>(std::move(co));
    impl.consumer_view.store(impl.consumer.get());
    impl.consumer->subscribe(o.inputs);
    if (o.workers > 1) {
        impl.start_workers();
    }
    impl.log->info("{}: consuming {} in group {}", o.name, fmt::join(o.inputs, ", "),
                   impl.group_id);
    impl.next_punctuation = Clock::now() + impl.punctuation;
    impl.next_checkpoint = Clock::now() + o.checkpoint_interval;
    {
        if (eos) {
            impl.begin_transaction();  // what on_start emits commits with the first inputs
        }
        Emitter out(&impl);
        on_start(out);
    }

    if (eos) {
        impl.run_exactly_once();
    } else {
        // Up to BATCH records per turn: what is already queued in the consumer is taken
        // without waiting, and completions, flow control and the clock are looked at once
        // per turn instead of once per record.
        constexpr int BATCH = 64;
        while (!impl.stopping.load()) {
            impl.drain_completions();
            impl.apply_backpressure();
            impl.probe_if_down();
            impl.punctuate_if_due();
            impl.checkpoint_if_due();
            auto wait = impl.paused ? 10ms : 100ms;
            if (impl.punctuation.count() > 0) {
                wait = std::min(wait, impl.punctuation);
            }
            auto message = impl.consumer->poll(wait);
            if (!message) {
                impl.watch_for_stall();
                continue;
            }
            const auto received = Clock::now();
            impl.received_now(received);
            impl.handle(std::move(*message), received);
            for (int i = 1; i < BATCH && !impl.paused && !impl.stopping.load() &&
                            impl.in_flight.load(std::memory_order_relaxed) < o.max_in_flight;
                 ++i) {
                message = impl.consumer->poll(0ms);
                if (!message) {
                    break;
                }
                impl.handle(std::move(*message), received);
            }
        }
    }
    impl.shutdown();
}

void StreamProcessor::stop() noexcept {
    _impl->stopping.store(true);
}

std::chrono::milliseconds StreamProcessor::punctuation_interval() const noexcept {
    return std::chrono::milliseconds(0);
}

void StreamProcessor::punctuate(std::chrono::steady_clock::time_point, Emitter&) {}

void StreamProcessor::on_start(Emitter&) {}

void StreamProcessor::on_stopping() {}

Emitter StreamProcessor::emitter() noexcept {
    return Emitter(_impl.get());
}

bool StreamProcessor::keeps_state() const noexcept {
    return false;
}

std::optional<std::int64_t> StreamProcessor::restore(const kafka::TopicPartition&) {
    return std::nullopt;
}

bool StreamProcessor::checkpoint(const kafka::TopicPartition&, std::int64_t, CheckpointWriter&,
                                 bool) {
    return true;
}

void StreamProcessor::checkpoint_done(bool) {}

void StreamProcessor::release(const kafka::TopicPartition&) {}

// ---- Emitter, CheckpointWriter, Deferred ----

void Emitter::emit(std::string_view topic, const event::Event& event) {
    auto value = event::encode(event);
    send(topic, event::record_key(event), value, event::record_headers(event));
}

void Emitter::send(std::string_view topic, std::string_view key, std::string_view value,
                   const kafka::Headers& headers) {
    auto& impl = *static_cast<StreamProcessor::Impl*>(_impl);
    if (!impl.producer) {
        throw std::logic_error("Emitter: the processor is not running");
    }
    impl.send_unattached(topic, key, value, headers);
}

void CheckpointWriter::write(std::string_view topic, std::string_view key, std::string_view value,
                             bool tombstone) {
    auto& impl = *static_cast<StreamProcessor::Impl*>(_impl);
    auto status = impl.counted([&] {
        return impl.producer->send(
            topic, key, tombstone ? std::string_view() : value, {},
            [&impl](const kafka::DeliveryReport& r) {
                if (!r.ok) {
                    impl.checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
                    impl.log->error("{}: state record to {} not delivered: {}", impl.options.name,
                                    r.topic, r.error);
                }
                impl.reported();
            },
            _partition);
    });
    if (!status.ok()) {
        impl.checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
        impl.log->error("{}: state record to {} not sent: {}", impl.options.name, topic,
                        status.error().message);
    }
}

Deferred& Deferred::operator=(Deferred&& other) noexcept {
    if (this != &other) {
        abandon();
        _record = std::move(other._record);
    }
    return *this;
}

Deferred::~Deferred() {
    abandon();
}

const kafka::Message& Deferred::record() const {
    if (!_record) {
        throw std::logic_error("Deferred: empty");
    }
    return _record->record;
}

bool Deferred::emit(std::string_view topic, const event::Event& event) {
    if (!_record) {
        throw std::logic_error("Deferred: emit() after complete() or abandon()");
    }
    auto& f = *_record;
    auto& impl = *static_cast<StreamProcessor::Impl*>(f.impl);
    auto value = event::encode(event);
    f.pending.fetch_add(1, std::memory_order_acq_rel);
    auto status = impl.counted([&] {
        return impl.producer->send(topic, event::record_key(event), value,
                                   event::record_headers(event), impl.on_output(_record));
    });
    if (!status.ok()) {
        if (!f.failed.exchange(true)) {
            std::lock_guard lock(f.error_mutex);
            f.error = status.error().message;
        }
        f.pending.fetch_sub(1, std::memory_order_acq_rel);  // the Deferred's hold remains
        return false;
    }
    return true;
}

void Deferred::complete() {
    if (!_record) {
        return;
    }
    auto f = std::move(_record);
    auto& impl = *static_cast<StreamProcessor::Impl*>(f->impl);
    if (f->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        impl.push_completion(std::move(f->keep_alive));
    }
}

void Deferred::abandon() noexcept {
    if (!_record) {
        return;
    }
    _record->abandoned.store(true);
    try {
        complete();  // released (its outputs' callbacks may still hold it), never committed
    } catch (...) {
    }
}

ProcessorMetrics StreamProcessor::metrics() const {
    const auto& i = *_impl;
    ProcessorMetrics m;
    m.consumed = i.consumed.load();
    m.processed = i.processed.load();
    m.unhandled = i.unhandled.load();
    m.produced = i.produced.load();
    m.failed = i.failed.load();
    m.retried = i.retried.load();
    m.dead_lettered = i.dead_lettered.load();
    m.truncated_dead_letters = i.truncated_dead_letters.load();
    m.unfinished_at_stop = i.unfinished_at_stop.load();
    m.fetch_stalls = i.fetch_stalls.load();
    m.in_flight = i.in_flight.load();
    m.max_in_flight_seen = i.max_in_flight_seen.load();
    m.backpressure_pauses = i.backpressure_pauses.load();
    m.transactions = i.transactions.load();
    m.aborted_transactions = i.aborted_transactions.load();
    m.checkpoints = i.checkpoints.load();
    m.assigned_partitions = i.assigned_count.load();
    m.failed_checkpoints = i.failed_checkpoints.load();
    m.latency_p50_us = i.latency.quantile(0.5);
    m.latency_p95_us = i.latency.quantile(0.95);
    m.latency_p99_us = i.latency.quantile(0.99);
    m.e2e_p50_us = i.e2e.quantile(0.5);
    m.e2e_p95_us = i.e2e.quantile(0.95);
    m.e2e_p99_us = i.e2e.quantile(0.99);
    if (auto* c = i.consumer_view.load()) {
        auto stats = c->stats();
        m.rebalances = stats.rebalances;
        m.lost = stats.lost;
        std::int64_t lag = 0;
        bool known = false;
        for (const auto& p : c->lag()) {
            if (p.lag >= 0) {
                lag += p.lag;
                known = true;
            }
        }
        m.lag = known ? lag : -1;
        if (stats.brokers_down_for.count() > 0) {
            m.healthy = false;
            m.health = fmt::format("no broker reachable for {} s; retrying",
                                   stats.brokers_down_for.count() / 1000);
        } else if (i.stalled.load()) {
            auto since = std::chrono::milliseconds(i.stalled_since_ms.load());
            auto quiet = std::chrono::duration_cast<std::chrono::seconds>(
                Clock::now().time_since_epoch() - since);
            m.healthy = false;
            m.health = fmt::format(
                "input stalled: {} event(s) behind, nothing received for {} s; fetch restarted "
                "{} time(s)",
                i.stalled_behind.load(), quiet.count(), i.fetch_stalls.load());
        }
    }
    return m;
}

const ProcessorOptions& StreamProcessor::options() const noexcept {
    return _impl->options;
}

const std::string& StreamProcessor::group_id() const noexcept {
    return _impl->group_id;
}

void run_until_idle(StreamProcessor& processor, std::chrono::milliseconds idle,
                    const std::function<bool()>& should_stop) {
    std::exception_ptr failure;
    std::atomic<bool> ended{false};
    std::thread worker([&] {
        try {
            processor.run();
        } catch (...) {
            failure = std::current_exception();
        }
        ended.store(true);
    });
    auto last_progress = Clock::now();
    std::uint64_t last_consumed = 0;
    while (!ended.load() && !(should_stop && should_stop())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto m = processor.metrics();
        // Idle time counts once the group gave the processor its partitions.
        if (m.consumed != last_consumed || m.in_flight != 0 || m.rebalances == 0) {
            last_consumed = m.consumed;
            last_progress = Clock::now();
        } else if (idle.count() > 0 && Clock::now() - last_progress > idle) {
            break;
        }
    }
    processor.stop();
    worker.join();
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace agentstream::runtime
