// agentstream event new | validate | types | schema
#include <agentstream/core/time.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/event/schema.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "internal/json_escape.h"
#include "line_reader.h"

namespace agentstream::cli {
namespace {

using namespace agentstream::event;

std::string type_list() {
    std::vector<std::string_view> names;
    for (auto t : all_event_types()) {
        names.push_back(to_string(t));
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

EventType parse_type_arg(const std::string& text) {
    auto type = parse_event_type(text);
    if (!type) {
        throw UsageError(
            fmt::format("unknown event type '{}'", text),
            fmt::format("Known types: {}.\nSee `agentstream event types`.", type_list()));
    }
    return *type;
}

std::string field_list(Family family) {
    std::vector<std::string_view> names;
    for (const auto& f : family_spec(family).fields) {
        names.push_back(f.name);
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

// A --set value for a family field: strings are taken literally, everything else is JSON
// (a Scalar that is not a JSON number is a string).
Value parse_set_value(const FieldSpec& spec, const std::string& text) {
    if (spec.kind == FieldKind::String) {
        return Value(text);
    }
    auto value = value_from_json(spec, text);
    if (value) {
        return std::move(value.value());
    }
    if (spec.kind == FieldKind::Scalar) {
        return Value(text);
    }
    throw UsageError(
        fmt::format("--set {}={}: {}", spec.name, text, describe(value.error())),
        fmt::format("{} takes {} (written as JSON).", spec.name, to_string(spec.kind)));
}

void event_new(const std::string& type_text, const std::vector<std::string>& sets) {
    auto type = parse_type_arg(type_text);
    Fields fields;
    std::string source = "agentstream-cli";
    EnvelopeOptions envelope;
    std::optional<std::string> id;
    std::optional<Timestamp> timestamp;
    std::vector<std::pair<std::string, std::string>> metadata;
    for (const auto& set : sets) {
        auto eq = set.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw UsageError(fmt::format("--set '{}' is not FIELD=VALUE", set),
                             "Example: --set document_id=d1");
        }
        std::string name = set.substr(0, eq);
        std::string text = set.substr(eq + 1);
        if (name == "source") {
            source = text;
        } else if (name == "event_id") {
            id = text;
        } else if (name == "timestamp") {
            timestamp = parse_rfc3339(text);
            if (!timestamp) {
                throw UsageError(fmt::format("--set timestamp={}: not an RFC 3339 time", text),
                                 "Example: --set timestamp=2026-11-27T08:03:39.079210Z");
            }
        } else if (name == "priority") {
            auto p = parse_priority(text);
            if (!p) {
                throw UsageError(fmt::format("--set priority={}: unknown priority", text),
                                 "Priorities: low, medium, high, critical.");
            }
            envelope.priority = *p;
        } else if (name == "correlation_id") {
            envelope.correlation_id = text;
        } else if (name == "causation_id") {
            envelope.causation_id = text;
        } else if (name == "metadata") {
            envelope.metadata = RawJson{text};
        } else if (name.starts_with("metadata.") && name.size() > 9) {
            metadata.emplace_back(name.substr(9), text);
        } else {
            auto index = field_index(family_of(type), name);
            if (!index) {
                throw UsageError(
                    fmt::format("{} events have no field '{}'", to_string(family_of(type)), name),
                    fmt::format("Fields: {}.\nEnvelope: source, priority, correlation_id, "
                                "causation_id, event_id, timestamp, metadata, metadata.KEY.",
                                field_list(family_of(type))));
            }
            const auto& spec = family_spec(family_of(type)).fields[*index];
            fields.push_back({spec.name, parse_set_value(spec, text)});
        }
    }
    if (!metadata.empty()) {
        std::string text = "{";
        for (const auto& [key, value] : metadata) {
            if (text.size() > 1) {
                text += ',';
            }
            append_json_string(text, key);
            text += ':';
            append_json_string(text, value);
        }
        text += '}';
        envelope.metadata = RawJson{text};
    }
    Event event = [&] {
        try {
            return EventFactory::create(type, source, fields, envelope);
        } catch (const ValidationError& e) {
            std::string hint;
            for (const auto& v : e.violations()) {
                if (v.kind == ViolationKind::Missing) {
                    hint += fmt::format("Add --set {}=VALUE. ", v.field);
                }
            }
            throw UsageError(fmt::format("cannot build a valid {} event: {}", to_string(type),
                                         describe(e.violations())),
                             hint);
        }
    }();
    if (id) {
        event.set_id(*id);
    }
    if (timestamp) {
        event.set_timestamp(*timestamp);
    }
    fmt::print("{}\n", encode(event));
}

void event_validate(const std::string& path, bool quiet) {
    LineReader in(path, MAX_EVENT_BYTES);
    LineReader::Line line;
    std::size_t valid = 0;
    std::size_t invalid = 0;
    while (in.next(line)) {
        if (line.too_long) {
            ++invalid;
            fmt::print("{}\n", in.too_long_message(line));
            continue;
        }
        if (line.text.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        auto result = decode(line.text);
        if (result) {
            ++valid;
            continue;
        }
        ++invalid;
        for (const auto& v : result.error()) {
            fmt::print("line {}: {}\n", line.number, v.message);
        }
    }
    if (!quiet) {
        fmt::print(stderr, "{} events: {} valid, {} invalid\n", valid + invalid, valid, invalid);
    }
    if (invalid > 0) {
        exit_code() = EXIT_RUNTIME;
    }
}

void event_types() {
    fmt::print("{:<28} {:<16} {}\n", "EVENT TYPE", "FAMILY", "RECORD KEY");
    for (auto t : all_event_types()) {
        const auto& spec = family_spec(family_of(t));
        fmt::print("{:<28} {:<16} {}\n", to_string(t), to_string(spec.family),
                   fmt::join(spec.key_fields, " + "));
    }
}

std::string_view presence_name(Presence p) {
    switch (p) {
        case Presence::Required: return "required";
        case Presence::Optional: return "optional";
        case Presence::Defaulted: return "defaulted";
    }
    return "";
}

std::string rule_text(const FieldSpec& f) {
    switch (f.rule) {
        case Rule::None: return "";
        case Rule::NonEmpty: return "non-empty";
        case Rule::NonNegative: return ">= 0";
        case Rule::UnitInterval: return "0 to 1";
        case Rule::Percentage: return "0 to 100";
        case Rule::OneOf: return fmt::format("one of {}", fmt::join(f.allowed, ", "));
    }
    return "";
}

void print_family_markdown(Family family) {
    const auto& spec = family_spec(family);
    std::vector<std::string_view> types;
    for (auto t : all_event_types()) {
        if (family_of(t) == family) {
            types.push_back(to_string(t));
        }
    }
    fmt::print("## {}\n\n{}. Types: `{}`. Record key: {}.\n\n", to_string(family), spec.description,
               fmt::join(types, "`, `"), fmt::join(spec.key_fields, " + "));
    fmt::print("| field | kind | presence | default | rule | meaning |\n");
    fmt::print("|---|---|---|---|---|---|\n");
    for (const auto& f : spec.fields) {
        fmt::print("| `{}` | {} | {} | {} | {} | {} |\n", f.name, to_string(f.kind),
                   presence_name(f.presence),
                   f.default_json.empty() ? "" : fmt::format("`{}`", f.default_json), rule_text(f),
                   f.description);
    }
    fmt::print("\n");
}

void event_schema(const std::string& what, bool markdown) {
    std::vector<Family> families;
    if (what.empty()) {
        for (std::size_t i = 0; i < FAMILY_COUNT; ++i) {
            families.push_back(static_cast<Family>(i));
        }
    } else if (auto type = parse_event_type(what)) {
        families.push_back(family_of(*type));
    } else {
        for (std::size_t i = 0; i < FAMILY_COUNT; ++i) {
            if (to_string(static_cast<Family>(i)) == what) {
                families.push_back(static_cast<Family>(i));
            }
        }
        if (families.empty()) {
            throw UsageError(fmt::format("'{}' is neither an event type nor a family", what),
                             "Families: document, task, agent, analytics, notification, quality, "
                             "business_insight, system_health. See `agentstream event types`.");
        }
    }
    if (markdown) {
        for (auto f : families) {
            print_family_markdown(f);
        }
        return;
    }
    for (auto family : families) {
        fmt::print("{}:\n", to_string(family));
        for (const auto& f : family_spec(family).fields) {
            auto rule = rule_text(f);
            fmt::print("  {:<26} {:<18} {:<9}{}{}\n", f.name, to_string(f.kind),
                       presence_name(f.presence),
                       f.default_json.empty() ? "" : fmt::format(" default {}", f.default_json),
                       rule.empty() ? "" : fmt::format(" ({})", rule));
        }
    }
}

}  // namespace

void add_event_commands(CLI::App& app) {
    auto* event = app.add_subcommand("event", "Create, validate and describe catalogue events");
    event->require_subcommand(1);

    struct NewArgs {
        std::string type;
        std::vector<std::string> sets;
    };
    auto new_args = std::make_shared<NewArgs>();
    auto* create =
        event->add_subcommand("new", "Print one valid event as JSON (generated id and timestamp)");
    create->add_option("TYPE", new_args->type, "Event type, e.g. document.uploaded")->required();
    create
        ->add_option("--set", new_args->sets,
                     "FIELD=VALUE; strings literally, other kinds as JSON; repeatable")
        ->type_name("FIELD=VALUE")
        ->allow_extra_args(false);
    create->callback([new_args] { event_new(new_args->type, new_args->sets); });

    struct ValidateArgs {
        std::string path = "-";
        bool quiet = false;
    };
    auto validate_args = std::make_shared<ValidateArgs>();
    auto* validate_cmd = event->add_subcommand(
        "validate",
        "Check JSON Lines events; print each invalid line's number and errors; "
        "exit 1 if any line is invalid");
    validate_cmd->add_option("FILE", validate_args->path, "JSON Lines file, or - for stdin");
    validate_cmd->add_flag("-q,--quiet", validate_args->quiet, "Do not print the summary line");
    validate_cmd->callback(
        [validate_args] { event_validate(validate_args->path, validate_args->quiet); });

    event->add_subcommand("types", "List the event types, their families and record keys")
        ->callback([] { event_types(); });

    struct SchemaArgs {
        std::string what;
        bool markdown = false;
    };
    auto schema_args = std::make_shared<SchemaArgs>();
    auto* schema = event->add_subcommand("schema", "Show the fields of a family or event type");
    schema->add_option("WHAT", schema_args->what, "Event type or family (default: all)");
    schema->add_flag("--markdown", schema_args->markdown, "Print as Markdown tables");
    schema->callback([schema_args] { event_schema(schema_args->what, schema_args->markdown); });
}

}  // namespace agentstream::cli
