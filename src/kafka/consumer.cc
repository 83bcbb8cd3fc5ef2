#include <agentstream/core/ids.h>
#include <agentstream/kafka/consumer.h>

#include <fmt/format.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "internal/kafka_handle.h"
#include "internal/log.h"

namespace agentstream::kafka {

using namespace detail;

namespace {
rd_kafka_message_t* as_msg(void* p) {
    return static_cast<rd_kafka_message_t*>(p);
}
}  // namespace

// ---- Message ----

Message::Message(void* rd_message) noexcept : _msg(rd_message) {}
Message::Message(Message&& other) noexcept : _msg(std::exchange(other._msg, nullptr)) {}
Message& Message::operator=(Message&& other) noexcept {
    if (this != &other) {
        if (_msg != nullptr) {
            rd_kafka_message_destroy(as_msg(_msg));
        }
        _msg = std::exchange(other._msg, nullptr);
    }
    return *this;
}
Message::~Message() {
    if (_msg != nullptr) {
        rd_kafka_message_destroy(as_msg(_msg));
    }
}
std::string_view Message::topic() const noexcept {
    return rd_kafka_topic_name(as_msg(_msg)->rkt);
}
const void* Message::topic_handle() const noexcept {
    return as_msg(_msg)->rkt;
}
std::int32_t Message::partition() const noexcept {
    return as_msg(_msg)->partition;
}
std::int64_t Message::offset() const noexcept {
    return as_msg(_msg)->offset;
}
std::string_view Message::key() const noexcept {
    auto* m = as_msg(_msg);
    return m->key ? std::string_view(static_cast<const char*>(m->key), m->key_len)
                  : std::string_view();
}
bool Message::has_key() const noexcept {
    return as_msg(_msg)->key != nullptr;
}
std::string_view Message::value() const noexcept {
    auto* m = as_msg(_msg);
    return m->payload ? std::string_view(static_cast<const char*>(m->payload), m->len)
                      : std::string_view();
}
bool Message::is_null() const noexcept {
    return as_msg(_msg)->payload == nullptr;
}

std::optional<std::string_view> Message::header(std::string_view name) const noexcept {
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(as_msg(_msg), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return std::nullopt;
    }
    std::string n(name);
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(hdrs, n.c_str(), &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return std::nullopt;
    }
    return value ? std::string_view(static_cast<const char*>(value), size) : std::string_view();
}

std::vector<std::pair<std::string_view, std::string_view>> Message::headers() const {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(as_msg(_msg), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return out;
    }
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
        out.emplace_back(name, value ? std::string_view(static_cast<const char*>(value), size)
                                     : std::string_view());
    }
    return out;
}

std::optional<std::chrono::system_clock::time_point> Message::timestamp() const noexcept {
    rd_kafka_timestamp_type_t type;
    auto ms = rd_kafka_message_timestamp(as_msg(_msg), &type);
    if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ms < 0) {
        return std::nullopt;
    }
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

// ---- Consumer ----

struct Consumer::Impl {
    ConsumerOptions options;
    UniqueHandle rk;
    std::shared_ptr<spdlog::logger> log = logger("kafka");
    bool closed = false;
    bool subscribed = false;
    std::map<TopicPartition, std::int64_t> manual_start;  // assign(): where each partition began
    // Partitions the application paused and has not resumed, assigned or not (one assigned
    // again is paused again before it starts), and whether partitions assigned from now on
    // start paused (pause_all). Polling thread only.
    std::set<TopicPartition> paused;
    bool pause_new = false;
    // What options.start_offset threw during a rebalance (which runs inside poll()): thrown from
    // that poll(). Polling thread only.
    std::exception_ptr assignment_error;

