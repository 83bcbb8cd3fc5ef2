#include <agentstream/core/histogram.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/producer.h>

#include <fmt/format.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>

#include "internal/kafka_handle.h"
#include "internal/log.h"

namespace agentstream::kafka {

using namespace detail;
using Clock = std::chrono::steady_clock;

namespace {

struct TopicState {
    std::string name;
    UniqueTopic rkt;
    const Partitioner* partitioner = nullptr;  // the producer's custom partitioner, if any
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> retried{0};
    std::atomic<std::uint64_t> bytes{0};
    Histogram ack_latency;
};

// Per-record state kept only when needed (a callback to call or a retry in progress).
struct Pending {
    DeliveryCallback callback;
    int attempts = 1;
};

// A record's opaque is a Pending* or, for a first attempt reporting to a sink, the sink's
// address with the lowest bit set (both are at least 2-aligned).
void* sink_opaque(DeliverySink* sink) {
    return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(sink) | 1U);
}
DeliverySink* sink_of(void* opaque) {
    auto bits = reinterpret_cast<std::uintptr_t>(opaque);
    return (bits & 1U) != 0 ? reinterpret_cast<DeliverySink*>(bits & ~std::uintptr_t{1}) : nullptr;
}

struct RetryItem {
    TopicState* topic;
    std::string key;
    bool has_key;
    std::string value;
    rd_kafka_headers_t* headers;  // owned
    std::int32_t partition;
    std::unique_ptr<Pending> pending;
};

std::atomic<std::uint64_t> g_producer_ids{0};

}  // namespace

struct Producer::Impl {
    ProducerOptions options;
    UniqueHandle rk;
    std::shared_ptr<spdlog::logger> log = logger("kafka");
    // Never reused, unlike addresses: keys the per-thread topic cache below.
    const std::uint64_t id = g_producer_ids.fetch_add(1, std::memory_order_relaxed) + 1;

    mutable std::shared_mutex topics_mutex;
    std::map<std::string, std::unique_ptr<TopicState>, std::less<>> topics;

    std::atomic<std::int64_t> outstanding{0};
    std::mutex flush_mutex;
    std::condition_variable flush_cv;

    std::mutex retry_mutex;
    std::multimap<Clock::time_point, RetryItem> retries;
    std::mt19937 jitter{std::random_device{}()};

    // Delivery reports are served by whichever thread holds this token: a thread in send()
    // takes it when free (so records are mostly freed on the thread that allocated them, as
    // with a plain librdkafka loop), the delivery thread otherwise. Callbacks never overlap.
    std::atomic<bool> serving{false};
    std::atomic<std::uint64_t> served_by_senders{0};  // changes while senders keep up

    std::jthread poller;

    TopicState* topic(std::string_view name) {
        // A sending thread mostly sends to the topic it sent to last: remember it, per thread
        // and producer (topic states live as long as their producer).
        thread_local std::uint64_t last_producer = 0;
        thread_local TopicState* last_topic = nullptr;
        if (last_producer == id && last_topic->name == name) {
            return last_topic;
        }
        {
            std::shared_lock lock(topics_mutex);
            if (auto it = topics.find(name); it != topics.end()) {
                last_producer = id;
                last_topic = it->second.get();
                return last_topic;
            }
        }
        std::unique_lock lock(topics_mutex);
        if (auto it = topics.find(name); it != topics.end()) {
            return it->second.get();
        }
        auto state = std::make_unique<TopicState>();
        state->name = std::string(name);
        state->partitioner = options.partitioner ? &options.partitioner : nullptr;
        rd_kafka_topic_conf_t* tconf = rd_kafka_default_topic_conf_dup(rk.get());
        rd_kafka_topic_conf_set_opaque(tconf, state.get());
        if (options.partitioner) {
            rd_kafka_topic_conf_set_partitioner_cb(tconf, &partitioner_trampoline);
        }
        state->rkt.reset(rd_kafka_topic_new(rk.get(), state->name.c_str(), tconf));
        if (!state->rkt) {
            throw KafkaError(fmt::format("cannot open topic {}: {}", name,
                                         rd_kafka_err2str(rd_kafka_last_error())));
        }
        auto* raw = state.get();
        topics.emplace(state->name, std::move(state));
        return raw;
    }

