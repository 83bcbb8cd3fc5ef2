// Property tests: random valid events round-trip exactly; random bytes never crash the decoder.
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <limits>

#include "internal/json_escape.h"
#include "support/sample_events.h"

namespace agentstream::event {
namespace {

// Valid UTF-8 from arbitrary code points (surrogates excluded), control characters included.
rc::Gen<std::string> utf8_string() {
    return rc::gen::map(
        rc::gen::container<std::vector<std::uint32_t>>(rc::gen::oneOf(
            rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
            rc::gen::inRange<std::uint32_t>(0xE000, 0x110000))),
        [](const std::vector<std::uint32_t>& cps) {
            std::string s;
            for (auto cp : cps) {
                if (cp < 0x80) {
                    s += static_cast<char>(cp);
                } else if (cp < 0x800) {
                    s += static_cast<char>(0xC0 | (cp >> 6));
                    s += static_cast<char>(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    s += static_cast<char>(0xE0 | (cp >> 12));
                    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                    s += static_cast<char>(0x80 | (cp & 0x3F));
                } else {
                    s += static_cast<char>(0xF0 | (cp >> 18));
                    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                    s += static_cast<char>(0x80 | (cp & 0x3F));
                }
            }
            return s;
        });
}

rc::Gen<std::string> non_empty_utf8() {
    return rc::gen::suchThat(utf8_string(), [](const std::string& s) { return !s.empty(); });
}

rc::Gen<double> finite_double() {
    return rc::gen::suchThat(rc::gen::arbitrary<double>(),
                             [](double d) { return std::isfinite(d); });
}

rc::Gen<double> double_in(double lo, double hi) {
    return rc::gen::map(rc::gen::inRange<std::int64_t>(0, 1000001), [lo, hi](std::int64_t i) {
        return lo + (hi - lo) * (static_cast<double>(i) / 1e6);
    });
}

// A JSON scalar in the minified form simdjson writes back.
rc::Gen<std::string> json_scalar() {
    return rc::gen::oneOf(rc::gen::map(rc::gen::arbitrary<std::int64_t>(),
                                       [](std::int64_t i) { return std::to_string(i); }),
                          rc::gen::map(utf8_string(),
                                       [](const std::string& s) {
                                           std::string out;
                                           append_json_string(out, s);
                                           return out;
                                       }),
                          rc::gen::element<std::string>("true", "false", "null"));
}

rc::Gen<std::string> json_object(rc::Gen<std::string> values) {
    return rc::gen::map(rc::gen::container<std::vector<std::string>>(std::move(values)),
                        [](const std::vector<std::string>& vs) {
                            std::string out = "{";
                            for (std::size_t i = 0; i < vs.size(); ++i) {
                                out += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + vs[i];
                            }
                            return out + "}";
                        });
}

rc::Gen<std::string> json_string() {
    return rc::gen::map(utf8_string(), [](const std::string& s) {
        std::string out;
        append_json_string(out, s);
        return out;
    });
}

rc::Gen<Value> value_for(const FieldSpec& spec) {
    switch (spec.kind) {
        case FieldKind::String:
            if (spec.rule == Rule::OneOf) {
                return rc::gen::map(rc::gen::elementOf(std::vector<std::string_view>(
                                        spec.allowed.begin(), spec.allowed.end())),
                                    [](std::string_view s) { return Value(std::string(s)); });
            }
            return rc::gen::map(spec.rule == Rule::NonEmpty ? non_empty_utf8() : utf8_string(),
                                [](std::string s) { return Value(std::move(s)); });
        case FieldKind::Integer:
            return rc::gen::map(
                rc::gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max()),
                [](std::int64_t i) { return Value(i); });
        case FieldKind::Number: {
            auto gen = spec.rule == Rule::UnitInterval ? double_in(0, 1)
                       : spec.rule == Rule::Percentage ? double_in(0, 100)
                       : spec.rule == Rule::NonNegative
                           ? rc::gen::map(finite_double(), [](double d) { return std::fabs(d); })
                           : finite_double();
            return rc::gen::map(gen, [](double d) { return Value(d); });
        }
        case FieldKind::Boolean:
            return rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Value(b); });
        case FieldKind::Scalar:
            return rc::gen::oneOf(
                rc::gen::map(rc::gen::arbitrary<std::int64_t>(),
                             [](std::int64_t i) { return Value(i); }),
                rc::gen::map(finite_double(), [](double d) { return Value(d); }),
                rc::gen::map(utf8_string(), [](std::string s) { return Value(std::move(s)); }));
        case FieldKind::StringList:
            return rc::gen::map(rc::gen::container<StringList>(utf8_string()),
                                [](StringList l) { return Value(std::move(l)); });
        case FieldKind::Object:
            return rc::gen::map(json_object(json_scalar()),
                                [](std::string s) { return Value(RawJson{std::move(s)}); });
        case FieldKind::StringMap:
            return rc::gen::map(json_object(json_string()),
                                [](std::string s) { return Value(RawJson{std::move(s)}); });
        case FieldKind::NumberMap:
            return rc::gen::map(
                json_object(rc::gen::map(rc::gen::arbitrary<std::int64_t>(),
                                         [](std::int64_t i) { return std::to_string(i); })),
                [](std::string s) { return Value(RawJson{std::move(s)}); });
        case FieldKind::ObjectList:
            return rc::gen::map(
                rc::gen::container<std::vector<std::string>>(json_object(json_scalar())),
                [](const std::vector<std::string>& objects) {
                    std::string out = "[";
                    for (std::size_t i = 0; i < objects.size(); ++i) {
                        out += (i ? "," : "") + objects[i];
                    }
                    return Value(RawJson{out + "]"});
                });
    }
    return rc::gen::just(Value(0));
}