    // Pauses partitions in librdkafka; returns those it does not know yet (no metadata).
    std::vector<TopicPartition> pause_in_librdkafka(const std::vector<TopicPartition>& parts) {
        std::vector<TopicPartition> unknown;
        if (parts.empty()) {
            return unknown;
        }
        auto list = make_list(parts);
        rd_kafka_pause_partitions(rk.get(), list.get());
        for (int i = 0; i < list->cnt; ++i) {
            if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                unknown.push_back({list->elems[i].topic, list->elems[i].partition});
            }
        }
        return unknown;
    }

    // Called just before partitions are assigned: pauses those that must start paused (all
    // under pause_all, else those paused earlier) before their fetch starts. Returns those to
    // pause once assigned. A pause or resume served after an assignment's fetch start was
    // queued drops the start, and the partition never fetches (librdkafka before 2.4, issue
    // #2190), so the pause must come first.
    std::vector<TopicPartition> pause_before_assign(const std::vector<TopicPartition>& parts) {
        std::vector<TopicPartition> start_paused;
        for (const auto& tp : parts) {
            if (pause_new) {
                paused.insert(tp);
            }
            if (paused.contains(tp)) {
                start_paused.push_back(tp);
            }
        }
        return pause_in_librdkafka(start_paused);
    }

    std::atomic<std::uint64_t> consumed{0};
    std::atomic<std::uint64_t> lost{0};
    std::atomic<std::uint64_t> offset_resets{0};
    std::atomic<std::uint64_t> rebalances{0};
    std::atomic<std::uint64_t> commit_failures{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::int64_t> down_since_ms{0};  // steady clock; 0: brokers reachable

    static std::int64_t steady_ms() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    static void error_trampoline(rd_kafka_t*, int err, const char* reason, void* opaque) noexcept {
        auto* self = static_cast<Impl*>(opaque);
        self->errors.fetch_add(1, std::memory_order_relaxed);
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            std::int64_t expected = 0;
            self->down_since_ms.compare_exchange_strong(expected, steady_ms());
        }
        try {
            self->log->warn("consumer {}: {}", self->options.group_id, reason);
        } catch (...) {
        }
    }

    static void rebalance_trampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t* parts,
                                     void* opaque) noexcept {
        auto* self = static_cast<Impl*>(opaque);
        try {
            self->on_rebalance(err, parts);
        } catch (const std::exception& e) {
            self->log->error("rebalance handling failed: {}", e.what());
        } catch (...) {
            self->log->error("rebalance handling failed");
        }
    }

    void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
        rebalances.fetch_add(1, std::memory_order_relaxed);
        bool coop = std::strcmp(rd_kafka_rebalance_protocol(rk.get()), "COOPERATIVE") == 0;
        auto list = to_vector(parts);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            log->info("{}: assigned {} partition(s)", options.group_id, list.size());
            if (options.start_offset) {
                try {
                    for (int i = 0; i < parts->cnt; ++i) {
                        auto& el = parts->elems[i];
                        if (auto at = options.start_offset({el.topic, el.partition})) {
                            el.offset = *at;
                        }
                    }
                } catch (...) {
                    // Nothing is assigned: a partition must not be read without the state its
                    // start depends on. The owner hears of it from poll().
                    assignment_error = std::current_exception();
                    return;
                }
            }
            auto pause_after = pause_before_assign(list);
            if (coop) {
                UniqueError e(rd_kafka_incremental_assign(rk.get(), parts));
                if (e) {
                    log->error("incremental assign failed: {}", rd_kafka_error_string(e.get()));
                }
            } else {
                rd_kafka_assign(rk.get(), parts);
            }
            pause_in_librdkafka(pause_after);
            if (options.on_assigned) {
                options.on_assigned(list);
            }
            return;
        }
        // Revoked (or lost): let the application finish and store, commit, then give them up.
        log->info("{}: revoking {} partition(s)", options.group_id, list.size());
        if (options.on_revoked) {
            options.on_revoked(list);
        }
        if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && options.commits &&
            !rd_kafka_assignment_lost(rk.get())) {
            commit_now(false);
        }
        if (coop) {
            UniqueError e(rd_kafka_incremental_unassign(rk.get(), parts));
            if (e) {
                log->error("incremental unassign failed: {}", rd_kafka_error_string(e.get()));
            }
        } else {
            rd_kafka_assign(rk.get(), nullptr);
        }
    }

    bool commit_now(bool async) {
        auto err = rd_kafka_commit(rk.get(), nullptr, async ? 1 : 0);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
            return true;
        }
        commit_failures.fetch_add(1, std::memory_order_relaxed);
        log->warn("{}: commit failed: {} (the events will be redelivered)", options.group_id,
                  rd_kafka_err2str(err));
        return false;
    }

    // auto.offset.reset=error hands resets to us: a partition with no committed offset starts
    // where the options say; one whose offset the broker no longer has lost records: count
    // them, say so, continue from the oldest offset still there.
    void handle_reset(const rd_kafka_message_t* m) {
        offset_resets.fetch_add(1, std::memory_order_relaxed);
        const char* topic = rd_kafka_topic_name(m->rkt);
        std::int64_t target = options.start_from == StartFrom::Earliest ? RD_KAFKA_OFFSET_BEGINNING
                                                                        : RD_KAFKA_OFFSET_END;
        if (m->offset >= 0) {
            std::int64_t low = -1;
            std::int64_t high = -1;
            auto err =
                rd_kafka_query_watermark_offsets(rk.get(), topic, m->partition, &low, &high, 5000);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (m->offset < low) {
                    auto gone = static_cast<std::uint64_t>(low - m->offset);
                    lost.fetch_add(gone, std::memory_order_relaxed);
                    log->error(
                        "{}[{}]: {} event(s) LOST: offsets {}..{} were deleted by the broker "
                        "before this consumer read them; continuing at {}",
                        topic, m->partition, gone, m->offset, low - 1, low);
                    target = low;
                } else {
                    log->warn("{}[{}]: offset {} is beyond the end {}; continuing at the end",
                              topic, m->partition, m->offset, high);
                    target = high;
                }
            } else {
                log->error(
                    "{}[{}]: offset {} out of range and watermarks unavailable ({}); "
                    "restarting from the beginning",
                    topic, m->partition, m->offset, rd_kafka_err2str(err));
            }
        }
        // The partition's fetcher stopped on the error; re-adding it at the target restarts it
        // without touching the rest of the assignment (a seek would not restart it).
        UniquePartitionList list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topic, m->partition)->offset = target;
        UniqueError e;
        if (subscribed) {
            e.reset(rd_kafka_incremental_unassign(rk.get(), list.get()));
            if (!e) {
                e.reset(rd_kafka_incremental_assign(rk.get(), list.get()));
            }
        } else {
            // A manual assignment: assign it again, every other partition at its position.
            rd_kafka_topic_partition_list_t* raw = nullptr;
            rd_kafka_assignment(rk.get(), &raw);
            UniquePartitionList all(raw);
            rd_kafka_position(rk.get(), all.get());
            for (int i = 0; i < all->cnt; ++i) {
                auto& el = all->elems[i];
                if (el.partition == m->partition && std::strcmp(el.topic, topic) == 0) {
                    el.offset = target;
                    manual_start[{el.topic, el.partition}] = target;
                } else if (el.offset < 0) {
                    // Nothing read from it yet: back to where it started.
                    auto it = manual_start.find({el.topic, el.partition});
                    el.offset = it != manual_start.end() ? it->second : RD_KAFKA_OFFSET_STORED;
                }
            }
            if (auto err = rd_kafka_assign(rk.get(), all.get())) {
                e.reset(rd_kafka_error_new(err, "%s", rd_kafka_err2str(err)));
            }
        }
        if (e) {
            log->error("{}[{}]: restarting after offset reset failed: {}", topic, m->partition,
                       rd_kafka_error_string(e.get()));
        }
    }
};

