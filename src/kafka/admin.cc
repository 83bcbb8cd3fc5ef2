#include <agentstream/kafka/admin.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "internal/kafka_handle.h"
#include "internal/log.h"

namespace agentstream::kafka {

using namespace detail;

namespace {
// A committed offset (negative: none) with its partition's high watermark and the lag.
PartitionLag lag_of_committed(rd_kafka_t* rk, const rd_kafka_topic_partition_t& e,
                              std::chrono::milliseconds timeout) {
    PartitionLag lag{e.topic, e.partition, e.offset >= 0 ? e.offset : -1, -1, -1};
    std::int64_t low = -1;
    std::int64_t high = -1;
    // A fresh handle may not know the partition's leader yet, and a leader may be moving: such
    // a failure is retried until the deadline, so "unknown" means the broker could not say,
    // not that the first try was too early.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        auto err = rd_kafka_query_watermark_offsets(
            rk, e.topic, e.partition, &low, &high,
            static_cast<int>(std::max<std::int64_t>(left.count(), 1)));
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            lag.high_watermark = high;
            lag.lag = lag.position >= 0 ? std::max<std::int64_t>(0, high - lag.position)
                                        : std::max<std::int64_t>(0, high - low);
            return lag;
        }
        if (left <= std::chrono::milliseconds(100)) {
            logger("kafka")->warn("end of {} [{}] unknown: {}", e.topic, e.partition,
                                  rd_kafka_err2str(err));
            return lag;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}
}  // namespace

struct Admin::Impl {
    ClientOptions options;
    UniqueHandle rk;

    // Runs one admin request on a private queue and returns its result event.
    template <class Start>
    UniqueEvent run(Start&& start, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout,
                    const std::string& what) {
        UniqueQueue queue(rd_kafka_queue_new(rk.get()));
        char error[256];
        std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> opts(
            rd_kafka_AdminOptions_new(rk.get(), op), &rd_kafka_AdminOptions_destroy);
        rd_kafka_AdminOptions_set_request_timeout(opts.get(), static_cast<int>(timeout.count()),
                                                  error, sizeof error);
        start(opts.get(), queue.get());
        UniqueEvent ev(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 5000));
        if (!ev) {
            throw KafkaError(fmt::format("{}: no answer within {} ms", what, timeout.count()),
                             RD_KAFKA_RESP_ERR__TIMED_OUT, true);
        }
        if (auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw KafkaError(explain(what, err, rd_kafka_event_error_string(ev.get())), err,
                             is_retriable(err));
        }
        return ev;
    }

    static std::string explain(const std::string& what, rd_kafka_resp_err_t err,
                               const char* detail) {
        std::string text = fmt::format("{}: {}", what, detail ? detail : rd_kafka_err2str(err));
        if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
            text +=
                " (the embedded broker has no admin API: its topics are created when it "
                "starts, from the pipeline file or `agentstream broker --topic NAME:PARTITIONS`)";
        }
        return text;
    }

    static void check_topic_results(const rd_kafka_topic_result_t** results, size_t n,
                                    const std::string& what) {
        for (size_t i = 0; i < n; ++i) {
            auto err = rd_kafka_topic_result_error(results[i]);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw KafkaError(
                    explain(fmt::format("{} {}", what, rd_kafka_topic_result_name(results[i])), err,
                            rd_kafka_topic_result_error_string(results[i])),
                    err);
            }
        }
    }

    const rd_kafka_metadata_t* metadata(const char* topic, std::chrono::milliseconds timeout) {
        const rd_kafka_metadata_t* md = nullptr;
        UniqueTopic rkt;
        if (topic != nullptr) {
            rkt.reset(rd_kafka_topic_new(rk.get(), topic, nullptr));
        }
        auto err = rd_kafka_metadata(rk.get(), topic == nullptr ? 1 : 0, rkt.get(), &md,
                                     static_cast<int>(timeout.count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw KafkaError(
                fmt::format("metadata from {}: {}", options.brokers, rd_kafka_err2str(err)), err,
                true);
        }
        return md;
    }
};