    static std::int32_t partitioner_trampoline(const rd_kafka_topic_t* rkt, const void* key,
                                               size_t keylen, std::int32_t partition_cnt,
                                               void* rkt_opaque, void*) noexcept {
        auto* state = static_cast<TopicState*>(rkt_opaque);
        try {
            auto p = (*state->partitioner)(
                std::string_view(static_cast<const char*>(key), key ? keylen : 0), partition_cnt);
            if (p >= 0 && p < partition_cnt && rd_kafka_topic_partition_available(rkt, p)) {
                return p;
            }
            return p >= 0 && p < partition_cnt ? p : RD_KAFKA_PARTITION_UA;
        } catch (...) {
            return RD_KAFKA_PARTITION_UA;
        }
    }

    // Queues one record; takes ownership of `headers` and `opaque` on success.
    rd_kafka_resp_err_t produce(TopicState* t, std::string_view key, bool has_key,
                                std::string_view value, rd_kafka_headers_t* headers,
                                std::int32_t partition, void* opaque) {
        std::optional<Clock::time_point> deadline;
        auto pause = std::chrono::microseconds(200);
        while (true) {
            auto err = rd_kafka_producev(
                rk.get(), RD_KAFKA_V_RKT(t->rkt.get()), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
                options.queue_full == QueueFullPolicy::FailFast) {
                return err;
            }
            auto now = Clock::now();
            if (!deadline) {
                deadline = now + options.block_timeout;
            } else if (now >= *deadline) {
                return err;
            }
            if (serve(0) > 0) {
                continue;  // delivery reports freed room
            }
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::microseconds(10'000));
        }
    }

    void finish_one() {
        if (outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(flush_mutex);
            flush_cv.notify_all();
        }
    }

    static void dr_trampoline(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) noexcept {
        try {
            static_cast<Impl*>(opaque)->on_delivery(m);
        } catch (const std::exception& e) {
            logger("kafka")->error("delivery callback threw: {}", e.what());
        } catch (...) {
            logger("kafka")->error("delivery callback threw");
        }
    }

    void on_delivery(const rd_kafka_message_t* m) {
        auto* state = static_cast<TopicState*>(rd_kafka_topic_opaque(m->rkt));
        DeliverySink* sink = sink_of(m->_private);
        std::unique_ptr<Pending> pending(sink != nullptr ? nullptr
                                                         : static_cast<Pending*>(m->_private));
        int attempts = pending ? pending->attempts : 1;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && is_retriable(m->err) &&
            attempts <= options.max_retries) {
            if (sink != nullptr) {
                // A resend needs per-record state: the sink is called through a Pending now.
                pending = std::make_unique<Pending>();
                pending->callback = [sink](const DeliveryReport& r) { sink->on_delivery(r); };
            }
            schedule_retry(state, m, std::move(pending), attempts);
            return;
        }
        DeliveryReport report;
        report.topic = state->name;
        report.partition = m->partition;
        report.offset = m->offset;
        report.attempts = attempts;
        report.latency =
            std::chrono::microseconds(std::max<std::int64_t>(0, rd_kafka_message_latency(m)));
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            report.ok = true;
            state->sent.fetch_add(1, std::memory_order_relaxed);
            state->bytes.fetch_add(m->len + m->key_len, std::memory_order_relaxed);
            state->ack_latency.record(report.latency);
        } else {
            report.error = rd_kafka_err2str(m->err);
            report.too_large = m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
            state->failed.fetch_add(1, std::memory_order_relaxed);
            log->warn("delivery to {} failed after {} attempt(s): {}", state->name, attempts,
                      report.error);
        }
        if (sink != nullptr) {
            sink->on_delivery(report);
        } else if (pending && pending->callback) {
            pending->callback(report);
        }
        finish_one();
    }

    void schedule_retry(TopicState* state, const rd_kafka_message_t* m,
                        std::unique_ptr<Pending> pending, int attempts) {
        if (!pending) {
            pending = std::make_unique<Pending>();
        }
        pending->attempts = attempts + 1;
        auto base = options.retry_backoff * (1LL << std::min(attempts - 1, 20));
        auto capped = std::min<std::chrono::milliseconds>(
            std::chrono::duration_cast<std::chrono::milliseconds>(base), options.retry_backoff_max);
        RetryItem item{state,
                       m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : "",
                       m->key != nullptr,
                       m->payload ? std::string(static_cast<const char*>(m->payload), m->len) : "",
                       nullptr,
                       m->partition,
                       std::move(pending)};
        rd_kafka_headers_t* hdrs = nullptr;
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != nullptr) {
            item.headers = rd_kafka_headers_copy(hdrs);
        }
        state->retried.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(retry_mutex);
        std::uniform_real_distribution<double> dist(0.5, 1.0);
        auto delay = std::chrono::duration_cast<Clock::duration>(capped * dist(jitter));
        log->info("delivery to {} failed ({}); resending in {} ms (attempt {})", state->name,
                  rd_kafka_err2str(m->err),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
                  attempts + 1);
        retries.emplace(Clock::now() + delay, std::move(item));
    }

    // A resend that will not happen: its record's final report, failed with `error`.
    void fail_resend(RetryItem& item, const char* error) {
        if (item.headers != nullptr) {
            rd_kafka_headers_destroy(item.headers);
            item.headers = nullptr;
        }
        item.topic->failed.fetch_add(1, std::memory_order_relaxed);
        if (item.pending->callback) {
            DeliveryReport report;
            report.topic = item.topic->name;
            report.error = error;
            report.attempts = item.pending->attempts;
            item.pending->callback(report);
        }
        finish_one();
    }

    void run_due_retries() {
        std::vector<RetryItem> due;
        {
            std::lock_guard lock(retry_mutex);
            auto now = Clock::now();
            while (!retries.empty() && retries.begin()->first <= now) {
                due.push_back(std::move(retries.begin()->second));
                retries.erase(retries.begin());
            }
        }
        for (auto& item : due) {
            // A resend keeps the partition the first attempt chose, preserving key placement.
            auto err = rd_kafka_producev(
                rk.get(), RD_KAFKA_V_RKT(item.topic->rkt.get()),
                RD_KAFKA_V_PARTITION(item.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(item.value.data(), item.value.size()),
                RD_KAFKA_V_KEY(item.has_key ? item.key.data() : nullptr, item.key.size()),
                RD_KAFKA_V_HEADERS(item.headers), RD_KAFKA_V_OPAQUE(item.pending.get()),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                item.pending.release();
                continue;
            }
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                std::lock_guard lock(retry_mutex);
                retries.emplace(Clock::now() + std::chrono::milliseconds(50), std::move(item));
                continue;
            }
            fail_resend(item, rd_kafka_err2str(err));
        }
    }

    // Serves the delivery reports queued so far if no other thread is serving them; returns
    // how many were served (0 when another thread holds the token). A delivery callback that
    // calls send() finds the token taken and does not recurse.
    int serve(int timeout_ms) {
        if (serving.load(std::memory_order_relaxed) ||
            serving.exchange(true, std::memory_order_acquire)) {
            return 0;
        }
        int served = rd_kafka_poll(rk.get(), timeout_ms);
        serving.store(false, std::memory_order_release);
        return served;
    }

    // Serves delivery reports without ever blocking inside librdkafka: a thread parked in
    // rd_kafka_poll() makes librdkafka signal a condition variable for every report it queues,
    // which under load costs more than the reports themselves. Polling without a timeout and
    // napping only when idle (1 ms, growing to 10 ms) keeps the per-event cost flat.
    //
    // While senders serve reports themselves, this thread leaves the queue to them and only
    // runs resends: taking the token between two sends would free their records here again.
    void poll_loop(std::stop_token stop) {
        auto nap = std::chrono::microseconds(1000);
        std::uint64_t senders_seen = served_by_senders.load(std::memory_order_relaxed);
        while (!stop.stop_requested()) {
            auto senders_now = served_by_senders.load(std::memory_order_relaxed);
            if (senders_now != senders_seen) {
                senders_seen = senders_now;
                run_due_retries();
                std::this_thread::sleep_for(std::chrono::microseconds(1000));
                continue;
            }
            int served = serve(0);
            run_due_retries();
            if (served > 0) {
                nap = std::chrono::microseconds(1000);
                continue;
            }
            std::this_thread::sleep_for(nap);
            nap = std::min(nap * 2, std::chrono::microseconds(10'000));
        }
    }
};

Producer::Producer(ProducerOptions options) : _impl(std::make_unique<Impl>()) {
    auto& impl = *_impl;
    impl.options = std::move(options);
    if (!impl.options.transactional_id.empty()) {
        impl.options.max_retries = 0;  // a resend would land outside its transaction
    }
    const auto& o = impl.options;
    ConfBuilder conf;
    conf.client(o)
        .statistics()
        .set("enable.idempotence", o.idempotence ? "true" : "false")
        .set("acks", o.acks)
        .set("linger.ms", std::to_string(o.linger.count()))
        .set("batch.size", std::to_string(o.batch_size))
        .set("batch.num.messages", std::to_string(o.batch_messages))
        .set("compression.codec", o.compression)
        .set("queue.buffering.max.messages", std::to_string(o.queue_max_messages))
        .set("message.max.bytes", std::to_string(o.max_message_bytes))
        .set("message.timeout.ms", std::to_string(o.message_timeout.count()))
        .set("partitioner", "murmur2_random");
    if (!o.transactional_id.empty()) {
        conf.set("transactional.id", o.transactional_id)
            .set("transaction.timeout.ms", std::to_string(o.transaction_timeout.count()))
            .set("message.timeout.ms",
                 std::to_string(std::min(o.message_timeout, o.transaction_timeout).count()));
    }
    conf.set_all(o.properties);
    rd_kafka_conf_set_opaque(conf.get(), &impl);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::dr_trampoline);
    impl.rk = make_handle(RD_KAFKA_PRODUCER, conf.release());
    impl.poller = std::jthread([&impl](std::stop_token stop) {
        ::pthread_setname_np(::pthread_self(), "as:delivery");  // as seen in top -H
        impl.poll_loop(stop);
    });
}