Consumer::Consumer(ConsumerOptions options) : _impl(std::make_unique<Impl>()) {
    auto& impl = *_impl;
    impl.options = std::move(options);
    const auto& o = impl.options;
    ConfBuilder conf;
    conf.client(o)
        .statistics()
        .set("enable.auto.offset.store", "false")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", std::to_string(o.auto_commit_interval.count()))
        .set("auto.offset.reset", "error")
        .set("partition.assignment.strategy", o.assignment_strategy)
        .set("session.timeout.ms", std::to_string(o.session_timeout.count()))
        .set("heartbeat.interval.ms", std::to_string(o.heartbeat_interval.count()))
        .set("fetch.wait.max.ms", std::to_string(o.fetch_wait_max.count()))
        .set("enable.partition.eof", "false")
        .set("isolation.level", o.isolation_level)
        // librdkafka 2.0.2 stops fetching for up to a second once the records it has fetched
        // and not yet handed out reach either bound (librdkafka issue #2879; 2.4 made the pause
        // configurable): a consumer behind by more than its buffer then reads at most one
        // buffer per second. The buffer holds about a second of processing instead (100k
        // records and 64 MiB by default), so a backlog drains at processing speed.
        // Properties set in the pipeline file still override both.
        .set("queued.min.messages", std::to_string(o.buffer_records))
        .set("queued.max.messages.kbytes", std::to_string(o.buffer_bytes / 1024));
    if (!o.group_id.empty()) {
        conf.set("group.id", o.group_id);
        if (!o.commits) {
            conf.set("enable.auto.commit", "false");
        }
    } else {
        // librdkafka's consumer needs a group id even for assign(); this one is never used to
        // commit (auto commit off, no stored offsets committed).
        conf.set("group.id", "agentstream-standalone-" + new_uuid())
            .set("enable.auto.commit", "false");
    }
    conf.set_all(o.properties);
    rd_kafka_conf_set_opaque(conf.get(), &impl);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::rebalance_trampoline);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::error_trampoline);
    impl.rk = make_handle(RD_KAFKA_CONSUMER, conf.release());
    rd_kafka_poll_set_consumer(impl.rk.get());
}

