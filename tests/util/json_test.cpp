// The floor's one JSON reader: located messages, documents that outlive their source, JSON-lines
// with Python's line breaks, blank lines by policy, and a torn last line only where allowed.
#include <gtest/gtest.h>

#include "test_util.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista {
namespace {

TEST(JsonNode, MessagesNameFileFieldExpectationAndValue) {
  const auto json = nlohmann::json::parse(R"({"model": {"merges": ["a b", 3], "dim": "two", "ok": null}})");
  const JsonNode root(json, "tok.json");
  expect_error_containing([&] { root.at("model").at("merges").at(1).as_string(); },
                          {"tok.json: field 'model.merges[1]': expected a string, got an integer 3"});
  expect_error_containing([&] { root.object("model").integer("dim"); },
                          {"tok.json: field 'model.dim': expected an integer, got a string \"two\""});
  expect_error_containing([&] { root.at("model").at("vocab"); }, {"tok.json: field 'model.vocab' is missing"});
  expect_error_containing([&] { root.at("model").at("merges").at(5); },
                          {"field 'model.merges'", "index 5 out of range"});
  expect_error_containing([&] { root.object("model").object("merges"); },
                          {"field 'model.merges': expected an object, got an array"});
  expect_error_containing([&] { JsonNode(json["model"]["merges"], "tok.json").expect_object(); },
                          {"tok.json: top level: expected an object"});
}

TEST(JsonNode, NullIsAbsentForHasButPresentForContains) {
  const auto json = nlohmann::json::parse(R"({"ok": null, "n": 4})");
  const JsonNode node(json, "c.json");
  EXPECT_FALSE(node.has("ok"));
  EXPECT_TRUE(node.contains("ok"));
  EXPECT_FALSE(node.find("ok").has_value());
  EXPECT_EQ(node.integer_or("ok", 7), 7);
  EXPECT_EQ(node.integer_or("n", 7), 4);
  EXPECT_EQ(node.string_or("missing", "x"), "x");
  EXPECT_FALSE(node.optional_string("ok").has_value());
}

TEST(JsonNode, IntegersAreNeverTruncatedAndTypesAreStrict) {
  const auto json = nlohmann::json::parse(R"({"half": 1.5, "big": 1e30, "neg": -1, "huge": 5000000000, "flag": true,
                                               "list": [1, 2, 3], "mixed": [1, "2"]})");
  const JsonNode node(json, "c.json");
  expect_error_containing([&] { node.integer("half"); }, {"field 'half'", "expected an integer", "1.5"});
  expect_error_containing([&] { node.integer("big"); }, {"field 'big'", "expected an integer"});
  expect_error_containing([&] { node.at("neg").as<uint32_t>(); },
                          {"field 'neg'", "value -1 is outside [0, 4294967295]"});
  expect_error_containing([&] { node.at("huge").as<int32_t>(); },
                          {"field 'huge'", "outside [-2147483648, 2147483647]"});
  EXPECT_EQ(node.at("huge").as<int64_t>(), 5000000000);
  EXPECT_EQ(node.at("neg").as<int64_t>(), -1);
  EXPECT_EQ(node.at("neg").as<int>(), -1);
  expect_error_containing([&] { node.number("flag"); }, {"field 'flag'", "expected a number, got a boolean true"});
  EXPECT_EQ(node.at("list").as<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  expect_error_containing([&] { node.at("mixed").as<std::vector<int>>(); },
                          {"field 'mixed[1]'", "expected an integer"});
  EXPECT_DOUBLE_EQ(node.number("half"), 1.5);
}

TEST(JsonNode, OwningNodeKeepsItsDocumentForItsChildren) {
  JsonNode child = [] {
    const JsonNode root = JsonNode::owning(nlohmann::json::parse(R"({"a": {"b": "kept"}})"), "x.json");
    return root.object("a");
  }();
  EXPECT_EQ(child.string("b"), "kept");
  EXPECT_EQ(child.location(), "x.json: field 'a'");
}

TEST(JsonFiles, JsonErrorsNameFileAndByte) {
  TempDir dir;
  write_file(dir.file("c.json"), "{\"a\": [1, 2,}");
  expect_error_containing([&] { read_json_file(dir.file("c.json")); }, {dir.file("c.json"), "invalid JSON at byte 13"});
  expect_error_containing([&] { read_json_file(dir.file("none.json")); }, {dir.file("none.json"), "cannot open"});
}

TEST(JsonFiles, JsonLinesSplitLikePythonAndKeepLineNumbers) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"n\": 1}\r\n\n{\"n\": 2}\r{\"n\": 3}");
  const auto lines = read_jsonl_file(dir.file("a.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].line, 1);
  EXPECT_EQ(lines[1].line, 3);  // the blank line 2 is counted, not read
  EXPECT_EQ(lines[2].line, 4);
  EXPECT_EQ(lines[1].where, dir.file("a.jsonl") + ":3");
  EXPECT_EQ(lines[1].text, "{\"n\": 2}");
  EXPECT_EQ(lines[2].value["n"], 3);
  expect_error_containing(
      [&] {
        read_jsonl_file(dir.file("a.jsonl"), JsonlOptions{false, false});
      },
      {dir.file("a.jsonl") + ":2", "blank"});
}

TEST(JsonFiles, OnlyATornLastLineIsDroppedAndOnlyWhenAsked) {
  TempDir dir;
  write_file(dir.file("m.jsonl"), "{\"step\": 1}\n{\"step\": 2}\n{\"st");
  expect_error_containing([&] { read_jsonl_file(dir.file("m.jsonl")); }, {dir.file("m.jsonl") + ":3", "invalid JSON"});
  const JsonlOptions tolerant{true, true};
  EXPECT_EQ(read_jsonl_file(dir.file("m.jsonl"), tolerant).size(), 2u);
  write_file(dir.file("m.jsonl"), "{\"step\": 1}\n{\"st\n{\"step\": 3}\n");
  expect_error_containing([&] { read_jsonl_file(dir.file("m.jsonl"), tolerant); }, {dir.file("m.jsonl") + ":2"});
}

}  // namespace
}  // namespace vista
