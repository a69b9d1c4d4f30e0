// MME against metrics_v1/mme (the official eval_tool calculation.py stdout and metric dicts).
#include <gtest/gtest.h>

#include <map>

#include "eval/metrics/mme.h"
#include "eval/metrics/python_text.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;
using testing::fixture_expected;
using testing::metrics_dir;

TEST(Mme, ParseRules) {
  EXPECT_EQ(mme_parse_prediction("yes"), "yes");
  EXPECT_EQ(mme_parse_prediction("No"), "no");
  EXPECT_EQ(mme_parse_prediction("  yes\n"), "other");
  EXPECT_EQ(mme_parse_prediction(" yes\n"), "yes");
  EXPECT_EQ(mme_parse_prediction("snow\n"), "no");
  EXPECT_EQ(mme_parse_prediction("noyes"), "no");
  EXPECT_EQ(mme_parse_prediction("yesno"), "yes");
  EXPECT_EQ(mme_parse_prediction("not sure"), "no");
  EXPECT_EQ(mme_parse_prediction("the answer is yes"), "other");
  EXPECT_EQ(mme_parse_prediction(""), "other");
  EXPECT_EQ(mme_parse_prediction("yes\n"), "yes");  // not exactly "yes", but the prefix holds it
}

TEST(Mme, WholeRunMatchesTheOfficialTool) {
  const auto expected = fixture_expected("mme");
  const MmeResult r = mme_evaluate_dir(metrics_dir("mme") + "/results");
  EXPECT_EQ(r.stdout_text, expected.at("stdout").get<std::string>());
  EXPECT_BITS_EQ(expected.at("perception_total").get<double>(), r.perception_total);
  EXPECT_BITS_EQ(expected.at("cognition_total").get<double>(), r.cognition_total);
  EXPECT_EQ(py::float_repr(r.perception_total), expected.at("perception_total_printed").get<std::string>());
  EXPECT_EQ(py::float_repr(r.cognition_total), expected.at("cognition_total_printed").get<std::string>());
  std::map<std::string, const MmeTaskResult*> tasks;
  for (const auto& t : r.perception) tasks[t.task] = &t;
  for (const auto& t : r.cognition) tasks[t.task] = &t;
  ASSERT_EQ(tasks.size(), expected.at("tasks").size());
  for (const auto& [name, e] : expected.at("tasks").items()) {
    SCOPED_TRACE(name);
    const auto& t = *tasks.at(name);
    EXPECT_BITS_EQ(e.at("score").get<double>(), t.score);
    EXPECT_EQ(py::float_repr(t.score), e.at("score_printed").get<std::string>());
    EXPECT_BITS_EQ(e.at("acc").get<double>(), t.acc);
    EXPECT_BITS_EQ(e.at("acc_plus").get<double>(), t.acc_plus);
    EXPECT_BITS_EQ(e.at("precision").get<double>(), t.precision);
    EXPECT_BITS_EQ(e.at("recall").get<double>(), t.recall);
    EXPECT_EQ(t.tp, e.at("TP").get<int64_t>());
    EXPECT_EQ(t.fn, e.at("FN").get<int64_t>());
    EXPECT_EQ(t.tn, e.at("TN").get<int64_t>());
    EXPECT_EQ(t.fp, e.at("FP").get<int64_t>());
    EXPECT_EQ(t.other_num, e.at("other_num").get<int64_t>());
    EXPECT_EQ(t.questions, e.at("questions").get<int64_t>());
    EXPECT_EQ(t.images, e.at("images").get<int64_t>());
  }
}

TEST(Mme, EveryLine) {
  std::map<std::string, std::vector<MmeLine>> files;
  std::map<std::string, MmeTaskResult> scored;
  const auto cases = fixture_cases("mme");
  ASSERT_EQ(cases.size(), 166u);
  for (const auto& c : cases) {
    const std::string task = c.at("task");
    if (!files.count(task)) {
      const std::string path = metrics_dir("mme") + "/results/" + task + ".txt";
      files[task] = mme_read_task_file(path);
      scored[task] = mme_score_task(task, files[task], path);
    }
    const auto i = c.at("line").get<size_t>();
    ASSERT_LT(i, files[task].size());
    EXPECT_EQ(files[task][i].image, c.at("image").get<std::string>());
    EXPECT_EQ(files[task][i].gt, c.at("gt").get<std::string>());
    EXPECT_EQ(files[task][i].pred_field, c.at("pred_field").get<std::string>()) << c.dump();
    EXPECT_EQ(mme_parse_prediction(files[task][i].pred_field), c.at("pred_label").get<std::string>()) << c.dump();
    EXPECT_EQ(scored[task].pred_labels[i], c.at("pred_label").get<std::string>());
    EXPECT_EQ(scored[task].gt_labels[i], c.at("gt_label").get<std::string>());
  }
}

TEST(Mme, BrokenFilesAreRefusedWithFileAndLine) {
  TempDir dir;
  write_file(dir.file("t.txt"), "a.jpg\tQ?\tYes\tyes\na.jpg\tQ?\tNo\tno\tEXTRA\n");
  expect_error_containing([&] { mme_read_task_file(dir.file("t.txt")); }, {"t.txt:2", "4 tab-separated"});
  write_file(dir.file("t.txt"), "a.jpg\tQ?\tYes\tyes\n");
  expect_error_containing([&] { mme_score_task("t", mme_read_task_file(dir.file("t.txt")), dir.file("t.txt")); },
                          {"t.txt", "two questions per image"});
  write_file(dir.file("t.txt"), "a.jpg\tQ?\tMaybe\tyes\na.jpg\tQ?\tNo\tno\n");
  expect_error_containing([&] { mme_score_task("t", mme_read_task_file(dir.file("t.txt")), dir.file("t.txt")); },
                          {"t.txt:1", "yes/no"});
  expect_error_containing([&] { mme_evaluate_dir(dir.path()); }, {"existence.txt", "cannot open"});
}

TEST(Mme, EmptyTaskFileIsRefused) {
  TempDir dir;
  write_file(dir.file("t.txt"), "");
  expect_error_containing([&] { mme_score_task("t", mme_read_task_file(dir.file("t.txt")), dir.file("t.txt")); },
                          {"t.txt", "no lines"});
}

}  // namespace
}  // namespace vista::eval
