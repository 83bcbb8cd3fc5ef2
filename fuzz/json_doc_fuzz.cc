// libFuzzer target, differential: the router's JSON splicer (src/router/json_doc.cc) against
// nlohmann::json as the reference parser. The input is a JSON text and a few lookups and
// edits. On a text the reference reads as an object (without duplicate keys, where "which one
// wins" is not defined), every lookup must give the reference's verdict and value, and every
// edit must leave text that parses to the reference object edited the same way. On any other
// text the splicer must only not crash (it indexes lazily, so it may answer for a prefix).
#include "router/json_doc.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace {
using agentstream::router::detail::JsonDocument;
using agentstream::router::detail::JsonKind;
using agentstream::router::detail::JsonValue;
using agentstream::router::detail::Lookup;
using Json = nlohmann::json;

std::string g_input;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "json_doc_fuzz: %s\ninput: %s\n", what.c_str(), g_input.c_str());
    std::abort();
}

// The reference object, or nullopt when the text is not an object or repeats a key.
std::optional<Json> reference(const std::string& text) {
    std::vector<std::set<std::string>> keys;
    bool repeated = false;
    auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::object_start) {
            keys.emplace_back();
        } else if (event == Json::parse_event_t::object_end) {
            keys.pop_back();
        } else if (event == Json::parse_event_t::key && !keys.empty() &&
                   !keys.back().insert(parsed.get<std::string>()).second) {
            repeated = true;
        }
        return true;
    };
    Json j = Json::parse(text, callback, false);
    if (j.is_discarded() || !j.is_object() || repeated) {
        return std::nullopt;
    }
    return j;
}

JsonKind kind_of(const Json& j) {
    switch (j.type()) {
        case Json::value_t::null: return JsonKind::Null;
        case Json::value_t::boolean: return JsonKind::Bool;
        case Json::value_t::object: return JsonKind::Object;
        case Json::value_t::array: return JsonKind::Array;
        case Json::value_t::string: return JsonKind::String;
        default: return JsonKind::Number;
    }
}

// What find() must answer for `path` in `j`, and the value when Found.
Lookup expected_find(const Json& j, const std::vector<std::string>& path, const Json** value) {
    const Json* at = &j;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (!at->is_object()) {
            return Lookup::NotAnObject;
        }
        auto it = at->find(path[i]);
        if (it == at->end()) {
            return Lookup::Missing;
        }
        at = &*it;
    }
    *value = at;
    return Lookup::Found;
}

// Applies set() to the reference; false where set() must fail (a step on the way is present
// and not an object).
bool expected_set(Json& j, const std::vector<std::string>& path, const Json& value) {
    Json* at = &j;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        auto it = at->find(path[i]);
        if (it == at->end()) {
            (*at)[path[i]] = Json::object();
            it = at->find(path[i]);
        } else if (!it->is_object()) {
            return false;
        }
        at = &*it;
    }
    (*at)[path.back()] = value;
    return true;
}

bool expected_erase(Json& j, const std::vector<std::string>& path) {
    Json* at = &j;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        auto it = at->find(path[i]);
        if (it == at->end() || !it->is_object()) {
            return false;
        }
        at = &*it;
    }
    return at->erase(path.back()) > 0;
}

// Keys to build paths from: the reference's own (so lookups hit) and a few others.
void collect_keys(const Json& j, std::vector<std::string>& out, int depth = 0) {
    if (!j.is_object() || depth > 3) {
        return;
    }
    for (auto it = j.begin(); it != j.end() && out.size() < 64; ++it) {
        out.push_back(it.key());
        collect_keys(it.value(), out, depth + 1);
    }
}

// Route paths come from pipeline files: text, with quotes and backslashes that need escaping.
std::string printable(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(0x20 + static_cast<unsigned char>(c) % 0x5f);
    }
    return s;
}

std::string show(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const char* const VALUES[] = {
    "1",    "-2.5e3", "\"x\"", "\"a\\\"b\\u00e9\"", "true",
    "null", "{}",     "[]",    "[1,{\"a\":2}]",     "{\"k\":{\"n\":null}}"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    std::string text = in.ConsumeRandomLengthString(4096);
    g_input = text;
    JsonDocument doc;
    doc.reset(text);
    auto ref = reference(text);
    std::vector<std::string> keys = {"event_type", "metadata", "a", "", "x.y"};
    if (ref) {
        collect_keys(*ref, keys);
    }
    for (int op = 0; op < 6 && in.remaining_bytes() > 0; ++op) {
        int action = in.ConsumeIntegralInRange(0, 2);
        std::vector<std::string> path(in.ConsumeIntegralInRange<std::size_t>(1, 3));
        for (auto& step : path) {
            step = in.ConsumeBool()
                       ? keys[in.ConsumeIntegralInRange<std::size_t>(0, keys.size() - 1)]
                       : printable(in.ConsumeRandomLengthString(6));
        }
        std::string what = action == 0 ? "find" : action == 1 ? "set" : "erase";
        for (const auto& step : path) {
            what += " /" + step;
        }
        if (action == 0) {
            JsonValue found;
            auto verdict = doc.find(path, found);
            if (!ref) {
                continue;
            }
            const Json* value = nullptr;
            auto want = expected_find(*ref, path, &value);
            if (want == Lookup::NotAnObject) {
                want = Lookup::Missing;  // find() reads a path through a non-object as absent
            }
            if (verdict != want) {
                fail(what + ": verdict " + std::to_string(static_cast<int>(verdict)) +
                     ", expected " + std::to_string(static_cast<int>(want)) + " on " +
                     std::string(doc.text()));
            }
            if (verdict != Lookup::Found) {
                continue;
            }
            if (found.kind != kind_of(*value)) {
                fail(what + ": wrong kind");
            }
            Json raw = Json::parse(found.raw, nullptr, false);
            if (raw.is_discarded() || raw != *value) {
                fail(what + ": value " + std::string(found.raw) + ", expected " + show(*value));
            }
            if (found.kind == JsonKind::String) {
                std::string scratch;
                auto content = agentstream::router::detail::string_content(found.raw, scratch);
                if (!content || *content != value->get<std::string>()) {
                    fail(what + ": string_content of " + std::string(found.raw));
                }
            }
        } else if (action == 1) {
            const char* value =
                VALUES[in.ConsumeIntegralInRange<std::size_t>(0, std::size(VALUES) - 1)];
            auto status = doc.set(path, value);
            if (!ref) {
                continue;
            }
            bool want = expected_set(*ref, path, Json::parse(value));
            if (status.ok() != want) {
                fail(what + ": set " + (status.ok() ? "succeeded" : "failed") +
                     " against the reference");
            }
        } else {
            bool erased = doc.erase(path);
            if (!ref) {
                continue;
            }
            if (erased != expected_erase(*ref, path)) {
                fail(what + ": erase verdict differs");
            }
        }
        if (ref && action != 0) {
            auto now = reference(std::string(doc.text()));
            if (!now || *now != *ref) {
                fail(what + ": the edited text " + std::string(doc.text()) + " is not " +
                     show(*ref));
            }
        }
    }
    return 0;
}