Producer::~Producer() {
    if (!flush(_impl->options.flush_timeout)) {
        _impl->log->error("producer closing with {} event(s) undelivered after {} ms", in_flight(),
                          _impl->options.flush_timeout.count());
    }
    _impl->poller.request_stop();
    _impl->poller.join();
    {
        std::lock_guard lock(_impl->retry_mutex);
        for (auto& [when, item] : _impl->retries) {
            if (item.headers != nullptr) {
                rd_kafka_headers_destroy(item.headers);
            }
        }
        _impl->retries.clear();
    }
    _impl->topics.clear();  // topic handles before the client handle
}

namespace {
// A consumed record's key and value as they go out again (null stays null).
std::string_view key_of(const Message& record) {
    return record.has_key() ? record.key() : std::string_view();
}
std::string_view value_of(const Message& record) {
    return record.is_null() ? std::string_view() : record.value();
}

rd_kafka_headers_t* to_rd_headers(const Headers& headers) {
    if (headers.empty()) {
        return nullptr;
    }
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [name, v] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                            static_cast<ssize_t>(v.size()));
    }
    return hdrs;
}
}  // namespace

Status Producer::send(std::string_view topic, std::string_view key, std::string_view value,
                      const Headers& headers, DeliveryCallback on_delivery,
                      std::optional<std::int32_t> partition) {
    return send_with(topic, key, value, to_rd_headers(headers), std::move(on_delivery), partition);
}

