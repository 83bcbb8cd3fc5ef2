#include <agentstream/agents/text_analysis.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace agentstream::agents {
namespace {

// The most frequent function words of each language (short lists: they are what separates
// languages in running text).
struct Language {
    const char* code;
    std::unordered_set<std::string_view> words;
};

const std::vector<Language>& languages() {
    static const std::vector<Language> all = {
        {"en", {"the",  "and", "of",   "to",   "in",    "is",  "that", "it",    "for", "was",
                "on",   "are", "with", "as",   "this",  "be",  "by",   "not",   "or",  "have",
                "from", "but", "an",   "they", "which", "you", "were", "their", "has", "will"}},
        {"de", {"der",  "die", "und", "in",     "den", "von", "zu",    "das",  "mit",  "sich",
                "des",  "auf", "für", "ist",    "im",  "dem", "nicht", "ein",  "eine", "als",
                "auch", "es",  "an",  "werden", "aus", "er",  "hat",   "dass", "sie",  "nach"}},
        {"fr", {"de",  "la",  "le",   "et",  "les",  "des",  "en",   "un",   "du",   "une",
                "que", "est", "pour", "qui", "dans", "par",  "plus", "pas",  "au",   "sur",
                "ne",  "se",  "ce",   "il",  "sont", "avec", "aux",  "elle", "nous", "vous"}},
        {"es", {"de",   "la",  "que",  "el",  "en",  "y",  "los",  "se", "del", "las",
                "un",   "por", "con",  "no",  "una", "su", "para", "es", "al",  "lo",
                "como", "más", "pero", "sus", "le",  "ha", "me",   "si", "sin", "sobre"}},
        {"it", {"di",  "e",    "il",    "la",  "che",   "in",     "per",  "un",  "del", "non",
                "una", "sono", "della", "con", "si",    "le",     "da",   "al",  "lo",  "dei",
                "gli", "come", "più",   "ma",  "anche", "questo", "alla", "nel", "ha",  "delle"}},
        {"pt", {"de",  "a",    "o",   "que", "e",   "do",  "da", "em",  "um",   "para",
                "com", "não",  "uma", "os",  "no",  "se",  "na", "por", "mais", "as",
                "dos", "como", "mas", "ao",  "ele", "das", "à",  "seu", "sua",  "ou"}},
        {"nl", {"de",   "en",   "van",  "het",   "een", "in",   "is",   "dat", "op",  "te",
                "zijn", "met",  "voor", "niet",  "aan", "er",   "die",  "ook", "als", "bij",
                "door", "maar", "om",   "wordt", "nog", "werd", "naar", "hij", "ze",  "worden"}},
    };
    return all;
}

const std::unordered_set<std::string_view>& positive_words() {
    static const std::unordered_set<std::string_view> w = {
        "good",      "great",       "excellent",   "positive",  "success",     "successful",
        "improve",   "improved",    "improvement", "growth",    "gain",        "gains",
        "profit",    "profitable",  "strong",      "stronger",  "best",        "better",
        "benefit",   "benefits",    "efficient",   "effective", "happy",       "pleased",
        "win",       "wins",        "record",      "increase",  "increased",   "robust",
        "reliable",  "satisfied",   "love",        "excited",   "opportunity", "opportunities",
        "advantage", "outstanding", "up",          "grew",      "grow",        "rose",
        "won",       "strongly",    "exceeded",    "ahead",     "record-high"};
    return w;
}

const std::unordered_set<std::string_view>& negative_words() {
    static const std::unordered_set<std::string_view> w = {
        "bad",          "poor",    "negative", "fail",      "failed",     "failure",  "loss",
        "losses",       "decline", "declined", "decrease",  "decreased",  "weak",     "weaker",
        "worse",        "worst",   "risk",     "risks",     "problem",    "problems", "issue",
        "issues",       "delay",   "delayed",  "error",     "errors",     "broken",   "unhappy",
        "disappointed", "concern", "concerns", "crisis",    "drop",       "dropped",  "down",
        "threat",       "slow",    "costly",   "complaint", "complaints", "outage"};
    return w;
}

const std::unordered_set<std::string_view>& negations() {
    static const std::unordered_set<std::string_view> w = {"not",    "no",    "never",   "without",
                                                           "hardly", "nor",   "cannot",  "isn't",
                                                           "wasn't", "don't", "doesn't", "didn't"};
    return w;
}

// Lower-case ASCII letters; other bytes (UTF-8 letters) are kept as they are.
std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool word_byte(unsigned char c) {
    return std::isalnum(c) || c >= 0x80 || c == '\'' || c == '-';
}

// Words of a stretch of text, lower-cased.
std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && !word_byte(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        auto start = i;
        while (i < text.size() && word_byte(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        if (i > start) {
            auto w = lower(text.substr(start, i - start));
            while (!w.empty() && (w.back() == '\'' || w.back() == '-')) {
                w.pop_back();
            }
            while (!w.empty() && (w.front() == '\'' || w.front() == '-')) {
                w.erase(w.begin());
            }
            if (!w.empty()) {
                out.push_back(std::move(w));
            }
        }
    }
    return out;
}

// Sentences: split after . ! ? followed by whitespace (or the end), and at blank lines.
std::vector<std::string_view> sentences_of(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    auto push = [&](std::size_t end) {
        auto s = text.substr(start, end - start);
        auto a = s.find_first_not_of(" \t\r\n");
        if (a != std::string_view::npos) {
            auto b = s.find_last_not_of(" \t\r\n");
            out.push_back(s.substr(a, b - a + 1));
        }
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool end_mark =
            (c == '.' || c == '!' || c == '?') &&
            (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])));
        bool blank_line = c == '\n' && i + 1 < text.size() && text[i + 1] == '\n';
        if (end_mark || blank_line) {
            push(i + 1);
            start = i + 1;
        }
    }
    push(text.size());
    return out;
}