Consumer::~Consumer() {
    try {
        close();
    } catch (...) {
        // destructors never throw
    }
}

void Consumer::subscribe(const std::vector<std::string>& topics) {
    if (_impl->options.group_id.empty()) {
        throw KafkaError("subscribe needs a consumer group id");
    }
    std::vector<TopicPartition> tps;
    for (const auto& t : topics) {
        tps.push_back({t, RD_KAFKA_PARTITION_UA});
    }
    auto list = make_list(tps);
    _impl->subscribed = true;
    auto err = rd_kafka_subscribe(_impl->rk.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError(fmt::format("subscribe: {}", rd_kafka_err2str(err)), err);
    }
}

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
    auto list = make_list(partitions);
    // Resolve where each partition starts now (committed offset, else start_from), so that an
    // offset reset later can put the other partitions back where they were.
    auto start = _impl->options.start_from == StartFrom::Earliest ? RD_KAFKA_OFFSET_BEGINNING
                                                                  : RD_KAFKA_OFFSET_END;
    if (!_impl->options.group_id.empty()) {
        auto err = rd_kafka_committed(_impl->rk.get(), list.get(), 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw KafkaError(fmt::format("committed offsets for assign: {}", rd_kafka_err2str(err)),
                             err, is_retriable(err));
        }
    }
    for (int i = 0; i < list->cnt; ++i) {
        auto& e = list->elems[i];
        if (_impl->options.group_id.empty() || e.offset < 0) {
            e.offset = start;
        }
        _impl->manual_start[{e.topic, e.partition}] = e.offset;
    }
    auto pause_after = _impl->pause_before_assign(partitions);
    auto err = rd_kafka_assign(_impl->rk.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError(fmt::format("assign: {}", rd_kafka_err2str(err)), err);
    }
    _impl->pause_in_librdkafka(pause_after);
}

std::optional<Message> Consumer::poll(std::chrono::milliseconds timeout) {
    // The clock is read only when an error or event record makes the wait go on: a poll that
    // returns a record at once (the busy case) costs no clock reads.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    int wait_ms = static_cast<int>(std::max<std::int64_t>(0, timeout.count()));
    while (true) {
        if (deadline) {
            wait_ms = static_cast<int>(
                std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              *deadline - std::chrono::steady_clock::now())
                                              .count()));
        } else if (wait_ms > 0) {
            deadline = std::chrono::steady_clock::now() + timeout;
        }
        UniqueMessage m(rd_kafka_consumer_poll(_impl->rk.get(), wait_ms));
        if (_impl->assignment_error) {
            std::rethrow_exception(std::exchange(_impl->assignment_error, nullptr));
        }
        if (!m) {
            return std::nullopt;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            _impl->consumed.fetch_add(1, std::memory_order_relaxed);
            if (_impl->down_since_ms.load(std::memory_order_relaxed) != 0) {
                _impl->down_since_ms.store(0, std::memory_order_relaxed);
            }
            return Message(m.release());
        }
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
            _impl->handle_reset(m.get());
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            _impl->errors.fetch_add(1, std::memory_order_relaxed);
            _impl->log->warn("consumer: {}", rd_kafka_message_errstr(m.get()));
            char reason[256];
            if (rd_kafka_fatal_error(_impl->rk.get(), reason, sizeof reason) !=
                RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw KafkaError(fmt::format("consumer fatal error: {}", reason));
            }
        }
        if (!deadline || std::chrono::steady_clock::now() >= *deadline) {
            return std::nullopt;
        }
    }
}

void Consumer::store_offset(const Message& message) {
    store_offset({std::string(message.topic()), message.partition()}, message.offset() + 1);
}