void* Producer::copied_headers(const Message& record) {
    const auto* m = static_cast<const rd_kafka_message_t*>(record._msg);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != nullptr) {
        return rd_kafka_headers_copy(hdrs);
    }
    return nullptr;
}

void* Producer::taken_headers(Message& record) {
    // librdkafka parses a consumed record's headers from its bytes when first asked for them;
    // once detached, the next request parses them again. So the record keeps its headers for
    // later readers (a dead letter, say) and the output takes the parsed list, uncopied.
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_detach_headers(static_cast<rd_kafka_message_t*>(record._msg), &hdrs) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        return nullptr;
    }
    return hdrs;
}

Status Producer::forward(std::string_view topic, const Message& record,
                         DeliveryCallback on_delivery) {
    return send_with(topic, key_of(record), value_of(record), copied_headers(record),
                     std::move(on_delivery), std::nullopt);
}

Status Producer::forward(std::string_view topic, Message& record, DeliverySink& sink) {
    return send_with_headers_of(topic, key_of(record), value_of(record), record, false, sink);
}

Status Producer::send_with_headers_of(std::string_view topic, std::string_view key,
                                      std::string_view value, Message& record, bool take,
                                      DeliverySink& sink) {
    return send_with(topic, key, value, take ? taken_headers(record) : copied_headers(record), {},
                     std::nullopt, &sink);
}

