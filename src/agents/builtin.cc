#include <agentstream/agents/builtin.h>
#include <agentstream/core/ids.h>
#include <agentstream/event/factory.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

namespace agentstream::agents {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string string_of(const json& data, const char* key, std::string fallback = {}) {
    auto it = data.find(key);
    return it != data.end() && it->is_string() ? it->get<std::string>() : fallback;
}

event::EnvelopeOptions envelope_of(const Task& task) {
    event::EnvelopeOptions o;
    o.priority = task.priority;
    o.correlation_id = task.correlation_id;
    o.causation_id = task.id;
    return o;
}

event::RawJson raw(const json& j) {
    return event::RawJson{j.dump()};
}

bool within(const fs::path& path, const fs::path& root) {
    auto p = path.begin();
    for (auto r = root.begin(); r != root.end(); ++r, ++p) {
        if (r->empty()) {
            continue;  // a trailing separator
        }
        if (p == path.end() || *p != *r) {
            return false;
        }
    }
    return true;
}

std::string preview(const std::string& text, std::size_t chars) {
    std::string out;
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size() && n < chars; ++n) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80 ? 1 : c >> 5 == 6 ? 2 : c >> 4 == 14 ? 3 : c >> 3 == 30 ? 4 : 1;
        out.append(text, i, len);
        i += len;
    }
    return out;
}

}  // namespace

json to_json(const TextAnalysis& a) {
    json phrases = json::array();
    for (const auto& k : a.key_phrases) {
        phrases.push_back({{"phrase", k.phrase}, {"score", k.score}});
    }
    return {{"characters", a.characters},
            {"words", a.words},
            {"sentences", a.sentences},
            {"paragraphs", a.paragraphs},
            {"language", a.language},
            {"language_confidence", a.language_confidence},
            {"key_phrases", phrases},
            {"summary", a.summary},
            {"sentiment", a.sentiment},
            {"sentiment_label", a.sentiment_label},
            {"reading_time_minutes", a.reading_time_minutes}};
}

std::variant<std::string, TaskError> read_document(const json& data,
                                                   const std::vector<fs::path>& roots,
                                                   std::size_t max_bytes) {
    if (auto it = data.find("content"); it != data.end()) {
        if (!it->is_string()) {
            return TaskError{"task_data.content must be a string", false};
        }
        if (it->get_ref<const std::string&>().size() > max_bytes) {
            return TaskError{fmt::format("task_data.content is over {} bytes", max_bytes), false};
        }
        return it->get<std::string>();
    }
    auto path_text = string_of(data, "file_path");
    if (path_text.empty()) {
        return TaskError{"task_data needs file_path or content", false};
    }
    fs::path path(path_text);
    if (path.is_relative() && !roots.empty()) {
        path = roots.front() / path;
    }
    std::error_code ec;
    auto real = fs::weakly_canonical(path, ec);
    if (ec) {
        return TaskError{fmt::format("cannot resolve {}: {}", path_text, ec.message()), false};
    }
    if (!roots.empty() && std::none_of(roots.begin(), roots.end(), [&](const fs::path& r) {
            std::error_code rec;
            return within(real, fs::weakly_canonical(r, rec));
        })) {
        return TaskError{fmt::format("{} is outside the allowed document roots", path_text), false};
    }
    auto size = fs::file_size(real, ec);
    if (ec) {
        return TaskError{fmt::format("cannot read {}: {}", path_text, ec.message()), false};
    }
    if (size > max_bytes) {
        return TaskError{
            fmt::format("{} is {} bytes, over the limit of {}", path_text, size, max_bytes), false};
    }
    std::ifstream in(real, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) {
        return TaskError{fmt::format("cannot read {}", path_text), true};
    }
    return std::move(text).str();
}

DocumentAnalyzerAgent::DocumentAnalyzerAgent(DocumentAnalyzerOptions options)
    : _options(std::move(options)) {}