void Consumer::store_offset(const TopicPartition& tp, std::int64_t next_offset) {
    UniquePartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
        next_offset;
    auto err = rd_kafka_offsets_store(_impl->rk.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Typically the partition was revoked meanwhile: its new owner will redeliver.
        _impl->log->debug("store offset {}[{}]@{}: {}", tp.topic, tp.partition, next_offset,
                          rd_kafka_err2str(err ? err : list->elems[0].err));
    }
}

bool Consumer::commit(bool synchronous) {
    return _impl->commit_now(!synchronous);
}

void Consumer::pause(const std::vector<TopicPartition>& partitions) {
    // Each pause bumps a partition's version barrier in librdkafka: not again for those paused.
    // One librdkafka does not know yet is paused when it is assigned.
    std::vector<TopicPartition> fresh;
    for (const auto& tp : partitions) {
        if (_impl->paused.insert(tp).second) {
            fresh.push_back(tp);
        }
    }
    _impl->pause_in_librdkafka(fresh);
}

void Consumer::resume(const std::vector<TopicPartition>& partitions) {
    // Only what is paused: librdkafka before 2.4 bumps a partition's version barrier even to
    // resume one that is not paused, which can drop an assignment's pending fetch start
    // (the partition then never fetches) or restart fetching from a stale position
    // (librdkafka issues #2190, #4637).
    std::vector<TopicPartition> resumed;
    for (const auto& tp : partitions) {
        if (_impl->paused.erase(tp) > 0) {
            resumed.push_back(tp);
        }
    }
    if (!resumed.empty()) {
        rd_kafka_resume_partitions(_impl->rk.get(), make_list(resumed).get());
    }
}

void Consumer::pause_all() {
    _impl->pause_new = true;
    pause(assignment());
}

void Consumer::resume_all() {
    _impl->pause_new = false;
    resume({_impl->paused.begin(), _impl->paused.end()});
}

bool Consumer::paused(const TopicPartition& tp) const {
    return _impl->paused.contains(tp);
}

std::vector<TopicPartition> Consumer::assignment() const {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(_impl->rk.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return {};
    }
    UniquePartitionList list(raw);
    return to_vector(list.get());
}

namespace {
std::vector<PartitionLag> lag_of(rd_kafka_t* rk, const std::vector<TopicPartition>& parts,
                                 std::optional<std::chrono::milliseconds> query) {
    std::vector<PartitionLag> out;
    auto list = make_list(parts);
    rd_kafka_position(rk, list.get());
    if (query) {
        // Nothing read yet from a partition: its position is where the group committed.
        auto committed = make_list(parts);
        if (rd_kafka_committed(rk, committed.get(), static_cast<int>(query->count())) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < list->cnt; ++i) {
                if (list->elems[i].offset < 0 && committed->elems[i].offset >= 0) {
                    list->elems[i].offset = committed->elems[i].offset;
                }
            }
        }
    }
    for (int i = 0; i < list->cnt; ++i) {
        const auto& e = list->elems[i];
        PartitionLag lag{e.topic, e.partition, e.offset >= 0 ? e.offset : -1, -1, -1};
        std::int64_t low = -1;
        std::int64_t high = -1;
        auto err = query ? rd_kafka_query_watermark_offsets(rk, e.topic, e.partition, &low, &high,
                                                            static_cast<int>(query->count()))
                         : rd_kafka_get_watermark_offsets(rk, e.topic, e.partition, &low, &high);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0) {
            lag.high_watermark = high;
            if (lag.position >= 0) {
                lag.lag = std::max<std::int64_t>(0, high - lag.position);
            }
        }
        out.push_back(std::move(lag));
    }
    return out;
}
}  // namespace

std::vector<PartitionLag> Consumer::lag() const {
    return lag_of(_impl->rk.get(), assignment(), std::nullopt);
}

std::vector<PartitionLag> Consumer::query_lag(std::chrono::milliseconds timeout) const {
    return lag_of(_impl->rk.get(), assignment(), timeout);
}

std::pair<std::int64_t, std::int64_t> Consumer::watermarks(
    const TopicPartition& tp, std::chrono::milliseconds timeout) const {
    std::int64_t low = -1;
    std::int64_t high = -1;
    auto err = rd_kafka_query_watermark_offsets(_impl->rk.get(), tp.topic.c_str(), tp.partition,
                                                &low, &high, static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError(
            fmt::format("watermarks of {}[{}]: {}", tp.topic, tp.partition, rd_kafka_err2str(err)));
    }
    return {low, high};
}