bool is_stopword(const std::string& w) {
    for (const auto& l : languages()) {
        if (l.words.contains(w)) {
            return true;
        }
    }
    return false;
}

}  // namespace

TextAnalysis analyze_text(std::string_view text, const AnalysisOptions& options) {
    TextAnalysis a;
    for (unsigned char c : text) {
        a.characters += (c & 0xC0) != 0x80;  // count code points, not bytes
    }
    auto words = words_of(text);
    a.words = words.size();
    auto sentences = sentences_of(text);
    a.sentences = sentences.size();
    {
        std::size_t paragraphs = 0;
        bool in_paragraph = false;
        std::size_t i = 0;
        while (i < text.size()) {
            auto nl = text.find('\n', i);
            auto line =
                text.substr(i, nl == std::string_view::npos ? std::string_view::npos : nl - i);
            bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
            if (!blank && !in_paragraph) {
                ++paragraphs;
            }
            in_paragraph = !blank;
            if (nl == std::string_view::npos) {
                break;
            }
            i = nl + 1;
        }
        a.paragraphs = paragraphs;
    }
    a.reading_time_minutes = static_cast<double>(a.words) / 238.0;

    // Language: the share of words that are each language's function words.
    if (a.words >= 5) {
        std::vector<std::size_t> hits(languages().size());
        for (const auto& w : words) {
            for (std::size_t l = 0; l < languages().size(); ++l) {
                hits[l] += languages()[l].words.contains(w);
            }
        }
        auto best = std::max_element(hits.begin(), hits.end()) - hits.begin();
        auto sorted = hits;
        std::sort(sorted.rbegin(), sorted.rend());
        double share = static_cast<double>(hits[static_cast<std::size_t>(best)]) /
                       static_cast<double>(a.words);
        if (share >= 0.05 && sorted[0] > sorted[1]) {
            a.language = languages()[static_cast<std::size_t>(best)].code;
            // Clear margin over the runner-up, and enough function words, give confidence.
            double margin =
                static_cast<double>(sorted[0] - sorted[1]) / static_cast<double>(sorted[0]);
            a.language_confidence = std::min(1.0, margin * std::min(1.0, share / 0.25));
        }
    }

    // Sentiment: lexicon hits, a negation within two words flips the next hit.
    {
        int score = 0;
        int hits = 0;
        int negate_for = 0;
        for (const auto& w : words) {
            if (negations().contains(w)) {
                negate_for = 2;
                continue;
            }
            int s = positive_words().contains(w) ? 1 : negative_words().contains(w) ? -1 : 0;
            if (s != 0) {
                score += negate_for > 0 ? -s : s;
                ++hits;
                negate_for = 0;
            } else if (negate_for > 0) {
                --negate_for;
            }
        }
        if (hits > 0) {
            // Damped by the text's length, so one word in a long text is not decisive.
            a.sentiment =
                static_cast<double>(score) /
                std::sqrt(static_cast<double>(hits) + static_cast<double>(a.words) / 20.0);
            a.sentiment = std::clamp(a.sentiment, -1.0, 1.0);
        }
        a.sentiment_label = a.sentiment > 0.1    ? "positive"
                            : a.sentiment < -0.1 ? "negative"
                                                 : "neutral";
    }

    // Key phrases (RAKE): runs of content words between stopwords and punctuation, scored by
    // the sum of their words' degree / frequency.
    {
        std::vector<std::vector<std::string>> candidates;
        for (auto s : sentences) {
            // Split at punctuation inside the sentence too.
            std::size_t i = 0;
            while (i <= s.size()) {
                auto j = s.find_first_of(",;:()\"[]", i);
                auto part =
                    s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
                std::vector<std::string> run;
                for (auto& w : words_of(part)) {
                    bool content = !is_stopword(w) && w.size() > 2 &&
                                   !std::all_of(w.begin(), w.end(), [](char c) {
                                       return std::isdigit(static_cast<unsigned char>(c));
                                   });
                    if (content) {
                        run.push_back(std::move(w));
                    } else if (!run.empty()) {
                        candidates.push_back(std::move(run));
                        run.clear();
                    }
                }
                if (!run.empty()) {
                    candidates.push_back(std::move(run));
                }
                if (j == std::string_view::npos) {
                    break;
                }
                i = j + 1;
            }
        }
        std::unordered_map<std::string, double> frequency;
        std::unordered_map<std::string, double> degree;
        for (const auto& c : candidates) {
            if (c.size() > 4) {
                continue;  // long runs are sentences, not phrases
            }
            for (const auto& w : c) {
                frequency[w] += 1;
                degree[w] += static_cast<double>(c.size());
            }
        }
        std::map<std::string, double> phrases;
        std::map<std::string, int> seen;
        for (const auto& c : candidates) {
            if (c.size() > 4) {
                continue;
            }
            std::string phrase;
            double score = 0;
            for (const auto& w : c) {
                phrase += (phrase.empty() ? "" : " ") + w;
                score += degree[w] / frequency[w];
            }
            phrases[phrase] = score;
            ++seen[phrase];
        }
        std::vector<KeyPhrase> ranked;
        for (const auto& [p, s] : phrases) {
            // A phrase that recurs matters more than a one-off of the same score.
            ranked.push_back({p, s * (1.0 + std::log(static_cast<double>(seen[p])))});
        }
        std::stable_sort(ranked.begin(), ranked.end(),
                         [](const auto& x, const auto& y) { return x.score > y.score; });
        if (ranked.size() > options.key_phrases) {
            ranked.resize(options.key_phrases);
        }
        a.key_phrases = std::move(ranked);
    }

    // Summary: the sentences whose content words are most frequent in the whole text.
    {
        std::unordered_map<std::string, double> tf;
        for (const auto& w : words) {
            if (!is_stopword(w) && w.size() > 2) {
                tf[w] += 1;
            }
        }
        std::vector<std::pair<double, std::size_t>> scored;
        for (std::size_t i = 0; i < sentences.size(); ++i) {
            auto ws = words_of(sentences[i]);
            double s = 0;
            std::size_t content = 0;
            for (const auto& w : ws) {
                if (auto it = tf.find(w); it != tf.end()) {
                    s += it->second;
                    ++content;
                }
            }
            if (content > 0) {
                scored.emplace_back(s / std::sqrt(static_cast<double>(ws.size())), i);
            }
        }
        std::stable_sort(scored.begin(), scored.end(),
                         [](const auto& x, const auto& y) { return x.first > y.first; });
        std::vector<std::size_t> chosen;
        for (std::size_t i = 0; i < scored.size() && i < options.summary_sentences; ++i) {
            chosen.push_back(scored[i].second);
        }
        std::sort(chosen.begin(), chosen.end());
        for (auto i : chosen) {
            a.summary.emplace_back(sentences[i]);
        }
    }
    return a;
}

}  // namespace agentstream::agents
