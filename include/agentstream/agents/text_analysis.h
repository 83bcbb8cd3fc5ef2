// The document analyzer's text analysis, computed from the text itself: counts, a language
// guess, key phrases, an extractive summary, lexicon sentiment and reading time. Deterministic
// and dependency-free.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::agents {

struct KeyPhrase {
    std::string phrase;
    double score = 0;
};

struct TextAnalysis {
    std::size_t characters = 0;  ///< Unicode code points
    std::size_t words = 0;
    std::size_t sentences = 0;
    std::size_t paragraphs = 0;
    /// ISO 639-1 code of the most likely language (en, de, fr, es, it, pt, nl), or "unknown"
    /// for text too short or unlike any of them; confidence in [0, 1].
    std::string language = "unknown";
    double language_confidence = 0;
    std::vector<KeyPhrase> key_phrases;  ///< best first
    std::vector<std::string> summary;    ///< sentences, in the text's order
    /// Lexicon sentiment in [-1, 1] (negations flip the next word), and its label.
    double sentiment = 0;
    std::string sentiment_label = "neutral";  ///< positive, negative, neutral
    double reading_time_minutes = 0;          ///< at 238 words per minute
};

struct AnalysisOptions {
    std::size_t key_phrases = 5;
    std::size_t summary_sentences = 3;
};

TextAnalysis analyze_text(std::string_view text, const AnalysisOptions& options = {});

}  // namespace agentstream::agents