ConsumerStats Consumer::stats() const {
    const auto& i = *_impl;
    ConsumerStats s{i.consumed.load(),        i.lost.load(),
                    i.offset_resets.load(),   i.rebalances.load(),
                    i.commit_failures.load(), i.errors.load()};
    if (auto since = i.down_since_ms.load(); since != 0) {
        s.brokers_down_for = std::chrono::milliseconds(Impl::steady_ms() - since);
    }
    return s;
}

bool Consumer::probe(std::chrono::milliseconds timeout) {
    const rd_kafka_metadata_t* md = nullptr;
    auto err =
        rd_kafka_metadata(_impl->rk.get(), 0, nullptr, &md, static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return false;
    }
    bool answered = md->broker_cnt > 0;
    rd_kafka_metadata_destroy(md);
    if (answered) {
        _impl->down_since_ms.store(0);
    }
    return answered;
}

void Consumer::seek(const TopicPartition& tp, std::int64_t offset,
                    std::chrono::milliseconds timeout) {
    UniquePartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
    UniqueError err(
        rd_kafka_seek_partitions(_impl->rk.get(), list.get(), static_cast<int>(timeout.count())));
    if (err) {
        throw KafkaError(fmt::format("seek {}/{} to {}: {}", tp.topic, tp.partition, offset,
                                     rd_kafka_error_string(err.get())));
    }
    if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError(fmt::format("seek {}/{} to {}: {}", tp.topic, tp.partition, offset,
                                     rd_kafka_err2str(list->elems[0].err)));
    }
}

int Consumer::refetch(std::chrono::milliseconds timeout) {
    std::vector<TopicPartition> active;
    for (auto& tp : assignment()) {
        if (!_impl->paused.contains(tp)) {
            active.push_back(std::move(tp));
        }
    }
    if (active.empty()) {
        return 0;
    }
    auto* rk = _impl->rk.get();
    auto positions = make_list(active);
    rd_kafka_position(rk, positions.get());
    auto committed = make_list(active);
    bool have_committed =
        rd_kafka_committed(rk, committed.get(), static_cast<int>(timeout.count())) ==
        RD_KAFKA_RESP_ERR_NO_ERROR;
    UniquePartitionList seek_list(rd_kafka_topic_partition_list_new(positions->cnt));
    for (int i = 0; i < positions->cnt; ++i) {
        auto offset = positions->elems[i].offset;
        if (offset < 0 && have_committed) {
            offset = committed->elems[i].offset;
        }
        if (offset >= 0) {
            rd_kafka_topic_partition_list_add(seek_list.get(), positions->elems[i].topic,
                                              positions->elems[i].partition)
                ->offset = offset;
        }
    }
    auto resume = make_list(active);
    rd_kafka_resume_partitions(rk, resume.get());
    if (seek_list->cnt == 0) {
        return 0;
    }
    UniqueError err(
        rd_kafka_seek_partitions(rk, seek_list.get(), static_cast<int>(timeout.count())));
    if (err) {
        _impl->log->warn("{}: restarting the fetch: {}", _impl->options.group_id,
                         rd_kafka_error_string(err.get()));
        return 0;
    }
    return seek_list->cnt;
}

GroupMetadata::GroupMetadata(GroupMetadata&& other) noexcept
    : _p(std::exchange(other._p, nullptr)) {}
GroupMetadata& GroupMetadata::operator=(GroupMetadata&& other) noexcept {
    if (this != &other) {
        if (_p != nullptr) {
            rd_kafka_consumer_group_metadata_destroy(
                static_cast<rd_kafka_consumer_group_metadata_t*>(_p));
        }
        _p = std::exchange(other._p, nullptr);
    }
    return *this;
}
GroupMetadata::~GroupMetadata() {
    if (_p != nullptr) {
        rd_kafka_consumer_group_metadata_destroy(
            static_cast<rd_kafka_consumer_group_metadata_t*>(_p));
    }
}

GroupMetadata Consumer::group_metadata() const {
    return GroupMetadata(rd_kafka_consumer_group_metadata(_impl->rk.get()));
}

void Consumer::close() {
    if (_impl->closed) {
        return;
    }
    _impl->closed = true;
    if (!_impl->options.group_id.empty() && _impl->options.commits) {
        _impl->commit_now(false);
    }
    auto err = rd_kafka_consumer_close(_impl->rk.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        _impl->log->warn("consumer close: {}", rd_kafka_err2str(err));
    }
}

}  // namespace agentstream::kafka
