// The logging facade: level specs, per-module levels, the JSON format.
#include <gtest/gtest.h>

#include "internal/log.h"

namespace agentstream {
namespace {

TEST(Logging, ParsesDefaultAndModuleLevels) {
    auto spec = parse_log_spec("warn, kafka=debug,router = trace");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->default_level, LogLevel::Warn);
    EXPECT_EQ(spec->module_levels.at("kafka"), LogLevel::Debug);
    EXPECT_EQ(spec->module_levels.at("router"), LogLevel::Trace);
}

TEST(Logging, RejectsUnknownLevelsWithAMessage) {
    std::string error;
    EXPECT_FALSE(parse_log_spec("loud", &error));
    EXPECT_NE(error.find("unknown log level 'loud'"), std::string::npos) << error;
    EXPECT_FALSE(parse_log_spec("info,warn", &error));
    EXPECT_FALSE(parse_log_spec("=debug", &error));
}

TEST(Logging, AppliesLevelsToExistingAndNewModuleLoggers) {
    auto before = logger("test_existing");
    configure_logging(*parse_log_spec("error,test_existing=debug,test_new=trace"), LogFormat::Text);
    EXPECT_EQ(before->level(), spdlog::level::debug);
    EXPECT_EQ(logger("test_new")->level(), spdlog::level::trace);
    EXPECT_EQ(logger("test_other")->level(), spdlog::level::err);
    EXPECT_EQ(logger("test_new").get(), logger("test_new").get());
    EXPECT_EQ(log_level("test_new"), LogLevel::Trace);
    EXPECT_EQ(log_level("anything_else"), LogLevel::Error);
    configure_logging(LogSpec{}, LogFormat::Text);
}

TEST(Logging, JsonFormatWritesOneEscapedObjectPerLine) {
    configure_logging(LogSpec{}, LogFormat::Json);
    testing::internal::CaptureStderr();
    logger("json_test")->info("quote \" and newline \n done");
    auto out = testing::internal::GetCapturedStderr();
    configure_logging(LogSpec{}, LogFormat::Text);
    EXPECT_NE(out.find(R"("level":"info")"), std::string::npos) << out;
    EXPECT_NE(out.find(R"("logger":"json_test")"), std::string::npos) << out;
    EXPECT_NE(out.find(R"("message":"quote \" and newline \n done")"), std::string::npos) << out;
    EXPECT_EQ(out.back(), '\n');
    EXPECT_EQ(out.find('\n'), out.size() - 1);
}

TEST(Logging, ParsesFormats) {
    EXPECT_EQ(parse_log_format("json"), LogFormat::Json);
    EXPECT_EQ(parse_log_format("text"), LogFormat::Text);
    EXPECT_FALSE(parse_log_format("xml"));
}

}  // namespace
}  // namespace agentstream

namespace agentstream {
namespace {

TEST(Logging, CommandLineBeatsEnvironmentBeatsFile) {
    EXPECT_EQ(choose_log_spec("debug", "warn", "error"), "debug");
    EXPECT_EQ(choose_log_spec("", "warn", "error"), "warn");
    EXPECT_EQ(choose_log_spec("", "", "error"), "error");
    EXPECT_EQ(choose_log_spec("", nullptr, "error"), "error");
}

}  // namespace
}  // namespace agentstream