namespace {
TopicInfo to_info(const rd_kafka_metadata_topic_t& t) {
    TopicInfo info;
    info.name = t.topic;
    for (int p = 0; p < t.partition_cnt; ++p) {
        const auto& mp = t.partitions[p];
        PartitionInfo pi;
        pi.id = mp.id;
        pi.leader = mp.leader;
        pi.replicas.assign(mp.replicas, mp.replicas + mp.replica_cnt);
        pi.isr.assign(mp.isrs, mp.isrs + mp.isr_cnt);
        info.partitions.push_back(std::move(pi));
    }
    std::sort(info.partitions.begin(), info.partitions.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    return info;
}
}  // namespace

Admin::Admin(ClientOptions options) : _impl(std::make_unique<Impl>()) {
    _impl->options = std::move(options);
    ConfBuilder conf;
    conf.client(_impl->options).set_all(_impl->options.properties);
    _impl->rk = make_handle(RD_KAFKA_PRODUCER, conf.release());
}

Admin::~Admin() = default;

void Admin::refuse_on_embedded_broker(const std::string& what, std::chrono::milliseconds timeout) {
    // librdkafka's mock cluster answers no topic admin request: the call would wait out its
    // whole timeout before failing. Its cluster id says what it is at once.
    if (auto id = cluster_id(timeout); id && id->starts_with("mockCluster")) {
        throw KafkaError(fmt::format("{}: the embedded broker has no admin API: its topics are "
                                     "created when it starts, from the pipeline file or "
                                     "`agentstream broker --topic NAME:PARTITIONS`",
                                     what),
                         RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE);
    }
}

bool Admin::create_topic(const NewTopic& topic, std::chrono::milliseconds timeout) {
    std::string what = fmt::format("create topic {}", topic.name);
    refuse_on_embedded_broker(what, timeout);
    char error[256];
    std::unique_ptr<rd_kafka_NewTopic_t, void (*)(rd_kafka_NewTopic_t*)> nt(
        rd_kafka_NewTopic_new(topic.name.c_str(), topic.partitions, topic.replication_factor, error,
                              sizeof error),
        &rd_kafka_NewTopic_destroy);
    if (!nt) {
        throw KafkaError(fmt::format("{}: {}", what, error));
    }
    for (const auto& [k, v] : topic.configs) {
        rd_kafka_NewTopic_set_config(nt.get(), k.c_str(), v.c_str());
    }
    auto ev = _impl->run(
        [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
            rd_kafka_NewTopic_t* arr[] = {nt.get()};
            rd_kafka_CreateTopics(_impl->rk.get(), arr, 1, o, q);
        },
        RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout, what);
    size_t n = 0;
    auto* res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    if (n == 1 && rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        return false;
    }
    Impl::check_topic_results(res, n, "create topic");
    return true;
}

void Admin::delete_topic(const std::string& name, std::chrono::milliseconds timeout) {
    refuse_on_embedded_broker(fmt::format("delete topic {}", name), timeout);
    std::unique_ptr<rd_kafka_DeleteTopic_t, void (*)(rd_kafka_DeleteTopic_t*)> dt(
        rd_kafka_DeleteTopic_new(name.c_str()), &rd_kafka_DeleteTopic_destroy);
    auto ev = _impl->run(
        [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
            rd_kafka_DeleteTopic_t* arr[] = {dt.get()};
            rd_kafka_DeleteTopics(_impl->rk.get(), arr, 1, o, q);
        },
        RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout, fmt::format("delete topic {}", name));
    size_t n = 0;
    auto* res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
    Impl::check_topic_results(res, n, "delete topic");
}

void Admin::create_partitions(const std::string& name, int total,
                              std::chrono::milliseconds timeout) {
    char error[256];
    std::unique_ptr<rd_kafka_NewPartitions_t, void (*)(rd_kafka_NewPartitions_t*)> np(
        rd_kafka_NewPartitions_new(name.c_str(), static_cast<size_t>(total), error, sizeof error),
        &rd_kafka_NewPartitions_destroy);
    if (!np) {
        throw KafkaError(fmt::format("grow topic {}: {}", name, error));
    }
    refuse_on_embedded_broker(fmt::format("grow topic {}", name), timeout);
    auto ev = _impl->run(
        [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
            rd_kafka_NewPartitions_t* arr[] = {np.get()};
            rd_kafka_CreatePartitions(_impl->rk.get(), arr, 1, o, q);
        },
        RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout, fmt::format("grow topic {}", name));
    size_t n = 0;
    auto* res = rd_kafka_CreatePartitions_result_topics(
        rd_kafka_event_CreatePartitions_result(ev.get()), &n);
    Impl::check_topic_results(res, n, "grow topic");
}

std::vector<TopicInfo> Admin::list_topics(std::chrono::milliseconds timeout) {
    const auto* md = _impl->metadata(nullptr, timeout);
    std::vector<TopicInfo> out;
    for (int i = 0; i < md->topic_cnt; ++i) {
        std::string_view name = md->topics[i].topic;
        if (!name.starts_with("__") && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            out.push_back(to_info(md->topics[i]));
        }
    }
    rd_kafka_metadata_destroy(md);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

TopicInfo Admin::describe_topic(const std::string& name, bool with_configs,
                                std::chrono::milliseconds timeout) {
    // Ask through the full topic list so that describing never auto-creates the topic.
    for (auto& t : list_topics(timeout)) {
        if (t.name != name) {
            continue;
        }
        if (with_configs) {
            try {
                std::unique_ptr<rd_kafka_ConfigResource_t, void (*)(rd_kafka_ConfigResource_t*)>
                    res(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()),
                        &rd_kafka_ConfigResource_destroy);
                auto ev = _impl->run(
                    [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                        rd_kafka_ConfigResource_t* arr[] = {res.get()};
                        rd_kafka_DescribeConfigs(_impl->rk.get(), arr, 1, o, q);
                    },
                    RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS,
                    std::min(timeout, std::chrono::milliseconds(5000)),
                    fmt::format("describe configs of {}", name));
                size_t n = 0;
                auto* results = rd_kafka_DescribeConfigs_result_resources(
                    rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
                for (size_t i = 0; i < n; ++i) {
                    size_t cnt = 0;
                    auto* entries = rd_kafka_ConfigResource_configs(results[i], &cnt);
                    for (size_t j = 0; j < cnt; ++j) {
                        const char* v = rd_kafka_ConfigEntry_value(entries[j]);
                        t.configs[rd_kafka_ConfigEntry_name(entries[j])] = v ? v : "";
                    }
                }
            } catch (const KafkaError& e) {
                logger("kafka")->info("{}", e.what());
            }
        }
        return std::move(t);
    }
    throw KafkaError(fmt::format("topic {} does not exist", name),
                     RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

std::vector<PartitionLag> Admin::group_offsets(const std::string& group,
                                               std::chrono::milliseconds timeout) {
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t,
                    void (*)(rd_kafka_ListConsumerGroupOffsets_t*)>
        request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr),
                &rd_kafka_ListConsumerGroupOffsets_destroy);
    auto* raw = request.get();
    auto ev = _impl->run(
        [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
            rd_kafka_ListConsumerGroupOffsets(_impl->rk.get(), &raw, 1, opts, q);
        },
        RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout,
        fmt::format("committed offsets of group {}", group));
    const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get());
    size_t n = 0;
    const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &n);
    std::vector<PartitionLag> out;
    if (n == 0) {
        return out;
    }
    auto all_topics = [&] {
        // The embedded broker answers "all committed offsets" with nothing: ask per topic.
        std::vector<std::string> names;
        for (const auto& t : list_topics(timeout)) {
            names.push_back(t.name);
        }
        std::vector<PartitionLag> rows;
        for (auto& row : group_lag(group, names, timeout)) {
            if (row.position >= 0) {
                rows.push_back(std::move(row));
            }
        }
        return rows;
    };
    if (const auto* err = rd_kafka_group_result_error(groups[0]); err != nullptr) {
        throw KafkaError(
            fmt::format("committed offsets of group {}: {}", group, rd_kafka_error_string(err)),
            rd_kafka_error_code(err));
    }
    const auto* parts = rd_kafka_group_result_partitions(groups[0]);
    if (parts == nullptr || parts->cnt == 0) {
        return all_topics();
    }
    for (int i = 0; i < parts->cnt; ++i) {
        out.push_back(lag_of_committed(_impl->rk.get(), parts->elems[i], timeout));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
    });
    return out;
}

