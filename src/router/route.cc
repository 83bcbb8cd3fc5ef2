#include <agentstream/router/route.h>

#include <fmt/format.h>
#include <re2/re2.h>

#include <stdexcept>

#include "internal/json_escape.h"
#include "router/json_doc.h"

namespace agentstream::router {
namespace {

constexpr std::string_view OP_NAMES[] = {"eq", "ne",  "in",     "not_in", "gt",     "gte",
                                         "lt", "lte", "exists", "regex",  "prefix", "contains"};

std::string_view scalar_type(const Scalar& s) {
    switch (s.index()) {
        case 0: return "null";
        case 1: return "a boolean";
        case 2: return "a number";
        default: return "a string";
    }
}

}  // namespace

FieldPath::FieldPath(std::string_view dotted) : _text(dotted) {
    if (dotted.empty()) {
        throw std::invalid_argument("a field path cannot be empty");
    }
    std::size_t start = 0;
    while (true) {
        auto dot = dotted.find('.', start);
        auto segment = dotted.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (segment.empty()) {
            throw std::invalid_argument(
                fmt::format("field path '{}' has an empty segment; write a.b.c", dotted));
        }
        _segments.emplace_back(segment);
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
}

std::string_view to_string(Op op) noexcept {
    return OP_NAMES[static_cast<std::size_t>(op)];
}

std::optional<Op> parse_op(std::string_view name) noexcept {
    if (name.starts_with('$')) {
        name.remove_prefix(1);  // the original's MongoDB-style spelling: $in, $gt, ...
    }
    for (std::size_t i = 0; i < std::size(OP_NAMES); ++i) {
        if (OP_NAMES[i] == name) {
            return static_cast<Op>(i);
        }
    }
    return std::nullopt;
}

Predicate make_predicate(std::string_view path, Op op, std::vector<Scalar> operands) {
    Predicate p{FieldPath(path), op, std::move(operands), nullptr};
    auto name = to_string(op);
    bool list = op == Op::In || op == Op::NotIn;
    if (list) {
        if (p.operands.empty()) {
            throw std::invalid_argument(fmt::format("{} needs a non-empty list", name));
        }
    } else if (p.operands.size() != 1) {
        throw std::invalid_argument(fmt::format("{} takes one value, not a list", name));
    }
    const Scalar& first = p.operands.front();
    switch (op) {
        case Op::Exists:
            if (first.index() != 1) {
                throw std::invalid_argument(
                    fmt::format("exists takes true or false, not {}", scalar_type(first)));
            }
            break;
        case Op::Gt:
        case Op::Gte:
        case Op::Lt:
        case Op::Lte:
            if (first.index() != 2 && first.index() != 3) {
                throw std::invalid_argument(
                    fmt::format("{} takes a number or a string, not {}", name, scalar_type(first)));
            }
            break;
        case Op::Regex: {
            const auto* text = std::get_if<std::string>(&first);
            if (text == nullptr) {
                throw std::invalid_argument(
                    fmt::format("regex takes a string, not {}", scalar_type(first)));
            }
            RE2::Options options;
            options.set_log_errors(false);
            auto re = std::make_shared<const RE2>(*text, options);
            if (!re->ok()) {
                throw std::invalid_argument(
                    fmt::format("invalid regular expression '{}': {}", *text, re->error()));
            }
            p.regex = std::move(re);
            break;
        }
        case Op::Prefix:
            if (first.index() != 3) {
                throw std::invalid_argument(
                    fmt::format("prefix takes a string, not {}", scalar_type(first)));
            }
            break;
        default: break;
    }
    return p;
}

// --- EventEditor ---------------------------------------------------------------------------

std::optional<std::string_view> EventEditor::get(const FieldPath& path) {
    detail::JsonValue v;
    if (_doc->find(path.segments(), v) != detail::Lookup::Found) {
        return std::nullopt;
    }
    return v.raw;
}

std::optional<std::string> EventEditor::get_string(const FieldPath& path) {
    detail::JsonValue v;
    if (_doc->find(path.segments(), v) != detail::Lookup::Found ||
        v.kind != detail::JsonKind::String) {
        return std::nullopt;
    }
    std::string scratch;
    auto content = detail::string_content(v.raw, scratch);
    if (!content) {
        return std::nullopt;
    }
    return std::string(*content);
}

Status EventEditor::set(const FieldPath& path, std::string_view json) {
    return _doc->set(path.segments(), json);
}

Status EventEditor::set_string(const FieldPath& path, std::string_view text) {
    std::string json;
    append_json_string(json, text);
    return _doc->set(path.segments(), json);
}

bool EventEditor::erase(const FieldPath& path) {
    return _doc->erase(path.segments());
}

// --- built-in transformations ---------------------------------------------------------------

namespace {

class AddField final : public Transformation {
  public:
    AddField(FieldPath path, std::string json) : _path(std::move(path)), _json(std::move(json)) {}
    std::string describe() const override { return fmt::format("add_field({})", _path.text()); }
    Status apply(EventEditor& event) const override { return event.set(_path, _json); }

  private:
    FieldPath _path;
    std::string _json;
};

class RemoveField final : public Transformation {
  public:
    explicit RemoveField(FieldPath path) : _path(std::move(path)) {}
    std::string describe() const override { return fmt::format("remove_field({})", _path.text()); }
    Status apply(EventEditor& event) const override {
        event.erase(_path);
        return {};
    }

  private:
    FieldPath _path;
};

class RenameField final : public Transformation {
  public:
    RenameField(FieldPath from, FieldPath to) : _from(std::move(from)), _to(std::move(to)) {}
    std::string describe() const override {
        return fmt::format("rename_field({} -> {})", _from.text(), _to.text());
    }
    Status apply(EventEditor& event) const override {
        auto value = event.get(_from);
        if (!value) {
            return {};
        }
        std::string copy(*value);  // the view dies with the next edit
        event.erase(_from);
        return event.set(_to, copy);
    }

  private:
    FieldPath _from;
    FieldPath _to;
};

class MapValue final : public Transformation {
  public:
    MapValue(FieldPath path, std::vector<std::pair<std::string, std::string>> mapping,
             std::optional<std::string> otherwise)
        : _path(std::move(path)), _mapping(std::move(mapping)), _otherwise(std::move(otherwise)) {}
    std::string describe() const override { return fmt::format("map_value({})", _path.text()); }
    Status apply(EventEditor& event) const override {
        auto raw = event.get(_path);
        if (!raw) {
            return {};
        }
        // Strings are matched by their text, other scalars by their JSON spelling (1, true).
        std::string scratch;
        std::string_view text = *raw;
        if (!raw->empty() && raw->front() == '"') {
            auto content = detail::string_content(*raw, scratch);
            if (!content) {
                return {};
            }
            text = *content;
        }
        for (const auto& [from, to] : _mapping) {
            if (from == text) {
                return event.set(_path, to);
            }
        }
        if (_otherwise) {
            return event.set(_path, *_otherwise);
        }
        return {};
    }

  private:
    FieldPath _path;
    std::vector<std::pair<std::string, std::string>> _mapping;
    std::optional<std::string> _otherwise;
};

class AddTimestamp final : public Transformation {
  public:
    explicit AddTimestamp(FieldPath path) : _path(std::move(path)) {}
    std::string describe() const override { return fmt::format("add_timestamp({})", _path.text()); }
    Status apply(EventEditor& event) const override {
        return event.set_string(_path, format_rfc3339(event.now()));
    }

  private:
    FieldPath _path;
};

class AddRoutingMetadata final : public Transformation {
  public:
    explicit AddRoutingMetadata(FieldPath path) : _path(std::move(path)) {}
    std::string describe() const override {
        return fmt::format("add_routing_metadata({})", _path.text());
    }
    Status apply(EventEditor& event) const override {
        std::string json = "{\"route\":";
        append_json_string(json, event.route());
        json += ",\"dispatcher\":";
        append_json_string(json, event.dispatcher());
        json += ",\"routed_at\":\"";
        format_rfc3339(event.now(), json);
        json += "\"}";
        return event.set(_path, json);
    }

  private:
    FieldPath _path;
};

class SetKey final : public Transformation {
  public:
    SetKey(std::optional<FieldPath> path, std::string value)
        : _path(std::move(path)), _value(std::move(value)) {}
    std::string describe() const override {
        return _path ? fmt::format("set_key({})", _path->text())
                     : fmt::format("set_key('{}')", _value);
    }
    Status apply(EventEditor& event) const override {
        if (!_path) {
            event.set_key(_value);
            return {};
        }
        auto raw = event.get(*_path);
        if (!raw) {
            return failure(Error{fmt::format("set_key: '{}' is absent", _path->text())});
        }
        auto kind = detail::kind_of(*raw);
        if (kind == detail::JsonKind::String) {
            std::string scratch;
            auto content = detail::string_content(*raw, scratch);
            if (content) {
                event.set_key(std::string(*content));
                return {};
            }
        } else if (kind == detail::JsonKind::Number) {
            event.set_key(std::string(*raw));
            return {};
        }
        return failure(
            Error{fmt::format("set_key: '{}' is not a string or a number", _path->text())});
    }

  private:
    std::optional<FieldPath> _path;
    std::string _value;
};

}  // namespace

std::shared_ptr<const Transformation> add_field(FieldPath path, std::string json_value) {
    return std::make_shared<AddField>(std::move(path), std::move(json_value));
}
std::shared_ptr<const Transformation> remove_field(FieldPath path) {
    return std::make_shared<RemoveField>(std::move(path));
}
std::shared_ptr<const Transformation> rename_field(FieldPath from, FieldPath to) {
    return std::make_shared<RenameField>(std::move(from), std::move(to));
}
std::shared_ptr<const Transformation> map_value(
    FieldPath path, std::vector<std::pair<std::string, std::string>> mapping,
    std::optional<std::string> otherwise) {
    return std::make_shared<MapValue>(std::move(path), std::move(mapping), std::move(otherwise));
}
std::shared_ptr<const Transformation> add_timestamp(FieldPath path) {
    return std::make_shared<AddTimestamp>(std::move(path));
}
std::shared_ptr<const Transformation> add_routing_metadata(FieldPath path) {
    return std::make_shared<AddRoutingMetadata>(std::move(path));
}
std::shared_ptr<const Transformation> set_key_from(FieldPath path) {
    return std::make_shared<SetKey>(std::move(path), std::string());
}
std::shared_ptr<const Transformation> set_key_to(std::string value) {
    return std::make_shared<SetKey>(std::nullopt, std::move(value));
}

}  // namespace agentstream::router