Status Producer::forward_last(std::string_view topic, Message& record, DeliverySink& sink) {
    return send_with_headers_of(topic, key_of(record), value_of(record), record, true, sink);
}

Status Producer::send_with(std::string_view topic, std::string_view key, std::string_view value,
                           void* rd_headers, DeliveryCallback on_delivery,
                           std::optional<std::int32_t> partition, DeliverySink* sink) {
    auto* state = _impl->topic(topic);
    auto* hdrs = static_cast<rd_kafka_headers_t*>(rd_headers);
    std::unique_ptr<Pending> pending;
    if (on_delivery && sink == nullptr) {
        pending = std::make_unique<Pending>();
        pending->callback = std::move(on_delivery);
    }
    _impl->outstanding.fetch_add(1, std::memory_order_acq_rel);
    auto err = _impl->produce(state, key, !key.empty(), value, hdrs,
                              partition.value_or(RD_KAFKA_PARTITION_UA),
                              sink != nullptr ? sink_opaque(sink) : pending.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (hdrs != nullptr) {
            rd_kafka_headers_destroy(hdrs);
        }
        _impl->finish_one();
        state->failed.fetch_add(1, std::memory_order_relaxed);
        return failure(Error{fmt::format("cannot send to {}: {}", topic, rd_kafka_err2str(err))});
    }
    pending.release();  // owned by the record until its delivery report
    if (_impl->serve(0) > 0) {
        _impl->served_by_senders.fetch_add(1, std::memory_order_relaxed);
    }
    return {};
}

Status Producer::send(std::string_view topic, const event::Event& event,
                      DeliveryCallback on_delivery) {
    thread_local std::string buffer;
    buffer.clear();
    event::encode(event, buffer);
    return send(topic, event::record_key(event), buffer, event::record_headers(event),
                std::move(on_delivery));
}

bool Producer::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(_impl->flush_mutex);
    return _impl->flush_cv.wait_for(
        lock, timeout, [this] { return _impl->outstanding.load(std::memory_order_acquire) <= 0; });
}

std::int64_t Producer::in_flight() const noexcept {
    return _impl->outstanding.load(std::memory_order_acquire);
}