std::vector<PartitionLag> Admin::reset_group_offsets(const std::string& group,
                                                     const std::string& topic,
                                                     const OffsetTarget& target,
                                                     std::chrono::milliseconds timeout) {
    ConfBuilder conf;
    conf.route_logs()
        .set("bootstrap.servers", _impl->options.brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set_all(_impl->options.properties);
    auto consumer = make_handle(RD_KAFKA_CONSUMER, conf.release());
    auto info = describe_topic(topic, false, timeout);
    std::vector<TopicPartition> parts;
    for (const auto& p : info.partitions) {
        parts.push_back({topic, p.id});
    }
    auto list = make_list(parts);
    auto id = cluster_id(timeout);
    const bool embedded = id && id->starts_with("mockCluster");
    if (target.kind == OffsetTarget::Kind::Time && embedded) {
        throw KafkaError(
            "the embedded broker cannot look offsets up by time (its ListOffsets answers only "
            "earliest and latest): reset to earliest, latest or an offset instead");
    }
    OffsetTarget effective = target;
    if (target.kind == OffsetTarget::Kind::Time && target.time > std::chrono::system_clock::now()) {
        // No record is stamped in the future (in practice), and brokers refuse some far-future
        // lookups ("API version not supported" from Kafka 4.1): the end.
        effective.kind = OffsetTarget::Kind::Latest;
    }
    if (effective.kind == OffsetTarget::Kind::Time) {
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(target.time.time_since_epoch())
                .count();
        for (int i = 0; i < list->cnt; ++i) {
            list->elems[i].offset = ms;
        }
        auto err = rd_kafka_offsets_for_times(consumer.get(), list.get(),
                                              static_cast<int>(timeout.count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw KafkaError(
                fmt::format("offsets of {} at the given time: {}", topic, rd_kafka_err2str(err)),
                err);
        }
    }
    for (int i = 0; i < list->cnt; ++i) {
        auto& e = list->elems[i];
        std::int64_t low = 0;
        std::int64_t high = 0;
        auto err = rd_kafka_query_watermark_offsets(consumer.get(), e.topic, e.partition, &low,
                                                    &high, static_cast<int>(timeout.count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw KafkaError(
                fmt::format("watermarks of {}/{}: {}", e.topic, e.partition, rd_kafka_err2str(err)),
                err);
        }
        switch (effective.kind) {
            case OffsetTarget::Kind::Earliest: e.offset = low; break;
            case OffsetTarget::Kind::Latest: e.offset = high; break;
            case OffsetTarget::Kind::Offset: e.offset = std::clamp(target.offset, low, high); break;
            case OffsetTarget::Kind::Time:
                // No record at or after the time: the end.
                e.offset = e.offset < 0 ? high : std::clamp<std::int64_t>(e.offset, low, high);
                break;
        }
    }
    if (embedded) {
        // The embedded broker refuses commits from outside the group (real Kafka accepts them
        // for an empty group): join it as its only member and commit from inside.
        rd_kafka_consumer_close(consumer.get());
        std::vector<PartitionLag> offsets;
        for (int i = 0; i < list->cnt; ++i) {
            offsets.push_back(
                {list->elems[i].topic, list->elems[i].partition, list->elems[i].offset, -1, -1});
        }
        return reset_as_member(group, offsets, timeout);
    }
    auto err = rd_kafka_commit(consumer.get(), list.get(), 0);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
        err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
        throw KafkaError(fmt::format("group {} has active members ({}): stop its consumers, "
                                     "then reset its offsets",
                                     group, rd_kafka_err2str(err)),
                         err);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError(
            fmt::format("committing offsets for group {}: {}", group, rd_kafka_err2str(err)), err);
    }
    std::vector<PartitionLag> out;
    for (int i = 0; i < list->cnt; ++i) {
        const auto& e = list->elems[i];
        if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw KafkaError(fmt::format("group {} has active members or refused the offset of "
                                         "{}/{} ({}): stop its consumers first",
                                         group, e.topic, e.partition, rd_kafka_err2str(e.err)),
                             e.err);
        }
        out.push_back({e.topic, e.partition, e.offset, -1, -1});
    }
    rd_kafka_consumer_close(consumer.get());
    return out;
}

std::vector<PartitionLag> Admin::reset_as_member(const std::string& group,
                                                 const std::vector<PartitionLag>& offsets,
                                                 std::chrono::milliseconds timeout) {
    ConsumerOptions options;
    options.brokers = _impl->options.brokers;
    options.client_id = _impl->options.client_id;
    options.properties = _impl->options.properties;
    options.properties.emplace_back("session.timeout.ms", "6000");
    options.properties.emplace_back("heartbeat.interval.ms", "1000");
    options.group_id = group;
    std::vector<TopicPartition> wanted;
    for (const auto& o : offsets) {
        wanted.push_back({o.topic, o.partition});
    }
    std::sort(wanted.begin(), wanted.end());
    Consumer consumer(options);
    consumer.subscribe({wanted.front().topic});
    auto deadline = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(10);
    while (true) {
        consumer.poll(std::chrono::milliseconds(100));  // drives the join; records are ignored
        auto have = consumer.assignment();
        std::sort(have.begin(), have.end());
        if (have == wanted) {
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            consumer.close();
            throw KafkaError(
                fmt::format("group {} has active members (they hold some of {}'s "
                            "partitions): stop its consumers, then reset its offsets",
                            group, wanted.front().topic));
        }
    }
    for (const auto& o : offsets) {
        consumer.store_offset({o.topic, o.partition}, o.position);
    }
    if (!consumer.commit(true)) {
        consumer.close();
        throw KafkaError(fmt::format("committing offsets for group {} failed", group));
    }
    consumer.close();
    return offsets;
}

std::vector<PartitionLag> Admin::group_lag(const std::string& group,
                                           const std::vector<std::string>& topics,
                                           std::chrono::milliseconds timeout) {
    ConsumerOptions options;
    options.brokers = _impl->options.brokers;
    options.client_id = _impl->options.client_id;
    options.properties = _impl->options.properties;
    options.group_id = group;
    ConfBuilder conf;
    conf.route_logs()
        .set("bootstrap.servers", options.brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set_all(options.properties);
    auto consumer = make_handle(RD_KAFKA_CONSUMER, conf.release());
    std::vector<TopicPartition> parts;
    for (const auto& name : topics) {
        auto info = describe_topic(name, false, timeout);
        for (const auto& p : info.partitions) {
            parts.push_back({name, p.id});
        }
    }
    auto list = make_list(parts);
    auto err = rd_kafka_committed(consumer.get(), list.get(), static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError(
            fmt::format("committed offsets of group {}: {}", group, rd_kafka_err2str(err)), err,
            is_retriable(err));
    }
    std::vector<PartitionLag> out;
    for (int i = 0; i < list->cnt; ++i) {
        out.push_back(lag_of_committed(consumer.get(), list->elems[i], timeout));
    }
    rd_kafka_consumer_close(consumer.get());
    return out;
}

Admin::ClusterView Admin::cluster_view(const std::vector<std::string>& topics,
                                       std::chrono::milliseconds timeout) {
    const auto* md = _impl->metadata(nullptr, timeout);
    ClusterView view;
    for (int i = 0; i < md->broker_cnt; ++i) {
        view.brokers.emplace_back(md->brokers[i].host, md->brokers[i].port);
    }
    for (const auto& name : topics) {
        const rd_kafka_metadata_topic_t* found = nullptr;
        for (int t = 0; t < md->topic_cnt; ++t) {
            if (name == md->topics[t].topic) {
                found = &md->topics[t];
                break;
            }
        }
        if (found == nullptr || found->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            view.missing.push_back(name);
            continue;
        }
        for (int p = 0; p < found->partition_cnt; ++p) {
            if (found->partitions[p].leader < 0 ||
                found->partitions[p].err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
                view.leaderless.push_back({name, found->partitions[p].id});
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    return view;
}

int Admin::broker_count(std::chrono::milliseconds timeout) {
    const auto* md = _impl->metadata(nullptr, timeout);
    int n = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

}  // namespace agentstream::kafka

namespace agentstream::kafka {

std::optional<std::string> Admin::cluster_id(std::chrono::milliseconds timeout) {
    char* id = rd_kafka_clusterid(_impl->rk.get(), static_cast<int>(timeout.count()));
    if (id == nullptr) {
        return std::nullopt;
    }
    std::string out(id);
    rd_kafka_mem_free(_impl->rk.get(), id);
    return out;
}

}  // namespace agentstream::kafka
