// Data-parallel training through the `vista` command: 2 and 3 Gloo workers on loopback against one
// process with the same global batch, ZeRO-1/2 against ZeRO-0, checkpoints resumed at other world
// sizes, a killed worker, and ranks whose batches hold no image.
//
// Tolerances. Ranks compute the same sums as one process, split and added in another order:
// float32 sums over at most a few thousand terms agree to ~1e-7 relative (measured: 1e-7 on
// losses), so per-step losses must agree to 1e-5 relative, 100x that. The gradient norm is the
// exception: one process keeps libtorch's clip_grad_norm_, whose float32 norm of the 2M-element
// embedding gradient is itself only good to about sqrt(n) x 6e-8 = 1e-4 relative (measured:
// 2.5e-5 against the float64 norm the ranks compute), so norms must agree to 1e-4.
// AdamW turns a gradient perturbation of relative size d into updates off by about d, so after a
// few steps the distance between the two final models, relative to how far apart training ends on
// other samples (a control run with another seed), must stay below 1e-4 (measured: ~4e-6); a
// wrongly normalised gradient (rank means averaged instead of global sums, a bucket missed, a
// shard not gathered) is off by percents.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "demo/label_clip.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "train/shapes_training.h"

extern char** environ;

namespace fs = std::filesystem;
using vista::io::load_safetensors;

