// StreamProcessor: consume topics in a group, hand each valid event to user code, produce its
// outputs, commit the input only when its outputs are acknowledged (at-least-once), and send
// what cannot be processed, byte for byte, to a dead-letter topic with the reason.
#pragma once

#include <agentstream/event/codec.h>
#include <agentstream/event/event.h>
#include <agentstream/event/types.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>
#include <agentstream/monitor/event_tail.h>
#include <agentstream/monitor/metrics.h>
#include <agentstream/runtime/retry.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::kafka {
class Producer;
}  // namespace agentstream::kafka

namespace agentstream::runtime {

/// Thrown by a handler when trying again may succeed (a dependency timed out, ...): the event is
/// retried in process with backoff (RetryPolicy), then dead-lettered.
class RetriableError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Thrown by a handler when the event can never be processed. Any other exception a handler
/// throws is treated the same way: the event goes to the dead-letter topic at once.
class PermanentError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The largest record a processor's producer sends (its message.max.bytes, unless the producer
/// properties say otherwise): an event at event::MAX_EVENT_BYTES with room for its headers, so
/// whatever the processor accepts it can also write. Dead letters are cut to fit it.
inline constexpr int MAX_RECORD_BYTES = static_cast<int>(event::MAX_EVENT_BYTES) + 64 * 1024;

enum class Guarantee {
    AtLeastOnce,  ///< commit after outputs are acknowledged; a crash may repeat, never lose
    ExactlyOnce,  ///< Kafka transactions; real Kafka only (the embedded broker is refused)
};

struct ProcessorOptions {
    /// Names the processor in logs, metrics and dead-letter headers.
    std::string name = "processor";
    /// Consumer group; empty: `agentstream-<name>`.
    std::string group_id;
    std::vector<std::string> inputs;
    /// Brokers, client id and librdkafka properties for both clients.
    kafka::ClientOptions client;
    kafka::Properties producer_properties;  ///< applied after `client.properties`
    kafka::Properties consumer_properties;  ///< applied after `client.properties`
    /// A producer shared with other processors of the process (at-least-once only; null: the
    /// processor makes its own). Their outputs then travel in the same batches and requests:
    /// fewer threads and far fewer produce requests for the broker to serve. The processor
    /// tracks its own sends; `producer_properties` do not apply to it. At a stop past
    /// shutdown_timeout its unwritten outputs are given up as with its own producer, but it
    /// cannot purge a shared queue: it waits for their final reports (bounded by the shared
    /// producer's message timeout) before its consumer closes.
    std::shared_ptr<kafka::Producer> producer;
    kafka::StartFrom start_from = kafka::StartFrom::Earliest;
    Guarantee guarantee = Guarantee::AtLeastOnce;
    /// Exactly-once: the producer's transactional.id; empty: `<group>-<name>`. Each running
    /// instance needs its own, stable across its restarts (a restarted instance then aborts
    /// what its crashed predecessor left open at once).
    std::string transactional_id;
    /// Exactly-once: a transaction is committed after this long or this many input events.
    std::chrono::milliseconds transaction_interval{100};
    std::size_t transaction_max_events = 5'000;
    RetryPolicy retry;
    /// Empty: `<input topic>.dlq` for each input.
    std::string dead_letter_topic;
    /// Events received and not yet committable (handler running, outputs unacknowledged). At
    /// the limit, the processor pauses its partitions (staying in the group) until half drain.
    /// Each holds its consumed record: about 20 MB at the default for 300-byte events. Too low
    /// a bound costs throughput (a pause drops what was prefetched): it must cover the events
    /// consumed during one output acknowledgement round trip.
    std::size_t max_in_flight = 50'000;
    /// Threads running handlers. 1: on the processing thread, in partition order. More: events
    /// of one key always go to the same worker, so per-key order holds while different keys run
    /// in parallel (handlers must then be thread-safe). At-least-once only.
    int workers = 1;
    /// On stop(): how long to wait for in-flight events before committing what completed.
    std::chrono::milliseconds shutdown_timeout{30'000};
    /// On a rebalance: how long to wait for the revoked partitions' in-flight events.
    std::chrono::milliseconds revoke_timeout{10'000};
    /// The fetch watchdog: partitions assigned and behind (asked from the broker), yet nothing
    /// received for this long, is a stalled fetch: it is restarted (kafka::Consumer::refetch),
    /// counted (ProcessorMetrics::fetch_stalls) and unhealthy until records arrive again.
    /// Zero turns it off.
    std::chrono::milliseconds stall_timeout{60'000};
    /// Stateful processors (keeps_state()): how often a checkpoint writes their state and
    /// commits the input offsets (exactly-once: with each transaction instead).
    std::chrono::milliseconds checkpoint_interval{1000};
    /// When set (it must outlive the processor): events_total{topic,type},
    /// processing_latency_ms / e2e_latency_ms{processor}, errors_total{component} and
    /// dead_letters_total{topic} are recorded into it.
    monitor::MetricsRegistry* metrics = nullptr;
    /// When set (it must outlive the processor): a sample of processed events and every
    /// dead-lettered one, for the dashboard's tail.
    monitor::EventTail* tail = nullptr;
};

class StreamProcessor;
namespace detail {
struct InFlight;  // a received record until it is committable (processor.cc)
}  // namespace detail

/// An event a processor holds open past its handler: an agent task that ends seconds later.
/// Got from Context::defer(); it stays in the processor's in-flight ledger (counted against
/// max_in_flight, its input uncommitted) until complete() and its outputs' acknowledgements.
/// Outputs sent through it go with its input, as a handler's do. Move-only; any thread, one at
/// a time. Dropped without complete(), the event is left uncommitted: it is processed again
/// after a restart or a rebalance. At-least-once only.
class Deferred {
  public:
    Deferred() = default;
    Deferred(Deferred&&) noexcept = default;
    Deferred& operator=(Deferred&& other) noexcept;
    Deferred(const Deferred&) = delete;
    Deferred& operator=(const Deferred&) = delete;
    ~Deferred();

    /// Sends `event` to `topic` (as Context::emit). False when it could not be queued (the
    /// event is then dead-lettered once completed).
    bool emit(std::string_view topic, const event::Event& event);
    /// The event is done: committable once every output sent for it is acknowledged.
    void complete();
    /// Gives the event up without completing it: left uncommitted, processed again later.
    void abandon() noexcept;
    explicit operator bool() const noexcept { return static_cast<bool>(_record); }
    /// The record it holds (valid while this holds it).
    const kafka::Message& record() const;

  private:
    friend class Context;
    explicit Deferred(std::shared_ptr<detail::InFlight> record) : _record(std::move(record)) {}
    std::shared_ptr<detail::InFlight> _record;
};

/// Sends a processor's outputs that belong to no input record: what punctuate() or a
/// lifecycle hook emits. At-least-once, they are written without holding any input (a
/// stateful processor's checkpoint still waits for them); exactly-once, they go in the open
/// transaction. Delivery failures are logged and counted (ProcessorMetrics::failed).
class Emitter {
  public:
    void emit(std::string_view topic, const event::Event& event);
    void send(std::string_view topic, std::string_view key, std::string_view value,
              const kafka::Headers& headers = {});

  private:
    friend class StreamProcessor;
    explicit Emitter(void* impl) : _impl(impl) {}
    void* _impl;
};

/// Where a stateful processor writes its state at a checkpoint (see
/// StreamProcessor::keeps_state): records for a changelog topic, on the input's partition
/// number, acknowledged before the input offsets are committed.
class CheckpointWriter {
  public:
    /// An empty `value` with `tombstone` writes a null value (a deletion in a compacted topic).
    void write(std::string_view topic, std::string_view key, std::string_view value,
               bool tombstone = false);

  private:
    friend class StreamProcessor;
    CheckpointWriter(void* impl, std::int32_t partition) : _impl(impl), _partition(partition) {}
    void* _impl;
    std::int32_t _partition;
};

/// Given to a handler: where its outputs go. Outputs are sent only after the handler returns
/// successfully, so a retried handler never produces twice.
class Context {
  public:
    /// Sends `event` to `topic` (JSON, keyed by its entity, with the catalogue's headers).
    void emit(std::string_view topic, const event::Event& event);
    /// Sends the input record unchanged (key, value bytes, headers) to `topic`.
    void forward(std::string_view topic);
    /// Sends an already encoded event: `value` (JSON) with `key` and `headers` to `topic`.
    void send(std::string_view topic, std::string key, std::string value, kafka::Headers headers);
    /// Same, with the input record's headers (not copied until the record is produced).
    void send(std::string_view topic, std::string key, std::string value);
    /// The same from views, copied into a buffer reused from record to record (no allocation
    /// once warm): for bytes that will not outlive the call, such as the router's output.
    void send_copy(std::string_view topic, std::string_view key, std::string_view value);
    /// The record being processed.
    const kafka::Message& record() const noexcept { return *_record; }
    /// 1 on the first attempt, 2 on the first retry, ...
    int attempt() const noexcept { return _attempt; }
    /// Keeps the event in flight after the handler returns, until the Deferred is completed
    /// (outputs added here before returning are sent at once, with it). At-least-once only:
    /// throws std::logic_error under exactly-once or when called twice.
    Deferred defer();

    struct Output {
        std::string topic;
        bool forward = false;
        bool record_headers = false;  ///< send with the input record's headers
        std::string key;              ///< emit only
        std::string value;            ///< emit only
        kafka::Headers headers;
    };

  private:
    friend class StreamProcessor;
    Context(const kafka::Message& record, int attempt, std::vector<Output>& outputs,
            const std::shared_ptr<detail::InFlight>* owner = nullptr)
        : _record(&record), _attempt(attempt), _outputs(&outputs), _owner(owner) {}
    Output& next_output(std::string_view topic);
    const kafka::Message* _record;
    int _attempt;
    std::vector<Output>* _outputs;  ///< reused between records; the first _count are this one's
    std::size_t _count = 0;
    const std::shared_ptr<detail::InFlight>* _owner;  // null: the event cannot be deferred
    bool _deferred = false;
};

using Handler = std::function<void(const event::Event&, Context&)>;

/// A snapshot of a processor's counters; cheap to take from any thread.
struct ProcessorMetrics {
    std::uint64_t consumed = 0;       ///< records received
    std::uint64_t processed = 0;      ///< handled, outputs acknowledged, committable
    std::uint64_t unhandled = 0;      ///< valid events no handler wanted (acknowledged)
    std::uint64_t produced = 0;       ///< outputs acknowledged by the broker
    std::uint64_t failed = 0;         ///< records that could not be processed (any reason)
    std::uint64_t retried = 0;        ///< handler retries
    std::uint64_t dead_lettered = 0;  ///< dead letters acknowledged by the broker
    /// Of those, written cut to fit their topic (DLQ_ORIGINAL_BYTES says how large it was).
    std::uint64_t truncated_dead_letters = 0;
    /// Events whose outputs were not written within shutdown_timeout when it stopped: given
    /// up and left uncommitted (the next start processes them again).
    std::uint64_t unfinished_at_stop = 0;
    std::uint64_t in_flight = 0;  ///< received, not yet committable
    std::uint64_t max_in_flight_seen = 0;
    std::uint64_t backpressure_pauses = 0;  ///< times the partitions were paused for room
    std::uint64_t rebalances = 0;
    /// Input partitions assigned to it now (0 until the group gave it its share).
    std::size_t assigned_partitions = 0;
    std::uint64_t lost = 0;  ///< deleted by the broker before they were read (retention)
    /// Times the watchdog found the input stalled and restarted its fetch (stall_timeout).
    std::uint64_t fetch_stalls = 0;
    /// From receiving a record to it being committable, in microseconds.
    std::uint64_t latency_p50_us = 0, latency_p95_us = 0, latency_p99_us = 0;
    /// From the event's own timestamp to it being committable, in microseconds.
    std::uint64_t e2e_p50_us = 0, e2e_p95_us = 0, e2e_p99_us = 0;
    std::int64_t lag = -1;  ///< sum over assigned partitions, from cached watermarks
    /// Exactly-once only. After an abort the inputs are read again, so the counters above then
    /// include events processed twice (their first outputs were discarded with the abort).
    std::uint64_t transactions = 0;
    std::uint64_t aborted_transactions = 0;
    /// Stateful processors: checkpoints written (state acknowledged, offsets committed), and
    /// those that could not be (nothing committed; the next one tries again).
    std::uint64_t checkpoints = 0;
    std::uint64_t failed_checkpoints = 0;
    /// false while no broker is reachable (the processor keeps retrying) or while its input is
    /// stalled (behind, nothing arriving); `health` says why.
    bool healthy = true;
    std::string health = "ok";
};

/// The design's StreamProcessor. Register handlers with on() (or override process()), then
/// run() on a thread of your own; stop() from anywhere (also from a signal handler) ends it:
/// fetching stops, in-flight events drain (up to shutdown_timeout; what is not written by then
/// is given up and left uncommitted, see ProcessorMetrics::unfinished_at_stop), offsets are
/// committed and the group is left.
class StreamProcessor {
  public:
    /// Throws std::invalid_argument for unusable options (no inputs, max_in_flight 0).
    explicit StreamProcessor(ProcessorOptions options);
    virtual ~StreamProcessor();
    StreamProcessor(const StreamProcessor&) = delete;
    StreamProcessor& operator=(const StreamProcessor&) = delete;

    /// Adds a handler for an exact type (`task.completed`) or a wildcard (`document.*`, `*`).
    /// Every matching handler runs, in registration order. Throws std::invalid_argument for a
    /// bad pattern.
    StreamProcessor& on(std::string_view pattern, Handler handler);
    StreamProcessor& on(event::EventType type, Handler handler);

    /// Runs until stop(). Throws kafka::KafkaError when the clients cannot be created.
    void run();
    /// Asks run() to finish. Async-signal-safe.
    void stop() noexcept;

    ProcessorMetrics metrics() const;
    const ProcessorOptions& options() const noexcept;
    /// The consumer group: ProcessorOptions::group_id, or `agentstream-<name>` when unset.
    const std::string& group_id() const noexcept;

  protected:
    /// Called for each valid event. The default runs the handlers registered with on() and
    /// returns false if none matched. Throw RetriableError / PermanentError to fail.
    virtual bool process(const event::Event& event, Context& context);

    /// Processors that read only the record's bytes (the router) return false here and
    /// override process_record(): every event is still checked against the catalogue
    /// (invalid ones still go to the dead letters) but not built, which saves its
    /// allocations. Asked once, when run() starts.
    virtual bool reads_events() const noexcept;
    /// Called instead of process() when reads_events() is false; same contract.
    virtual bool process_record(const event::EventSummary& event, Context& context);

    // ---- time ----

    /// How often punctuate() runs, on the processing thread; zero (the default): never.
    /// Asked once, when run() starts.
    virtual std::chrono::milliseconds punctuation_interval() const noexcept;
    /// Time-driven work (stuck tasks, windows of idle partitions): outputs through `out`.
    /// What it throws is logged and counted as an error; the processor goes on.
    virtual void punctuate(std::chrono::steady_clock::time_point now, Emitter& out);

    // ---- lifecycle ----

    /// On the processing thread once the clients exist, before the first record.
    virtual void on_start(Emitter& out);
    /// When stopping begins, before the in-flight events drain: ends work that would hold
    /// them (an agent task still running).
    virtual void on_stopping();
    /// Outputs that belong to no input, from any thread while run() runs. At-least-once only.
    Emitter emitter() noexcept;

    // ---- state ----
    // A stateful processor keeps per-partition state that must survive restarts (windows). The
    // engine then commits input offsets only at checkpoints (every checkpoint_interval, when a
    // partition is revoked, at stop): it waits until every event handled so far is complete,
    // asks checkpoint() for each partition's state records, and commits the offsets once those
    // are acknowledged. With exactly-once the records and the offsets go in one transaction,
    // and an aborted one restores the state (release(), then restore()) before reading again.
    // Stateful processors run one worker.

    /// True for a stateful processor. Asked once, when run() starts.
    virtual bool keeps_state() const noexcept;
    /// A partition was assigned: rebuild its state (from its changelog); returns the offset
    /// to read from (nullopt: the committed one). What it throws stops run().
    virtual std::optional<std::int64_t> restore(const kafka::TopicPartition& input);
    /// Writes the partition's state as of `next_offset` (every event before it handled).
    /// `final`: the partition is being revoked or the processor stops. Returns false to skip:
    /// the partition's offset is then not committed.
    virtual bool checkpoint(const kafka::TopicPartition& input, std::int64_t next_offset,
                            CheckpointWriter& out, bool final);
    /// After a checkpoint round: whether its records were all acknowledged and its offsets
    /// committed (false: the next round must rewrite what this one wrote).
    virtual void checkpoint_done(bool written);
    /// The partition is no longer this processor's (after its final checkpoint): forget it.
    virtual void release(const kafka::TopicPartition& input);

  private:
    void run_engine();
    friend class Deferred;
    friend class Emitter;
    friend class CheckpointWriter;
    friend class Context;
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

/// Runs `processor` on this thread until it stops: stop() was called, `should_stop` (asked
/// every 50 ms, may be empty) returned true, or, with a positive `idle`, the group gave it its
/// partitions and for `idle` nothing arrived and nothing was in flight (a batch job: process
/// what is there, then end). Rethrows what run() threw. `agentstream process --until-idle`.
void run_until_idle(StreamProcessor& processor, std::chrono::milliseconds idle,
                    const std::function<bool()>& should_stop = {});

}  // namespace agentstream::runtime
