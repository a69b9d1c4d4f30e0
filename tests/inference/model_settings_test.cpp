// A saved model carries its conversation template and aspect mode; flags override; anything
// unknown is an error naming where it came from.
#include <gtest/gtest.h>

#include "inference/model_settings.h"
#include "util/json_file.h"
#include "io/model_companions.h"
#include "test_util.h"

using namespace vista;

namespace {

io::LlavaConfig config_of(const std::string& family, const std::string& aspect) {
  io::LlavaConfig c;
  c.text.family = family;
  c.mm.image_aspect_ratio = aspect;
  return c;
}

void write_chat_template(const std::string& dir, const std::string& chat_template) {
  write_json_file(dir + "/tokenizer_config.json", {{"chat_template", chat_template}, {"model_max_length", 2048}});
}

}  // namespace

TEST(ModelSettings, TheExportedChatTemplateNamesTheTemplate) {
  for (const std::string name : {"vicuna_v1", "phi"}) {
    TempDir dir;
    write_chat_template(dir.path(), io::chat_template_for(name));
    // A llama decoder with the phi template: the folder's word counts, not the family's.
    const auto s = inference::resolve_model_settings(dir.path(), "", config_of("llama", "square"), "", "");
    EXPECT_EQ(s.tmpl.name, name);
    EXPECT_EQ(s.template_source, dir.file("tokenizer_config.json"));
    EXPECT_EQ(s.aspect, image::AspectMode::kSquare);
    EXPECT_EQ(s.aspect_name, "square");
  }
}

TEST(ModelSettings, FlagsOverrideAndTheTokenizerFolderIsTheFallback) {
  TempDir model, tokenizer;
  write_chat_template(tokenizer.path(), io::chat_template_for("phi"));
  auto s = inference::resolve_model_settings(model.path(), tokenizer.path(), config_of("llama", "pad"), "", "");
  EXPECT_EQ(s.tmpl.name, "phi");
  s = inference::resolve_model_settings(model.path(), tokenizer.path(), config_of("llama", "pad"), "vicuna_v1",
                                        "square");
  EXPECT_EQ(s.tmpl.name, "vicuna_v1");
  EXPECT_EQ(s.template_source, "--template");
  EXPECT_EQ(s.aspect, image::AspectMode::kSquare);
}

TEST(ModelSettings, AnUpstreamFolderGetsItsFamilysTemplateAndSaysSo) {
  TempDir dir;
  write_json_file(dir.file("tokenizer_config.json"), {{"model_max_length", 2048}});
  const auto phi = inference::resolve_model_settings(dir.path(), "", config_of("phi", "pad"), "", "");
  EXPECT_EQ(phi.tmpl.name, "phi");
  EXPECT_NE(phi.template_source.find("phi decoder"), std::string::npos) << phi.template_source;
  EXPECT_EQ(inference::resolve_model_settings(dir.path(), "", config_of("llama", "pad"), "", "").tmpl.name,
            "vicuna_v1");
}

TEST(ModelSettings, UnknownValuesAreErrorsNamingTheirSource) {
  TempDir dir;
  write_chat_template(dir.path(), "{{ messages }}");
  expect_error_containing([&] { inference::resolve_model_settings(dir.path(), "", config_of("llama", "pad"), "", ""); },
                          {dir.file("tokenizer_config.json"), "chat_template", "--template"});
  TempDir plain;
  expect_error_containing(
      [&] { inference::resolve_model_settings(plain.path(), "", config_of("llama", "anyres"), "", ""); },
      {"config.json", "image_aspect_ratio", "anyres", "pad or square"});
  expect_error_containing(
      [&] { inference::resolve_model_settings(plain.path(), "", config_of("llama", "pad"), "", "wide"); },
      {"--aspect", "wide"});
  expect_error_containing(
      [&] { inference::resolve_model_settings(plain.path(), "", config_of("llama", "pad"), "chatml", ""); },
      {"chatml"});
}