TaskOutcome DocumentAnalyzerAgent::process(const Task& task, const TaskContext& context) {
    auto started = std::chrono::steady_clock::now();
    auto text = read_document(task.data, _options.roots, _options.max_bytes);
    if (auto* error = std::get_if<TaskError>(&text)) {
        return *error;
    }
    if (context.stop_requested()) {
        return TaskError{"stopped", true};
    }
    const auto& content = std::get<std::string>(text);
    auto analysis = analyze_text(content, _options.analysis);
    auto results = to_json(analysis);
    auto document_id = string_of(task.data, "document_id", task.id);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
    event::Fields fields = {
        {"analysis_results", raw(results)}, {"processing_time_ms", took},
        {"agent_id", _options.info.id},     {"content_preview", preview(content, 200)},
        {"processing_stage", "analysis"},   {"status", "done"}};
    auto analysed =
        event::EventFactory::document(event::EventType::DocumentAnalysisComplete, document_id,
                                      _options.info.id, fields, envelope_of(task));
    for (const char* key : {"file_path", "document_name", "document_type"}) {
        if (auto value = string_of(task.data, key); !value.empty()) {
            analysed.set(key, value);
        }
    }
    TaskOutput out;
    out.events.push_back(std::move(analysed));
    results["document_id"] = document_id;
    out.result = std::move(results);
    return out;
}

QualityAssuranceAgent::QualityAssuranceAgent(QualityAssuranceOptions options)
    : _options(std::move(options)) {}

