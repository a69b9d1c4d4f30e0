// The chat templates written into exports render vista's conversation templates. The strings are
// checked piece by piece here; rendering them with Jinja is the export test's job.
#include <filesystem>

#include "io/model_companions.h"
#include "test_util.h"

using namespace vista;

TEST(ChatTemplate, VicunaAndPhiCarryTheSystemPromptRolesAndTerminator) {
  const auto vicuna = io::chat_template_for("vicuna_v1");
  for (const char* needle : {"A chat between a curious user and an artificial intelligence assistant.", "'USER: '",
                             "'ASSISTANT: '", "'</s>'", "'<image>\\n'", "{{ 'ASSISTANT:' }}"})
    EXPECT_NE(vicuna.find(needle), std::string::npos) << needle;
  const auto phi = io::chat_template_for("phi");
  EXPECT_NE(phi.find("'<|endoftext|>'"), std::string::npos);
  EXPECT_EQ(phi.find("'</s>'"), std::string::npos);
  const auto plain = io::chat_template_for("plain");
  EXPECT_EQ(plain.find("USER"), std::string::npos);
  EXPECT_NE(plain.find("{{ '\\n' }}"), std::string::npos);
  expect_error_containing([] { io::chat_template_for("llama3"); }, {"llama3", "vicuna_v1"});
}

// An export without its tokenizer or processor is an error naming what is missing and the flag to pass.
TEST(ModelCompanions, MissingSourcesAreNamedErrors) {
  TempDir dir;
  write_file(dir.file("config.json"), R"({"model_type": "llava_llama", "bos_token_id": 1})");
  expect_error_containing([&] { io::write_model_companions(dir.path(), {"", "", "vicuna_v1"}); },
                          {"no tokenizer.json", "--tokenizer"});
  std::filesystem::create_directories(dir.file("tok"));
  write_file(dir.file("tok/tokenizer.json"), R"({"model": {"vocab": {}}, "added_tokens": []})");
  expect_error_containing([&] { io::write_model_companions(dir.path(), {dir.file("tok"), dir.file("nope.json"), "vicuna_v1"}); },
                          {"preprocessor_config.json", "nope.json", "not found"});
  expect_error_containing([&] { io::write_model_companions(dir.path(), {dir.file("tok"), dir.file("nope.json"), "chatml"}); },
                          {"chatml"});
}
