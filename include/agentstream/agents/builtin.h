// Built-in agents, each doing real work on its input:
//   DocumentAnalyzerAgent (document_analysis): reads the document (task_data `file_path` or
//     inline `content`) and analyses its text → document.analysis.complete;
//   QualityAssuranceAgent (quality_check): checks a document's analysis (given, or made from
//     `file_path` / `content`) against rules → quality.check.complete with a score and the
//     passed and failed checks;
//   BusinessIntelligenceAgent (business_insight): trend and anomalies of a series (task_data
//     `metric` and `values`) → business.insight.generated.
#pragma once

#include <agentstream/agents/agent.h>
#include <agentstream/agents/text_analysis.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace agentstream::agents {

struct DocumentAnalyzerOptions {
    AgentInfo info{
        "document-analyzer-1", "Document Analyzer", "document_analyzer", {"document_analysis"}, 4};
    /// Directories a `file_path` must lie in (after resolving `..` and links); empty: any.
    /// Relative paths are read from the first root.
    std::vector<std::filesystem::path> roots;
    std::size_t max_bytes = 10 * 1024 * 1024;
    AnalysisOptions analysis;
};

class DocumentAnalyzerAgent : public Agent {
  public:
    explicit DocumentAnalyzerAgent(DocumentAnalyzerOptions options = {});
    const AgentInfo& info() const noexcept override { return _options.info; }
    TaskOutcome process(const Task& task, const TaskContext& context) override;

  private:
    DocumentAnalyzerOptions _options;
};

/// The analysis as JSON (the analyzer's result and document.analysis.complete's
/// analysis_results).
nlohmann::json to_json(const TextAnalysis& a);

/// A document's text from task_data `content`, or the file at `file_path` (within `roots`,
/// at most `max_bytes`); a non-retriable error when neither is usable.
std::variant<std::string, TaskError> read_document(const nlohmann::json& data,
                                                   const std::vector<std::filesystem::path>& roots,
                                                   std::size_t max_bytes);

struct QualityRules {
    std::size_t min_words = 50;
    std::size_t min_sentences = 3;
    std::size_t min_key_phrases = 3;
    /// Languages accepted; empty: any recognised language (not "unknown").
    std::vector<std::string> languages;
    /// A sentiment below this is a warning, not a failure.
    double min_sentiment = -0.5;
};

struct QualityAssuranceOptions {
    AgentInfo info{"qa-agent-1", "Quality Assurance", "quality_assurance", {"quality_check"}, 2};
    QualityRules rules;
    std::vector<std::filesystem::path> roots;
    std::size_t max_bytes = 10 * 1024 * 1024;
};

class QualityAssuranceAgent : public Agent {
  public:
    explicit QualityAssuranceAgent(QualityAssuranceOptions options = {});
    const AgentInfo& info() const noexcept override { return _options.info; }
    TaskOutcome process(const Task& task, const TaskContext& context) override;

  private:
    QualityAssuranceOptions _options;
};

struct BusinessIntelligenceOptions {
    AgentInfo info{
        "bi-agent-1", "Business Intelligence", "business_intelligence", {"business_insight"}, 2};
    /// A relative change (last third's mean over the first third's) of at least this, with a
    /// linear fit explaining at least min_r2 of the variance, is a trend.
    double min_change = 0.05;
    double min_r2 = 0.3;
    /// Robust z-score beyond which a point is an anomaly.
    double anomaly_threshold = 3.5;
};

class BusinessIntelligenceAgent : public Agent {
  public:
    explicit BusinessIntelligenceAgent(BusinessIntelligenceOptions options = {});
    const AgentInfo& info() const noexcept override { return _options.info; }
    TaskOutcome process(const Task& task, const TaskContext& context) override;

  private:
    BusinessIntelligenceOptions _options;
};

}  // namespace agentstream::agents
