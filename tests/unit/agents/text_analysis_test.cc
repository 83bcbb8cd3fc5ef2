// The analyzer's text analysis on real text: counts, language, key phrases, summary,
// sentiment with negation, reading time, and edge cases (empty, unicode).
#include <agentstream/agents/text_analysis.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentstream::agents {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;

constexpr std::string_view REPORT =
    "Quarterly revenue grew strongly in the third quarter. Cloud revenue rose 18 percent, and "
    "the cloud platform won three large customers.\n\n"
    "Operating costs were flat. The support team reduced response times, and customer "
    "satisfaction improved.\n\n"
    "Risks remain: a delayed data centre in Frankfurt may slow cloud growth next quarter.";

TEST(TextAnalysis, CountsAndReadingTime) {
    auto a = analyze_text(REPORT);
    EXPECT_EQ(a.sentences, 5U);
    EXPECT_EQ(a.paragraphs, 3U);
    EXPECT_EQ(a.words, 49U);
    EXPECT_NEAR(a.reading_time_minutes, 49.0 / 238.0, 1e-9);
    EXPECT_EQ(analyze_text("naïve café").characters, 10U);  // code points, not bytes
}

TEST(TextAnalysis, GuessesTheLanguage) {
    EXPECT_EQ(analyze_text(REPORT).language, "en");
    EXPECT_EQ(analyze_text("Der Bericht zeigt, dass die Umsätze im dritten Quartal gestiegen sind "
                           "und die Kosten nicht gewachsen sind.")
                  .language,
              "de");
    EXPECT_EQ(analyze_text("Le rapport montre que les ventes sont en hausse et que les coûts ne "
                           "sont pas en hausse pour le trimestre.")
                  .language,
              "fr");
    EXPECT_EQ(analyze_text("El informe muestra que las ventas del trimestre crecieron y que los "
                           "costes no subieron por la demanda.")
                  .language,
              "es");
    auto tiny = analyze_text("Hello");
    EXPECT_EQ(tiny.language, "unknown");
    EXPECT_EQ(tiny.language_confidence, 0);
}

TEST(TextAnalysis, KeyPhrasesComeFromTheText) {
    auto a = analyze_text(REPORT);
    ASSERT_FALSE(a.key_phrases.empty());
    EXPECT_LE(a.key_phrases.size(), 5U);
    // Multi-word content runs score highest; every phrase is in the text.
    for (const auto& k : a.key_phrases) {
        EXPECT_GT(k.score, 0);
        auto first = k.phrase.substr(0, k.phrase.find(' '));
        std::string lowered(REPORT);
        for (auto& c : lowered) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        EXPECT_THAT(lowered, HasSubstr(first));
    }
    EXPECT_EQ(a.key_phrases[0].phrase, "quarterly revenue grew strongly");
    EXPECT_THAT(a.key_phrases, Contains(Field(&KeyPhrase::phrase, "delayed data centre")));
}

TEST(TextAnalysis, SummaryIsTheTextsOwnSentencesInOrder) {
    auto a = analyze_text(REPORT, {5, 2});
    ASSERT_EQ(a.summary.size(), 2U);
    auto p0 = REPORT.find(a.summary[0]);
    auto p1 = REPORT.find(a.summary[1]);
    ASSERT_NE(p0, std::string_view::npos);
    ASSERT_NE(p1, std::string_view::npos);
    EXPECT_LT(p0, p1);
    EXPECT_THAT(a.summary[0] + a.summary[1], HasSubstr("revenue"));  // the report's theme
}

TEST(TextAnalysis, SentimentWithNegation) {
    EXPECT_EQ(analyze_text("Great results, strong growth and excellent profit.").sentiment_label,
              "positive");
    EXPECT_EQ(analyze_text("A poor quarter: losses, delays and a costly outage.").sentiment_label,
              "negative");
    auto flipped = analyze_text("The launch was not successful and not good.");
    EXPECT_EQ(flipped.sentiment_label, "negative");
    EXPECT_EQ(analyze_text("The meeting is on Tuesday at the office.").sentiment_label, "neutral");
    // The report: growth words outweigh its risks.
    EXPECT_EQ(analyze_text(REPORT).sentiment_label, "positive");
}

TEST(TextAnalysis, EmptyTextIsEmpty) {
    auto a = analyze_text("");
    EXPECT_EQ(a.words, 0U);
    EXPECT_EQ(a.sentences, 0U);
    EXPECT_TRUE(a.key_phrases.empty());
    EXPECT_TRUE(a.summary.empty());
    EXPECT_EQ(a.sentiment_label, "neutral");
}

}  // namespace
}  // namespace agentstream::agents