TaskOutcome QualityAssuranceAgent::process(const Task& task, const TaskContext& context) {
    json analysis;
    if (auto it = task.data.find("analysis"); it != task.data.end() && it->is_object()) {
        analysis = *it;
    } else {
        auto text = read_document(task.data, _options.roots, _options.max_bytes);
        if (auto* error = std::get_if<TaskError>(&text)) {
            return *error;
        }
        analysis = to_json(analyze_text(std::get<std::string>(text)));
    }
    if (context.stop_requested()) {
        return TaskError{"stopped", true};
    }
    const auto& rules = _options.rules;
    auto number = [&](const char* key) {
        auto it = analysis.find(key);
        return it != analysis.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    auto count = [&](const char* key) {
        auto it = analysis.find(key);
        return it != analysis.end() && it->is_array() ? it->size() : std::size_t{0};
    };
    std::vector<std::string> criteria, passed, failed, warnings, remedies;
    auto check = [&](std::string name, bool ok, std::string remedy) {
        criteria.push_back(name);
        if (ok) {
            passed.push_back(std::move(name));
        } else {
            failed.push_back(std::move(name));
            remedies.push_back(std::move(remedy));
        }
    };
    auto words = number("words");
    check(fmt::format("min_words:{}", rules.min_words),
          words >= static_cast<double>(rules.min_words),
          fmt::format("The document has {} words; at least {} are expected.", words,
                      rules.min_words));
    auto sentences = number("sentences");
    check(fmt::format("min_sentences:{}", rules.min_sentences),
          sentences >= static_cast<double>(rules.min_sentences),
          fmt::format("The document has {} sentences; at least {} are expected.", sentences,
                      rules.min_sentences));
    auto language = analysis.value("language", std::string("unknown"));
    bool language_ok = rules.languages.empty()
                           ? language != "unknown"
                           : std::find(rules.languages.begin(), rules.languages.end(), language) !=
                                 rules.languages.end();
    check("language", language_ok,
          rules.languages.empty()
              ? std::string("The language was not recognised; check the text's encoding.")
              : fmt::format("The document is in '{}'; expected one of {}.", language,
                            fmt::join(rules.languages, ", ")));
    check("summary", count("summary") > 0,
          "No summary could be extracted: add complete sentences.");
    check(fmt::format("min_key_phrases:{}", rules.min_key_phrases),
          count("key_phrases") >= rules.min_key_phrases,
          "Too few key phrases: the text may be too short or repetitive.");
    auto sentiment = number("sentiment");
    if (sentiment < rules.min_sentiment) {
        warnings.push_back(
            fmt::format("sentiment {:.2f} is below {:.2f}", sentiment, rules.min_sentiment));
    }
    double score = criteria.empty() ? 0 : static_cast<double>(passed.size()) / criteria.size();
    auto subject_id = string_of(task.data, "document_id", task.id);
    auto subject_type = string_of(task.data, "subject_type", "document");
    if (subject_type != "document" && subject_type != "task_result" &&
        subject_type != "agent_output") {
        return TaskError{"task_data.subject_type must be document, task_result or agent_output",
                         false};
    }
    json rule_params = {{"min_words", rules.min_words},
                        {"min_sentences", rules.min_sentences},
                        {"min_key_phrases", rules.min_key_phrases},
                        {"languages", rules.languages},
                        {"min_sentiment", rules.min_sentiment}};
    event::Fields fields = {{"warnings", event::StringList(warnings)},
                            {"validator_agent_id", _options.info.id},
                            {"validation_rules", raw(rule_params)},
                            {"remediation_suggestions", event::StringList(remedies)}};
    auto checked =
        event::EventFactory::quality("qa-" + task.id, subject_type, subject_id, score, criteria,
                                     passed, failed, _options.info.id, fields, envelope_of(task));
    if (auto it = task.data.find("previous_quality_score");
        it != task.data.end() && it->is_number()) {
        double previous = std::clamp(it->get<double>(), 0.0, 1.0);
        checked.set("previous_quality_score", previous);
        checked.set("quality_trend", score > previous + 1e-9   ? "improving"
                                     : score < previous - 1e-9 ? "declining"
                                                               : "stable");
    }
    TaskOutput out;
    out.events.push_back(std::move(checked));
    out.result = {{"quality_score", score},   {"passed_checks", passed},
                  {"failed_checks", failed},  {"warnings", warnings},
                  {"subject_id", subject_id}, {"remediation_suggestions", remedies}};
    return out;
}

BusinessIntelligenceAgent::BusinessIntelligenceAgent(BusinessIntelligenceOptions options)
    : _options(std::move(options)) {}

TaskOutcome BusinessIntelligenceAgent::process(const Task& task, const TaskContext&) {
    auto metric = string_of(task.data, "metric");
    auto it = task.data.find("values");
    if (metric.empty() || it == task.data.end() || !it->is_array()) {
        return TaskError{"task_data needs metric (a name) and values (an array of numbers)", false};
    }
    std::vector<double> v;
    for (const auto& x : *it) {
        if (!x.is_number()) {
            return TaskError{"task_data.values must hold numbers only", false};
        }
        v.push_back(x.get<double>());
    }
    if (v.size() < 6) {
        return TaskError{fmt::format("{} values of {}: at least 6 are needed", v.size(), metric),
                         false};
    }
    auto n = static_cast<double>(v.size());
    // Least-squares line over the index.
    double mean_x = (n - 1) / 2;
    double mean_y = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        double dx = static_cast<double>(i) - mean_x;
        double dy = v[i] - mean_y;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    double r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
    std::size_t third = v.size() / 3;
    double first = std::accumulate(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(third), 0.0) /
                   static_cast<double>(third);
    double last = std::accumulate(v.end() - static_cast<std::ptrdiff_t>(third), v.end(), 0.0) /
                  static_cast<double>(third);
    double change = first != 0 ? (last - first) / std::abs(first) : 0;
    // Robust z-scores against the whole series: median and median absolute deviation.
    auto median_of = [](std::vector<double> x) {
        auto mid = x.begin() + static_cast<std::ptrdiff_t>(x.size() / 2);
        std::nth_element(x.begin(), mid, x.end());
        double m = *mid;
        if (x.size() % 2 == 0) {
            m = (m + *std::max_element(x.begin(), mid)) / 2;
        }
        return m;
    };
    double median = median_of(v);
    std::vector<double> deviations;
    for (double x : v) {
        deviations.push_back(std::abs(x - median));
    }
    double mad = median_of(deviations);
    std::vector<std::string> findings;
    double worst_z = 0;
    std::size_t anomalies = 0;
    if (mad > 0) {
        for (std::size_t i = 0; i < v.size(); ++i) {
            double z = 0.6745 * (v[i] - median) / mad;
            if (std::abs(z) > _options.anomaly_threshold) {
                ++anomalies;
                worst_z = std::max(worst_z, std::abs(z));
                findings.push_back(
                    fmt::format("point {} = {:g} is {:.1f} robust deviations {} the "
                                "median {:g}",
                                i, v[i], std::abs(z), z > 0 ? "above" : "below", median));
            }
        }
    }
    bool trend = std::abs(change) >= _options.min_change && r2 >= _options.min_r2;
    std::string type, title, description;
    double confidence = 0;
    double magnitude = 0;
    if (anomalies > 0) {
        type = "anomaly";
        confidence = std::min(1.0, worst_z / (2 * _options.anomaly_threshold));
        magnitude = worst_z / 10;
        title = fmt::format("{} anomal{} in {}", anomalies, anomalies == 1 ? "y" : "ies", metric);
        description = fmt::format(
            "{} of {} values of {} lie beyond {} robust deviations of the "
            "median {:g} (MAD {:g}).",
            anomalies, v.size(), metric, _options.anomaly_threshold, median, mad);
    } else if (trend) {
        type = change > 0 ? "opportunity" : "risk";
        confidence = std::clamp(r2, 0.0, 1.0);
        magnitude = std::abs(change);
        title = fmt::format("{} {} {:.1f}%", metric, change > 0 ? "rising" : "falling",
                            100 * std::abs(change));
        description = fmt::format(
            "{} moved from a mean of {:g} (first third) to {:g} (last third): "
            "{:+.1f}%, slope {:+.3g} per point, R² {:.2f}.",
            metric, first, last, 100 * change, slope, r2);
    } else {
        type = "trend";
        confidence = std::clamp(1 - r2, 0.0, 1.0);
        title = fmt::format("{} stable", metric);
        description = fmt::format(
            "{} changed {:+.1f}% (R² {:.2f}); no anomaly beyond {} robust "
            "deviations.",
            metric, 100 * change, r2, _options.anomaly_threshold);
    }
    findings.insert(findings.begin(),
                    fmt::format("change {:+.1f}% (first third {:g} → last third {:g})",
                                100 * change, first, last));
    findings.insert(findings.begin() + 1,
                    fmt::format("linear slope {:+.3g} per point, R² {:.2f}", slope, r2));
    std::string impact = magnitude >= 0.5   ? "critical"
                         : magnitude >= 0.2 ? "high"
                         : magnitude >= 0.1 ? "medium"
                                            : "low";
    std::vector<std::string> recommendations;
    if (type == "anomaly") {
        recommendations.push_back(
            "Investigate the anomalous points' period for incidents or "
            "data errors.");
    } else if (type == "risk") {
        recommendations.push_back("Review what drives " + metric + " down before it continues.");
    } else if (type == "opportunity") {
        recommendations.push_back("Find what drives " + metric + " up and reinforce it.");
    }
    auto source = string_of(task.data, "source", metric);
    auto freshness = string_of(task.data, "data_freshness", "real-time");
    if (freshness != "real-time" && freshness != "hourly" && freshness != "daily") {
        return TaskError{"task_data.data_freshness must be real-time, hourly or daily", false};
    }
    event::Fields fields = {
        {"recommendations", event::StringList(recommendations)},
        {"metrics_analyzed", event::StringList{metric}},
        {"analysis_period", string_of(task.data, "period", fmt::format("{} points", v.size()))}};
    TaskOutput out;
    out.events.push_back(event::EventFactory::business_insight(
        "insight-" + task.id, type, confidence, title, description, findings, {source}, impact,
        _options.info.id, freshness, _options.info.id, fields, envelope_of(task)));
    out.result = {{"insight_type", type},   {"confidence", confidence}, {"title", title},
                  {"change", change},       {"slope", slope},           {"r2", r2},
                  {"anomalies", anomalies}, {"business_impact", impact}};
    return out;
}

}  // namespace agentstream::agents
