#include "event/rules.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

namespace agentstream::event::rules {
namespace {

void out_of_range(const FieldSpec& spec, double v, std::string_view range, Violations& out) {
    out.push_back({std::string(spec.name), ViolationKind::OutOfRange,
                   fmt::format("{}: must be {}, got {}", spec.name, range, v)});
}

void check_number(const FieldSpec& spec, double v, Violations& out) {
    if (!std::isfinite(v)) {
        out_of_range(spec, v, "a finite number", out);
        return;
    }
    switch (spec.rule) {
        case Rule::NonNegative:
            if (v < 0) {
                out_of_range(spec, v, "non-negative", out);
            }
            break;
        case Rule::UnitInterval:
            if (v < 0 || v > 1) {
                out_of_range(spec, v, "between 0 and 1", out);
            }
            break;
        case Rule::Percentage:
            if (v < 0 || v > 100) {
                out_of_range(spec, v, "between 0 and 100", out);
            }
            break;
        default: break;
    }
}

void check_string(const FieldSpec& spec, std::string_view s, Violations& out) {
    if (spec.rule == Rule::NonEmpty && s.empty()) {
        out.push_back({std::string(spec.name), ViolationKind::NotAllowed,
                       fmt::format("{}: must not be empty", spec.name)});
    } else if (spec.rule == Rule::OneOf) {
        for (auto allowed : spec.allowed) {
            if (allowed == s) {
                return;
            }
        }
        out.push_back({std::string(spec.name), ViolationKind::NotAllowed,
                       fmt::format("{}: must be one of {}; got '{}'", spec.name,
                                   fmt::join(spec.allowed, ", "), s)});
    }
}

}  // namespace

void check(const FieldSpec& spec, const Value& value, Violations& out) {
    if (spec.rule == Rule::None) {
        if (const auto* d = value.as_double(); d != nullptr && !std::isfinite(*d)) {
            out_of_range(spec, *d, "a finite number", out);
        }
        return;
    }
    if (const auto* s = value.as_string()) {
        check_string(spec, *s, out);
    } else if (auto n = value.as_number()) {
        check_number(spec, *n, out);
    }
}

void check_text(const FieldSpec& spec, std::string_view value, Violations& out) {
    if (spec.rule != Rule::None) {
        check_string(spec, value, out);
    }
}

void missing(std::string_view field, Violations& out) {
    out.push_back({std::string(field), ViolationKind::Missing,
                   fmt::format("{}: required field is missing", field)});
}

void wrong_type(std::string_view field, std::string_view expected, std::string_view got,
                Violations& out) {
    out.push_back({std::string(field), ViolationKind::WrongType,
                   fmt::format("{}: expected {}, got {}", field, expected, got)});
}

}  // namespace agentstream::event::rules
