#include <agentstream/config/config.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace agentstream::config {
namespace {

using ::testing::HasSubstr;

// Parses `yaml` expecting a ConfigError; returns it.
ConfigError error_of(const std::string& yaml) {
    try {
        Config::parse(yaml, "pipeline.yaml");
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted:\n" << yaml;
    return ConfigError("", 0, 0, "");
}

TEST(Config, EmptyFileMeansDefaults) {
    auto config = Config::parse("", "p.yaml");
    EXPECT_EQ(config.string("logging.level"), "info");
    EXPECT_EQ(config.string("logging.format"), "text");
    EXPECT_FALSE(config.is_set("logging.level"));
    EXPECT_EQ(config.source(), "p.yaml");
}

TEST(Config, ReadsSetValues) {
    auto config = Config::parse("logging:\n  level: warn,kafka=debug\n  format: json\n");
    EXPECT_EQ(config.string("logging.level"), "warn,kafka=debug");
    EXPECT_EQ(config.string("logging.format"), "json");
    EXPECT_TRUE(config.is_set("logging.format"));
}

TEST(Config, UnknownKeyNamesFileLineAndTheKnownKeys) {
    auto e = error_of("logging:\n  level: info\n  formt: json\n");
    EXPECT_EQ(e.file(), "pipeline.yaml");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 3);
    EXPECT_THAT(e.what(), HasSubstr("pipeline.yaml:3:3: unknown key 'logging.formt'"));
    EXPECT_THAT(e.what(), HasSubstr("expected one of: format, level"));
    auto top = error_of("colour: red\n");
    EXPECT_THAT(top.what(), HasSubstr("pipeline.yaml:1:1: unknown key 'colour'"));
}

TEST(Config, BadValuesSayWhatWasExpected) {
    EXPECT_THAT(
        error_of("logging:\n  format: xml\n").what(),
        HasSubstr("pipeline.yaml:2:11: logging.format: expected one of text, json; got 'xml'"));
    EXPECT_THAT(error_of("logging:\n  level: loud\n").what(),
                HasSubstr("pipeline.yaml:2:10: logging.level: unknown log level 'loud'"));
    EXPECT_THAT(error_of("logging:\n  level: [info]\n").what(),
                HasSubstr("logging.level: expected a log level spec, got a list"));
    EXPECT_THAT(error_of("logging: 3\n").what(),
                HasSubstr("pipeline.yaml:1:10: logging: expected a mapping"));
    EXPECT_THAT(error_of("- a\n- b\n").what(), HasSubstr("must be a YAML mapping"));
}

TEST(Config, YamlSyntaxErrorsCarryTheirLine) {
    auto e = error_of("logging:\n  level: info\n  format: [json\n");
    EXPECT_GT(e.line(), 0);
    EXPECT_THAT(e.what(), HasSubstr("invalid YAML"));
}

TEST(Config, LoadReadsFilesAndNamesUnreadableOnes) {
    auto path = std::filesystem::temp_directory_path() / "agentstream_config_test.yaml";
    std::ofstream(path) << "logging:\n  format: json\n";
    EXPECT_EQ(Config::load(path).string("logging.format"), "json");
    std::filesystem::remove(path);
    try {
        Config::load(path);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot read the pipeline file"));
        EXPECT_THAT(e.what(), HasSubstr(path.string()));
    }
}

TEST(Config, AccessorsRejectKeysOutsideTheTable) {
    Config config;
    EXPECT_THROW(config.string("logging.colour"), std::invalid_argument);
    EXPECT_THROW(config.integer("logging.level"), std::invalid_argument);
}

TEST(Config, EveryKeyHasADescriptionAndAValidDefault) {
    for (const auto& key : keys()) {
        EXPECT_FALSE(key.description.empty()) << key.path;
        if (!key.default_value.empty() && key.type != ValueType::PropertyMap) {
            // The default itself must pass the key's validation.
            std::string path(key.path);
            auto dot = path.find('.');
            std::string yaml = path.substr(0, dot) + ":\n  " + path.substr(dot + 1) + ": " +
                               std::string(key.default_value) + "\n";
            EXPECT_NO_THROW(Config::parse(yaml)) << yaml;
        }
    }
}

}  // namespace
}  // namespace agentstream::config