Event random_event() {
    auto types = all_event_types();
    auto type = *rc::gen::elementOf(std::vector<EventType>(types.begin(), types.end()));
    Event event(type, *non_empty_utf8());
    event.set_id(*non_empty_utf8());
    event.set_timestamp(Timestamp{std::chrono::microseconds{
        *rc::gen::inRange<std::int64_t>(0, 7'258'118'400'000'000)}});  // 1970 .. 2200
    event.set_priority(
        *rc::gen::element(Priority::Low, Priority::Medium, Priority::High, Priority::Critical));
    if (*rc::gen::arbitrary<bool>()) {
        event.set_correlation_id(*utf8_string());
    }
    if (*rc::gen::arbitrary<bool>()) {
        event.set_causation_id(*utf8_string());
    }
    event.set_metadata(RawJson{*json_object(json_scalar())});
    const auto& fields = family_spec(event.family()).fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].presence == Presence::Optional && *rc::gen::arbitrary<bool>()) {
            continue;
        }
        event.set_at(i, *value_for(fields[i]));
    }
    auto extras = *rc::gen::inRange(0, 3);
    for (int i = 0; i < extras; ++i) {
        event.set_extra("x_extra_" + std::to_string(i), RawJson{*json_scalar()});
    }
    return event;
}

RC_GTEST_PROP(CodecProperty, RandomValidEventsRoundTripExactly, ()) {
    auto event = random_event();
    auto violations = validate(event);
    RC_ASSERT(violations.empty());
    auto json = encode(event);
    auto back = decode(json);
    if (!back.ok()) {
        RC_FAIL(json + "\n" + describe(back.error()));
    }
    RC_ASSERT(*back == event);
    RC_ASSERT(encode(*back) == json);
}

RC_GTEST_PROP(CodecProperty, RandomBytesNeverCrashTheDecoder, (const std::string& bytes)) {
    auto result = decode(bytes);
    if (result.ok()) {
        RC_ASSERT(decode(encode(*result)).ok());
    } else {
        RC_ASSERT(!result.error().empty());
    }
}

RC_GTEST_PROP(CodecProperty, MutatedValidEventsNeverCrashTheDecoder, ()) {
    auto types = all_event_types();
    auto type = *rc::gen::elementOf(std::vector<EventType>(types.begin(), types.end()));
    auto json = testing::minimal_json(type);
    auto edits = *rc::gen::inRange(1, 8);
    for (int i = 0; i < edits; ++i) {
        auto pos = *rc::gen::inRange<std::size_t>(0, json.size());
        switch (*rc::gen::inRange(0, 3)) {
            case 0: json[pos] = *rc::gen::arbitrary<char>(); break;
            case 1: json.erase(pos, 1); break;
            default: json.insert(pos, 1, *rc::gen::arbitrary<char>()); break;
        }
        if (json.empty()) {
            break;
        }
    }
    auto result = decode(json);
    if (result.ok()) {
        auto again = decode(encode(*result));
        RC_ASSERT(again.ok());
        RC_ASSERT(*again == *result);
    } else {
        for (const auto& v : result.error()) {
            RC_ASSERT(!v.message.empty());
        }
    }
}

// check() is decode() without building: the same verdict and the same violations for any bytes.
void expect_check_agrees(const std::string& json) {
    auto decoded = decode(json);
    auto checked = check(json);
    RC_ASSERT(decoded.ok() == checked.ok());
    if (decoded.ok()) {
        RC_ASSERT(checked->type == decoded->type());
        RC_ASSERT(checked->timestamp == decoded->timestamp());
    } else {
        RC_ASSERT(describe(checked.error()) == describe(decoded.error()));
    }
}

RC_GTEST_PROP(CodecProperty, CheckAgreesWithDecodeOnValidEvents, ()) {
    expect_check_agrees(encode(random_event()));
}

// One family field set to a value of any kind, often the wrong one or breaking the field's
// rule (empty, negative, out of range, not in the allowed list).
RC_GTEST_PROP(CodecProperty, CheckAgreesWithDecodeOnWrongFieldValues, ()) {
    auto event = random_event();
    const auto& fields = family_spec(event.family()).fields;
    if (fields.empty()) {
        return;
    }
    auto index = *rc::gen::inRange<std::size_t>(0, fields.size());
    std::vector<Value> values = {Value(std::string()),
                                 Value(std::string("not-allowed")),
                                 Value(std::string("an ordinary string over fifteen bytes")),
                                 Value(std::int64_t{-1}),
                                 Value(std::int64_t{7}),
                                 Value(-0.5),
                                 Value(1.5),
                                 Value(150.0),
                                 Value(true),
                                 Value(RawJson{"{}"}),
                                 Value(RawJson{"[1]"}),
                                 Value(RawJson{"[\"a\"]"}),
                                 Value(RawJson{"[{}]"}),
                                 Value(RawJson{"{\"a\":\"b\"}"}),
                                 Value(RawJson{"{\"a\":1}"}),
                                 Value(RawJson{"null"}),
                                 Value(RawJson{"18446744073709551615"})};
    if (!fields[index].allowed.empty()) {
        values.emplace_back(std::string(*rc::gen::elementOf(std::vector<std::string_view>(
            fields[index].allowed.begin(), fields[index].allowed.end()))));
    }
    event.set_at(index, *rc::gen::elementOf(values));
    expect_check_agrees(encode(event));
}

RC_GTEST_PROP(CodecProperty, CheckAgreesWithDecodeOnMutatedEvents, ()) {
    auto types = all_event_types();
    auto type = *rc::gen::elementOf(std::vector<EventType>(types.begin(), types.end()));
    auto json = *rc::gen::element(testing::minimal_json(type), encode(random_event()));
    auto edits = *rc::gen::inRange(1, 6);
    for (int i = 0; i < edits && !json.empty(); ++i) {
        auto pos = *rc::gen::inRange<std::size_t>(0, json.size());
        switch (*rc::gen::inRange(0, 3)) {
            case 0: json[pos] = *rc::gen::arbitrary<char>(); break;
            case 1: json.erase(pos, 1); break;
            default: json.insert(pos, 1, *rc::gen::arbitrary<char>()); break;
        }
    }
    expect_check_agrees(json);
}

}  // namespace
}  // namespace agentstream::event