void Producer::purge() {
    auto& impl = *_impl;
    rd_kafka_purge(impl.rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    std::vector<RetryItem> waiting;
    {
        std::lock_guard lock(impl.retry_mutex);
        for (auto& [when, item] : impl.retries) {
            waiting.push_back(std::move(item));
        }
        impl.retries.clear();
    }
    if (waiting.empty()) {
        return;
    }
    // Callbacks never overlap: take the token the delivery thread serves reports with.
    while (impl.serving.exchange(true, std::memory_order_acquire)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& item : waiting) {
        impl.fail_resend(item, "purged: the producer gave up before a resend");
    }
    impl.serving.store(false, std::memory_order_release);
}

std::size_t Producer::max_message_bytes() const {
    char text[32];
    std::size_t size = sizeof text;
    if (rd_kafka_conf_get(rd_kafka_conf(_impl->rk.get()), "message.max.bytes", text, &size) !=
        RD_KAFKA_CONF_OK) {
        return static_cast<std::size_t>(_impl->options.max_message_bytes);
    }
    return static_cast<std::size_t>(std::strtoull(text, nullptr, 10));
}

std::map<std::string, TopicStats> Producer::stats() const {
    std::map<std::string, TopicStats> out;
    std::shared_lock lock(_impl->topics_mutex);
    for (const auto& [name, t] : _impl->topics) {
        TopicStats s;
        s.sent = t->sent.load();
        s.failed = t->failed.load();
        s.retried = t->retried.load();
        s.bytes = t->bytes.load();
        s.ack_latency_p50_us = t->ack_latency.quantile(0.5);
        s.ack_latency_p99_us = t->ack_latency.quantile(0.99);
        s.ack_latency_max_us = t->ack_latency.max();
        out.emplace(name, s);
    }
    return out;
}

namespace {
Producer::TxnStatus txn_result(rd_kafka_error_t* raw, std::string_view what) {
    if (raw == nullptr) {
        return {};
    }
    UniqueError err(raw);
    Producer::TransactionError e;
    e.message = fmt::format("{}: {}", what, rd_kafka_error_string(err.get()));
    e.retriable = rd_kafka_error_is_retriable(err.get()) != 0;
    e.abort_needed = rd_kafka_error_txn_requires_abort(err.get()) != 0;
    e.fatal = rd_kafka_error_is_fatal(err.get()) != 0;
    return failure(std::move(e));
}
}  // namespace

Producer::TxnStatus Producer::init_transactions(std::chrono::milliseconds timeout) {
    return txn_result(
        rd_kafka_init_transactions(_impl->rk.get(), static_cast<int>(timeout.count())),
        "init transactions");
}

Producer::TxnStatus Producer::begin_transaction() {
    return txn_result(rd_kafka_begin_transaction(_impl->rk.get()), "begin transaction");
}

Producer::TxnStatus Producer::send_offsets_to_transaction(
    const std::vector<std::pair<TopicPartition, std::int64_t>>& offsets, const GroupMetadata& group,
    std::chrono::milliseconds timeout) {
    UniquePartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, next] : offsets) {
        rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
            next;
    }
    return txn_result(rd_kafka_send_offsets_to_transaction(
                          _impl->rk.get(), list.get(),
                          static_cast<const rd_kafka_consumer_group_metadata_t*>(group.native()),
                          static_cast<int>(timeout.count())),
                      "send offsets to transaction");
}

Producer::TxnStatus Producer::commit_transaction(std::chrono::milliseconds timeout) {
    return txn_result(
        rd_kafka_commit_transaction(_impl->rk.get(), static_cast<int>(timeout.count())),
        "commit transaction");
}

Producer::TxnStatus Producer::abort_transaction(std::chrono::milliseconds timeout) {
    return txn_result(
        rd_kafka_abort_transaction(_impl->rk.get(), static_cast<int>(timeout.count())),
        "abort transaction");
}

Result<std::int32_t> Producer::partition_count(std::string_view topic,
                                               std::chrono::milliseconds timeout) {
    auto* state = _impl->topic(topic);
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(_impl->rk.get(), 0, state->rkt.get(), &md,
                                 static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return failure(Error{fmt::format("metadata for {}: {}", topic, rd_kafka_err2str(err))});
    }
    std::int32_t count = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR
                             ? md->topics[0].partition_cnt
                             : -1;
    auto topic_err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    rd_kafka_metadata_destroy(md);
    if (count < 0) {
        return failure(
            Error{fmt::format("metadata for {}: {}", topic, rd_kafka_err2str(topic_err))});
    }
    return count;
}

}  // namespace agentstream::kafka
