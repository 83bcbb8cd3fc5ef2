// Pieces shared by the load programs: timing (wall and CPU), the demo's event mix, watermarks.
#pragma once

#include <agentstream/event/factory.h>
#include <agentstream/kafka/options.h>

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>
#include <sched.h>
#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::bench {

using Clock = std::chrono::steady_clock;

struct Sample {
    double seconds;
    double cpu_seconds;
    std::map<std::string, double> threads{};  // CPU seconds by thread name, when asked for
};

inline double cpu_now() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

template <class F>
inline Sample measure(F&& work) {
    auto t0 = Clock::now();
    auto c0 = cpu_now();
    work();
    return {std::chrono::duration<double>(Clock::now() - t0).count(), cpu_now() - c0};
}

// --cpus LIST: runs this process (and every thread it starts) on those CPUs only, e.g. "0" or
// "0-1,3", so that a real broker started with `scripts/kafka.sh start --cpus 1` does not compete
// with it for a core (as on separate machines). Exits with a message on a bad list.
inline void pin_to_cpus(const std::string& list) {
    cpu_set_t set;
    CPU_ZERO(&set);
    auto fail = [&] {
        std::fprintf(stderr, "--cpus %s: expected CPU numbers and ranges, e.g. 0 or 0-1,3\n",
                     list.c_str());
        std::exit(2);
    };
    auto number = [&](std::string_view text) {
        int n = -1;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || end != text.data() + text.size() || n < 0 || n >= CPU_SETSIZE) {
            fail();
        }
        return n;
    };
    std::string_view rest = list;
    while (!rest.empty()) {
        auto item = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), item.size() + 1));
        auto dash = item.find('-');
        int first = number(item.substr(0, dash));
        int last = dash == std::string_view::npos ? first : number(item.substr(dash + 1));
        if (last < first) {
            fail();
        }
        for (int c = first; c <= last; ++c) {
            CPU_SET(c, &set);
        }
    }
    if (CPU_COUNT(&set) == 0 || sched_setaffinity(0, sizeof set, &set) != 0) {
        std::fprintf(stderr, "--cpus %s: this machine cannot run the process there\n",
                     list.c_str());
        std::exit(2);
    }
}

// The baselines' raw librdkafka consumer: every partition of `topic` assigned from the beginning
// (no group rebalance to wait for), offsets stored by the caller, then `props` on top.
inline rd_kafka_t* raw_consumer(const std::string& brokers, const std::string& group,
                                const std::string& topic, int partitions,
                                const kafka::Properties& props) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const char* k, const std::string& v) {
        rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err);
    };
    set("bootstrap.servers", brokers);
    set("group.id", group);
    set("enable.auto.offset.store", "false");
    set("auto.offset.reset", "earliest");
    for (const auto& [k, v] : props) {
        set(k.c_str(), v);
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_poll_set_consumer(rk);
    auto* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    return rk;
}

inline std::vector<event::Event> make_events(int n) {
    std::vector<event::Event> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        auto id = std::to_string(i % 10000);
        switch (i % 4) {
            case 0:
                out.push_back(event::EventFactory::document(
                    event::EventType::DocumentUploaded, "doc_" + id, "api",
                    {{"document_name", "report_" + id + ".pdf"}, {"file_size", 20480 + i % 977}}));
                break;
            case 1:
                out.push_back(event::EventFactory::task(
                    event::EventType::TaskCompleted, "task_" + id, "document_analysis", "analyzer",
                    {{"execution_time_ms", 800 + i % 311}}));
                break;
            case 2:
                out.push_back(
                    event::EventFactory::analytics("response_time", 120.5 + i % 97, "gauge",
                                                   "api-" + std::to_string(i % 500), "collector"));
                break;
            default:
                out.push_back(event::EventFactory::system_health("kafka", "healthy", "monitor",
                                                                 {{"response_time_ms", 3.5}}));
        }
    }
    return out;
}

// CPU seconds spent so far by this process's live threads, summed by thread name (librdkafka
// names its threads rdk:main, rdk:broker<N>, ...; a thread that ended is not counted).
inline std::map<std::string, double> thread_cpu() {
    std::map<std::string, double> out;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(task.path() / "stat");
        std::string line;
        if (!std::getline(in, line)) {
            continue;
        }
        auto open = line.find('(');
        auto close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos) {
            continue;
        }
        std::string name = line.substr(open + 1, close - open - 1);
        // After ") ": state is field 3; utime and stime are fields 14 and 15.
        std::vector<std::string> fields;
        std::size_t pos = close + 2;
        while (pos < line.size() && fields.size() < 13) {
            auto next = line.find(' ', pos);
            fields.push_back(line.substr(pos, next - pos));
            pos = next == std::string::npos ? line.size() : next + 1;
        }
        if (fields.size() < 13) {
            continue;
        }
        out[name] += (std::stod(fields[11]) + std::stod(fields[12])) / tick;
    }
    return out;
}

// Consumers are timed from their first event to their last (steady state): start-up (group
// coordinator lookup, first fetch) is reported by neither.
struct Window {
    Clock::time_point t0;
    double c0 = 0;
    bool started = false;
    Sample result{};
    std::map<std::string, double> threads0;  // when per-thread CPU is wanted
    bool per_thread = false;
    void first() {
        if (!started) {
            started = true;
            t0 = Clock::now();
            c0 = cpu_now();
            if (per_thread) {
                threads0 = thread_cpu();
            }
        }
    }
    Sample end() const {
        return {std::chrono::duration<double>(Clock::now() - t0).count(), cpu_now() - c0};
    }
    // CPU seconds per thread name since first() (threads that ended meanwhile are missing).
    std::map<std::string, double> threads() const {
        auto now = thread_cpu();
        for (auto& [name, seconds] : now) {
            if (auto it = threads0.find(name); it != threads0.end()) {
                seconds -= it->second;
            }
        }
        return now;
    }
};

// Events the broker still holds: sum of high - low watermarks.
inline std::uint64_t retained_count(const std::string& brokers, const std::string& topic,
                                    int partitions) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    std::uint64_t total = 0;
    for (int p = 0; p < partitions; ++p) {
        std::int64_t lo = 0;
        std::int64_t hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            total += static_cast<std::uint64_t>(hi - lo);
        }
    }
    rd_kafka_destroy(rk);
    return total;
}

/// A case that did not see every event it was given: printed, and counted so that the load
/// program exits non-zero (a speed measured over missing events means nothing).
inline int& shortfalls() {
    static int n = 0;
    return n;
}
inline void expect_count(std::string_view what, std::uint64_t got, std::uint64_t expected) {
    if (got != expected) {
        fmt::print(stderr, "{}: {} of {} events\n", what, got, expected);
        ++shortfalls();
    }
}
/// main's exit status: 1 when any case fell short.
inline int exit_status() {
    if (shortfalls() > 0) {
        fmt::print(stderr, "{} case(s) missed events: the figures above are not valid\n",
                   shortfalls());
        return 1;
    }
    return 0;
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace agentstream::bench
