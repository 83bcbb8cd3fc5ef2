// libFuzzer targets over the pipeline file's loaders, one source compiled three times
// (FUZZ_PART): the route and filter loader, the alert rule loader, and the whole pipeline file
// as `agentstream run` loads it (routes, alert rules, notification channels, domain
// processors, agents). Any text is either accepted or refused with a ConfigError naming the
// file; no other exception, crash or sanitizer report is allowed.
#include <agentstream/config/config.h>
#include <agentstream/monitor/alerts.h>
#include <agentstream/monitor/metrics.h>
#include <agentstream/notify/notifications.h>
#include <agentstream/processors/agent_config.h>
#include <agentstream/processors/config.h>
#include <agentstream/router/router.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#define PART_ROUTES 1
#define PART_ALERTS 2
#define PART_PIPELINE 3

namespace {
[[noreturn]] void fail(const char* what, const std::string& detail, const std::string& input) {
    std::fprintf(stderr, "config_fuzz: %s: %s\ninput:\n%s\n", what, detail.c_str(), input.c_str());
    std::abort();
}

void load(const std::string& text) {
    using namespace agentstream;
    auto config = config::Config::parse(text, "fuzz.yaml");
#if FUZZ_PART == PART_ROUTES || FUZZ_PART == PART_PIPELINE
    {
        auto table = router::load_routes(config);
        try {
            router::Router r(std::move(table));
        } catch (const std::invalid_argument&) {
            // a table the router refuses (what `run` reports as the file's error)
        }
    }
#endif
#if FUZZ_PART == PART_ALERTS || FUZZ_PART == PART_PIPELINE
    monitor::MetricsRegistry registry;
    (void)monitor::load_alert_rules(config, registry);
#endif
#if FUZZ_PART == PART_PIPELINE
    (void)notify::load_channels(config);
    (void)processors::load_domain_processors(config);
    (void)processors::load_agents(config);
#endif
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        load(text);
    } catch (const agentstream::config::ConfigError& e) {
        if (std::string_view(e.what()).rfind("fuzz.yaml", 0) != 0) {
            fail("a config error that does not name the file", e.what(), text);
        }
    } catch (const std::exception& e) {
        fail("an exception other than ConfigError", e.what(), text);
    }
    return 0;
}