namespace {

constexpr double kLossTolerance = 1e-5, kNormTolerance = 1e-4, kWeightTolerance = 1e-4;

std::string vista_binary() { return VISTA_BINARY; }

// A 6-step CE+VISTA finetune on the shapes data, VISTA on, no warmup; `batch` per rank.
std::string write_config(const TempDir& dir, const std::string& name, int64_t batch, int64_t accum = 1,
                         const nlohmann::json& extra = nlohmann::json::object()) {
  auto c = shapes_config(dir.file(name));
  c["data"]["group_by_modality_length"] = false;  // a plain shuffle mixes text-only and image samples
  c["train"]["max_steps"] = 6;
  c["train"]["per_device_batch"] = batch;
  c["train"]["grad_accum"] = accum;
  c["train"]["save_every"] = 3;
  c["train"]["resume"] = "auto";
  c["optim"]["warmup_ratio"] = 0.0;
  c["dist"] = {{"timeout_s", 60}};
  c["loss"] = {{"vista", {{"enabled", true}}}};
  c.merge_patch(extra);
  const auto path = dir.file(name + ".json");
  std::ofstream(path) << c.dump(2);
  return path;
}

int run(const std::string& config, int nproc, const std::string& log, const std::string& overrides = "") {
  const std::string launch = nproc > 0 ? " --nproc-per-node " + std::to_string(nproc) : "";
  const auto command = vista_binary() + " train " + config + " " + overrides + launch + " > " + log + " 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void expect_same_steps(const std::string& a_run, const std::string& b_run, size_t first_line = 0) {
  const auto a = run_metrics(a_run), b = run_metrics(b_run);
  ASSERT_EQ(a.size(), b.size()) << a_run << " vs " << b_run;
  for (size_t i = first_line; i < a.size(); ++i) {
    for (const char* exact : {"step", "samples", "aligned", "bad_samples", "lr"})
      EXPECT_EQ(a[i][exact], b[i][exact]) << b_run << " step " << i + 1 << " " << exact;
    for (const char* close : {"loss", "ce", "vista", "similarity", "grad_norm"}) {
      const double x = a[i][close].get<double>(), y = b[i][close].get<double>();
      const double tolerance = std::string(close) == "grad_norm" ? kNormTolerance : kLossTolerance;
      EXPECT_LE(std::abs(x - y), tolerance * std::max(std::abs(x), 1e-3))
          << b_run << " step " << i + 1 << " " << close << ": " << x << " vs " << y;
    }
  }
}

double distance(const std::string& a_model, const std::string& b_model) {
  const auto a = load_safetensors(a_model + "/model.safetensors"), b = load_safetensors(b_model + "/model.safetensors");
  EXPECT_EQ(a.size(), b.size());
  double sum = 0;
  for (const auto& [name, t] : a) {
    if (!b.count(name)) {
      ADD_FAILURE() << b_model << " lacks " << name;
      continue;
    }
    sum += (t.to(torch::kFloat64) - b.at(name).to(torch::kFloat64)).pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

// The reference: one process with the given batch, and a control run on other samples.
struct Reference {
  std::string run, control;
  double spread = 0;  // how far apart the two end
};

Reference reference(const TempDir& dir, int64_t batch, int64_t accum = 1) {
  Reference r;
  const auto name = "one_b" + std::to_string(batch) + "_a" + std::to_string(accum);
  r.run = dir.file(name);
  r.control = dir.file(name + "_control");
  EXPECT_EQ(run(write_config(dir, name, batch, accum), 0, dir.file(name + ".log")), 0) << read_text(dir.file(name + ".log"));
  EXPECT_EQ(run(write_config(dir, name + "_control", batch, accum, {{"train", {{"seed", 11}}}}), 0,
                dir.file(name + "_control.log")),
            0);
  r.spread = distance(r.run + "/final", r.control + "/final");
  EXPECT_GT(r.spread, 0.0);
  return r;
}

void expect_same_model(const Reference& ref, const std::string& run_dir) {
  const double apart = distance(ref.run + "/final", run_dir + "/final");
  EXPECT_LT(apart, kWeightTolerance * ref.spread)
      << run_dir << " ends " << apart << " from one process; a run on other samples ends " << ref.spread << " away";
  std::set<std::string> a_files, b_files;
  for (const auto& e : fs::directory_iterator(ref.run + "/final")) a_files.insert(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(run_dir + "/final")) b_files.insert(e.path().filename().string());
  EXPECT_EQ(a_files, b_files) << "the final export of a data-parallel run holds what a single-process one holds";
}

}  // namespace

TEST(DataParallel, TwoAndThreeRanksMatchOneProcessWithTheSameGlobalBatch) {
  TempDir dir;
  const auto ref = reference(dir, 6);
  for (const auto& [ranks, batch] : {std::pair{2, 3}, std::pair{3, 2}}) {
    const auto name = "ranks" + std::to_string(ranks);
    ASSERT_EQ(run(write_config(dir, name, batch), ranks, dir.file(name + ".log")), 0) << read_text(dir.file(name + ".log"));
    expect_same_steps(ref.run, dir.file(name));
    expect_same_model(ref, dir.file(name));
  }
}

TEST(DataParallel, AccumulationAcrossRanksMatchesOneProcess) {
  TempDir dir;
  const auto ref = reference(dir, 2, 3);
  ASSERT_EQ(run(write_config(dir, "ranks2_a3", 1, 3), 2, dir.file("ranks2_a3.log")), 0) << read_text(dir.file("ranks2_a3.log"));
  expect_same_steps(ref.run, dir.file("ranks2_a3"));
  expect_same_model(ref, dir.file("ranks2_a3"));
}

TEST(DataParallel, ZeroOneAndTwoMatchZeroZero) {
  TempDir dir;
  const auto ref = reference(dir, 6);
  for (int zero : {1, 2}) {
    const auto name = "zero" + std::to_string(zero);
    // Small buckets: many of them, each with one owner under ZeRO-2.
    ASSERT_EQ(run(write_config(dir, name, 3, 1, {{"train", {{"zero", zero}}}, {"dist", {{"bucket_mb", 0.05}}}}), 2,
                  dir.file(name + ".log")),
              0)
        << read_text(dir.file(name + ".log"));
    expect_same_steps(ref.run, dir.file(name));
    expect_same_model(ref, dir.file(name));
    // Each rank wrote its own optimizer shard beside the one model.
    const auto shards = dir.file(name) + "/checkpoints/step-0000006/optimizer";
    EXPECT_TRUE(fs::exists(shards + "/rank-00000-of-00002.safetensors"));
    EXPECT_TRUE(fs::exists(shards + "/rank-00001-of-00002.safetensors"));
    // ZeRO shards the optimizer state by element ranges: each rank holds half of it, give or take
    // a step counter per parameter piece.
    const auto s0 = load_safetensors(shards + "/rank-00000-of-00002.safetensors");
    const auto s1 = load_safetensors(shards + "/rank-00001-of-00002.safetensors");
    for (const auto& [key, t] : s0) EXPECT_FALSE(s1.count(key)) << key << " is in both shards";
    int64_t n0 = 0, n1 = 0;
    for (const auto& [key, t] : s0) n0 += t.numel();
    for (const auto& [key, t] : s1) n1 += t.numel();
    EXPECT_NEAR(static_cast<double>(n0), static_cast<double>(n1), 0.01 * static_cast<double>(n0 + n1))
        << n0 << " and " << n1 << " elements";
  }
}

TEST(DataParallel, CheckpointOfTwoRanksResumesOnThreeAndOnOne) {
  TempDir dir;
  const auto ref = reference(dir, 6);
  const auto first = write_config(dir, "two_then_three", 3, 1, {{"train", {{"zero", 1}, {"stop_after_steps", 3}}}});
  ASSERT_EQ(run(first, 2, dir.file("first.log")), 0) << read_text(dir.file("first.log"));
  ASSERT_TRUE(fs::exists(dir.file("two_then_three/checkpoints/step-0000003/trainer_state.json")));
  fs::copy(dir.file("two_then_three"), dir.file("two_then_one"), fs::copy_options::recursive);
  // The same global batch of 6: 3 ranks x 2 (ZeRO-2, re-sharding ZeRO-1 state), 1 rank x 6.
  ASSERT_EQ(run(write_config(dir, "two_then_three", 2, 1, {{"train", {{"zero", 2}}}}), 3, dir.file("three.log")), 0)
      << read_text(dir.file("three.log"));
  EXPECT_NE(read_text(dir.file("three.log")).find("written by 2 rank(s), ZeRO-1"), std::string::npos);
  ASSERT_EQ(run(write_config(dir, "two_then_one", 6), 0, dir.file("one.log")), 0) << read_text(dir.file("one.log"));
  for (const auto* name : {"two_then_three", "two_then_one"}) {
    expect_same_steps(ref.run, dir.file(name));
    expect_same_model(ref, dir.file(name));
  }
}

// Batch 1 per rank over shuffled data with text-only records: some steps give one rank an image
// and the other none (its projector gets no gradient), and the run still neither hangs nor drifts.
TEST(DataParallel, ARankWithOnlyTextOnlySamplesDoesNotHang) {
  TempDir dir;
  const auto ref = reference(dir, 2);
  ASSERT_EQ(run(write_config(dir, "text_only", 1), 2, dir.file("text_only.log")), 0) << read_text(dir.file("text_only.log"));
  bool mixed = false;
  for (const auto& m : run_metrics(dir.file("text_only"))) mixed |= m["aligned"] == 1;
  EXPECT_TRUE(mixed) << "no step had exactly one image sample across the two ranks; the data no longer tests this";
  expect_same_steps(ref.run, dir.file("text_only"));
}

namespace {

pid_t spawn_worker(const std::vector<std::string>& args, const std::vector<std::string>& env_extra, const std::string& log) {
  std::vector<std::string> env_strings(env_extra);
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// A TCP port nobody listens on now (the kernel's choice for port 0), so parallel tests do not collide.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// The exit code, or -1 if the process is still running after `limit`.
int wait_for_exit(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

}  // namespace

TEST(DataParallel, AKilledRankEndsTheOthersAndResumeAutoFinishes) {
  TempDir dir;
  const auto config = write_config(dir, "killed", 1, 1, {{"train", {{"max_steps", 400}, {"save_every", 5}}}});
  const int port = free_port();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < 2; ++rank)
    pids.push_back(spawn_worker({vista_binary(), "train", config},
                                {"RANK=" + std::to_string(rank), "WORLD_SIZE=2", "LOCAL_RANK=" + std::to_string(rank),
                                 "LOCAL_WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)},
                                dir.file("rank" + std::to_string(rank) + ".log")));
  const auto checkpoint = dir.file("killed/checkpoints/step-0000010");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(checkpoint) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(checkpoint)) << read_text(dir.file("rank0.log"));
  ASSERT_EQ(kill(pids[1], SIGKILL), 0);
  EXPECT_EQ(wait_for_exit(pids[1], std::chrono::seconds(10)), 128 + SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  const int survivor = wait_for_exit(pids[0], std::chrono::seconds(60));
  if (survivor == -1) kill(pids[0], SIGKILL), waitpid(pids[0], nullptr, 0);
  ASSERT_NE(survivor, -1) << "rank 0 still runs 60 s after rank 1 was killed";
  EXPECT_NE(survivor, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, std::chrono::seconds(60));
  const auto survivor_log = read_text(dir.file("rank0.log"));
  EXPECT_NE(survivor_log.find("on rank 0 of 2"), std::string::npos) << survivor_log;
  // resume=auto continues from the newest complete checkpoint to the end.
  const auto finish = write_config(dir, "killed", 1, 1, {{"train", {{"max_steps", 40}, {"save_every", 5}}}});
  ASSERT_EQ(run(finish, 2, dir.file("resume.log")), 0) << read_text(dir.file("resume.log"));
  EXPECT_NE(read_text(dir.file("resume.log")).find("resumed from"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.file("killed/final/model.safetensors")));
  EXPECT_EQ(run_metrics(dir.file("killed")).back()["step"], 40);
}

TEST(DataParallel, LoraOnTwoRanksMatchesOneProcess) {
  TempDir dir;
  const nlohmann::json lora = {{"train", {{"lora", {{"enabled", true}, {"r", 4}, {"alpha", 8}, {"dropout", 0.0}}}}}};
  ASSERT_EQ(run(write_config(dir, "one", 6, 1, lora), 0, dir.file("one.log")), 0) << read_text(dir.file("one.log"));
  ASSERT_EQ(run(write_config(dir, "two", 3, 1, lora), 2, dir.file("two.log")), 0) << read_text(dir.file("two.log"));
  expect_same_steps(dir.file("one"), dir.file("two"));
  const auto a = load_safetensors(dir.file("one/final/adapter_model.safetensors"));
  const auto b = load_safetensors(dir.file("two/final/adapter_model.safetensors"));
  ASSERT_EQ(a.size(), b.size());
  double apart = 0, moved = 0;
  for (const auto& [name, t] : a) {
    apart += (t - b.at(name)).to(torch::kFloat64).pow(2).sum().item<double>();
    if (name.find("lora_B") != std::string::npos) moved += t.to(torch::kFloat64).pow(2).sum().item<double>();
  }
  EXPECT_GT(moved, 0.0);  // B starts at zero: this is how far training took the adapters
  EXPECT_LT(std::sqrt(apart), kWeightTolerance * std::sqrt(moved));
}

namespace {
int run_command(const std::string& args, const std::string& log) {
  const auto command = vista_binary() + " " + args + " > " + log + " 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

// SEA through the commands users run: the word list, a labelling pass that is interrupted and
// resumed, then stage 1 on two ranks, resumed in one process. Pairs and negatives are per rank
// (docs/method.md), so two ranks do not reproduce one process; they must agree on theta, which
// the trainer state carries.
TEST(DataParallel, SeaLabelledByTheCommandsTrainsOnTwoRanksAndResumesOnOne) {
  TempDir dir;
  auto& s = shapes_training();
  vista::demo::LabelClipRecipe recipe;
  recipe.steps = 20;
  vista::demo::prepare_label_clip(dir.file("clip"), s.files.pretrain_json, s.files.images,
                                  testdata("tokenizers/mistral7b"), recipe);
  ASSERT_EQ(
      run_command("sea words --data " + s.files.pretrain_json + " --out " + dir.file("words.txt") + " --min-count 1",
                  dir.file("words.log")),
      0)
      << read_text(dir.file("words.log"));
  const auto label = "sea label --clip " + dir.file("clip") + " --words " + dir.file("words.txt") + " --data " +
                     s.files.pretrain_json + " --images " + s.files.images + " --out " + dir.file("labels") +
                     " --aspect square --score-sign 1 --batch 4";
  EXPECT_EQ(run_command(label + " --stop-after 4", dir.file("label1.log")), 3) << read_text(dir.file("label1.log"));
  EXPECT_TRUE(fs::exists(dir.file("labels.partial")));
  ASSERT_EQ(run_command(label, dir.file("label2.log")), 0) << read_text(dir.file("label2.log"));
  EXPECT_NE(read_text(dir.file("label2.log")).find("resuming " + dir.file("labels") + ".partial at image 4/"),
            std::string::npos)
      << read_text(dir.file("label2.log"));

  auto c = shapes_config(dir.file("two"), "pretrain");
  c["data"]["image_aspect_ratio"] = "square";
  c["train"]["max_steps"] = 4;
  c["train"]["per_device_batch"] = 2;
  c["train"]["save_every"] = 2;
  c["optim"] = {{"lr", 1e-2}, {"warmup_ratio", 0.0}};
  c["dist"] = {{"timeout_s", 60}};
  c["loss"] = {{"vista", {{"enabled", false}}},
               {"sea", {{"enabled", true}, {"labels", dir.file("labels")}, {"words", dir.file("words.txt")}}}};
  std::ofstream(dir.file("two.json")) << c.dump(2);
  ASSERT_EQ(run(dir.file("two.json"), 2, dir.file("two.log"), "train.stop_after_steps=2"), 0)
      << read_text(dir.file("two.log"));
  const auto state = nlohmann::json::parse(read_text(dir.file("two/checkpoints/step-0000002/trainer_state.json")));
  ASSERT_TRUE(state.contains("sea_theta"));
  EXPECT_NE(state["sea_theta"].get<double>(), 0.0);  // trained away from its start
  ASSERT_EQ(run(dir.file("two.json"), 0, dir.file("one.log")), 0) << read_text(dir.file("one.log"));
  const auto m = run_metrics(dir.file("two"));
  ASSERT_EQ(m.size(), 4u);
  for (const auto& line : m) {
    EXPECT_GT(line["sea_pairs"].get<int64_t>(), 2) << line.dump();  // pairs of both ranks counted
    EXPECT_TRUE(std::isfinite(line["sea"].get<double>()));
  }
  // The resumed step starts from the checkpoint's theta: tau after step 3 follows from it.
  EXPECT_NE(m[2]["tau"].get<double>(), 1.0);
}
