#include "internal/kafka_handle.h"
#include "internal/log.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace agentstream::kafka::detail {
namespace {

// Process-wide network totals, summed over every producer and consumer from their statistics
// (librdkafka's counters are cumulative per handle: each blob adds what grew since the last).
struct HandleCounters {
    std::uint64_t tx = 0;
    std::uint64_t rx = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t retries = 0;
    std::uint64_t txmsgs = 0;
};
struct NetworkAccount {
    std::mutex mutex;
    std::unordered_map<std::string, HandleCounters> last;  // by handle name
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<std::uint64_t> txmsgs{0};
};

void add_growth(std::atomic<std::uint64_t>& total, std::uint64_t& last, std::uint64_t now) {
    total += now - std::min(last, now);
    last = now;
}

NetworkAccount& network_account() {
    static NetworkAccount account;
    return account;
}

int stats_trampoline(rd_kafka_t* rk, char* json, size_t json_len, void*) {
    try {
        thread_local simdjson::ondemand::parser parser;
        simdjson::padded_string text(json, json_len);
        auto doc = parser.iterate(text);
        HandleCounters now;
        // The brokers object comes before the totals in librdkafka's blob.
        for (auto broker : doc["brokers"].get_object()) {
            auto b = broker.value().get_object();
            now.disconnects += b["disconnects"].get_uint64();
            now.retries += b["txretries"].get_uint64();
        }
        now.tx = doc["tx_bytes"].get_uint64();
        now.rx = doc["rx_bytes"].get_uint64();
        now.txmsgs = doc["txmsgs"].get_uint64();
        auto& a = network_account();
        std::lock_guard lock(a.mutex);
        auto& last = a.last[rd_kafka_name(rk)];
        add_growth(a.sent, last.tx, now.tx);
        add_growth(a.received, last.rx, now.rx);
        add_growth(a.disconnects, last.disconnects, now.disconnects);
        add_growth(a.retries, last.retries, now.retries);
        add_growth(a.txmsgs, last.txmsgs, now.txmsgs);
    } catch (...) {
        // a statistics blob we cannot read is skipped; never throw into librdkafka
    }
    return 0;  // librdkafka frees the JSON
}

void log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* buf) {
    try {
        static auto log = logger("kafka");
        auto lvl = level <= 2   ? spdlog::level::critical
                   : level == 3 ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
        log->log(lvl, "[{}] {}: {}", rd_kafka_name(rk), facility, buf);
    } catch (...) {
        // never let an exception into librdkafka
    }
}

}  // namespace

ConfBuilder::ConfBuilder() : _conf(rd_kafka_conf_new()) {}

ConfBuilder& ConfBuilder::set(std::string_view key, std::string_view value) {
    char error[512];
    std::string k(key);
    std::string v(value);
    if (rd_kafka_conf_set(_conf.get(), k.c_str(), v.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
        throw KafkaError(fmt::format("Kafka property {}={}: {}", k, v, error));
    }
    return *this;
}

ConfBuilder& ConfBuilder::set_all(const Properties& properties) {
    for (const auto& [k, v] : properties) {
        set(k, v);
    }
    return *this;
}

ConfBuilder& ConfBuilder::route_logs() {
    rd_kafka_conf_set_log_cb(_conf.get(), &log_trampoline);
    return *this;
}

ConfBuilder& ConfBuilder::statistics() {
    rd_kafka_conf_set_stats_cb(_conf.get(), &stats_trampoline);
    return set("statistics.interval.ms", "1000");
}

void forget_statistics(const rd_kafka_t* rk) noexcept {
    try {
        auto& a = network_account();
        std::lock_guard lock(a.mutex);
        a.last.erase(rd_kafka_name(rk));
    } catch (...) {
    }
}

ConfBuilder& ConfBuilder::client(const ClientOptions& options) {
    return route_logs()
        .set("bootstrap.servers", options.brokers)
        .set("client.id", options.client_id)
        // librdkafka leaves Nagle's algorithm on (the Java client turns it off): a small
        // request written while the previous one is unacknowledged waits for the broker's
        // delayed ACK, tens of milliseconds per produce or fetch on a busy connection.
        .set("socket.nagle.disable", "true");
}

UniqueHandle make_handle(rd_kafka_type_t type, UniqueConf conf) {
    char error[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
    if (rk == nullptr) {
        throw KafkaError(fmt::format("cannot create Kafka {}: {}",
                                     type == RD_KAFKA_PRODUCER ? "producer" : "consumer", error));
    }
    conf.release();  // owned by rk now
    return UniqueHandle(rk);
}

UniquePartitionList make_list(const std::vector<TopicPartition>& partitions) {
    UniquePartitionList list(
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const auto& tp : partitions) {
        rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
    }
    return list;
}

std::vector<TopicPartition> to_vector(const rd_kafka_topic_partition_list_t* list) {
    std::vector<TopicPartition> out;
    if (list == nullptr) {
        return out;
    }
    out.reserve(static_cast<std::size_t>(list->cnt));
    for (int i = 0; i < list->cnt; ++i) {
        out.push_back({list->elems[i].topic, list->elems[i].partition});
    }
    return out;
}

bool is_retriable(rd_kafka_resp_err_t err) noexcept {
    switch (err) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return true;
        default: return false;
    }
}

}  // namespace agentstream::kafka::detail

namespace agentstream::kafka {

const char* librdkafka_version() noexcept {
    return rd_kafka_version_str();
}

NetworkTotals network_totals() noexcept {
    auto& a = detail::network_account();
    return {a.sent.load(), a.received.load(), a.disconnects.load(), a.retries.load(),
            a.txmsgs.load()};
}

}  // namespace agentstream::kafka
