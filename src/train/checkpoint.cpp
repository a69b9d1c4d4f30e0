#include "train/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "util/json_file.h"
#include "util/json_node.h"
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "train/optimizer_setup.h"
#include "util/error.h"

namespace vista::train {

namespace fs = std::filesystem;

namespace {

const char* kStateFile = "trainer_state.json";

std::string optimizer_shard_name(int rank, int world) { return fmt::format("rank-{:05d}-of-{:05d}.safetensors", rank, world); }

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) fail("{}: write failed", path.string());
}

}  // namespace

void save_projector(const std::string& path, models::MultimodalLMImpl& model) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : model.projector->named_parameters()) tensors["model.mm_projector." + p.key()] = p.value().detach();
  io::save_safetensors(path, tensors, {{"format", "pt"}});
}

void load_projector(const std::string& path, models::MultimodalLMImpl& model) {
  const auto file = io::SafetensorsFile::open(path);
  torch::NoGradGuard no_grad;
  size_t loaded = 0;
  for (auto& p : model.projector->named_parameters()) {
    std::string key;
    for (const auto& prefix : {"model.mm_projector.", "projector.", "connector._connector.", ""})
      if (file.contains(prefix + p.key())) {
        key = prefix + p.key();
        break;
      }
    if (key.empty()) fail("{}: no projector tensor for '{}' (tried model.mm_projector.{})", path, p.key(), p.key());
    const auto t = file.tensor(key);
    if (t.sizes() != p.value().sizes())
      fail("{}: '{}' has shape {}, the projector expects {}", path, key, shape_string(t.sizes().vec()),
           shape_string(p.value().sizes().vec()));
    p.value().copy_(t);
    ++loaded;
  }
  if (loaded == 0) fail("{}: no projector tensors", path);
}

std::string save_checkpoint(const std::string& run_dir, models::MultimodalLMImpl& model,
                            const std::map<std::string, torch::Tensor>& optimizer_state, const TrainerState& state,
                            io::Layout layout, int64_t keep_last, const CheckpointRanks& ranks) {
  const WeightsWriter write = [&](const std::string& dir) {
    models::save_multimodal(model, dir, {layout});
    save_projector(dir + "/mm_projector.safetensors", model);
  };
  return save_checkpoint(run_dir, write, optimizer_state, state, keep_last, ranks);
}

std::string save_checkpoint(const std::string& run_dir, const WeightsWriter& write_weights,
                            const std::map<std::string, torch::Tensor>& optimizer_state, const TrainerState& state,
                            int64_t keep_last, const CheckpointRanks& ranks) {
  const fs::path root = fs::path(run_dir) / "checkpoints";
  const auto name = fmt::format("step-{:07d}", state.step);
  const fs::path final_dir = root / name, tmp = root / (name + ".tmp");
  if (ranks.rank == 0) {
    fs::create_directories(root);
    fs::remove_all(tmp);
    fs::create_directories(tmp / "optimizer");
    write_weights(tmp.string());
    io::save_safetensors((tmp / "rng_state.safetensors").string(),
                         {{"torch_cpu_generator", at::detail::getDefaultCPUGenerator().get_state()}});
  }
  ranks.barrier();
  if (!optimizer_state.empty())
    io::save_safetensors((tmp / "optimizer" / optimizer_shard_name(ranks.rank, ranks.world)).string(), optimizer_state,
                         {{"format", "pt"}});
  ranks.barrier();
  if (ranks.rank == 0) {
    nlohmann::json files = nlohmann::json::object();
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& entry : fs::recursive_directory_iterator(tmp))
      if (entry.is_regular_file()) {
        const auto relative = fs::relative(entry.path(), tmp).string();
        files[relative] = entry.file_size();
        if (relative.rfind("optimizer/", 0) == 0) shards.push_back(relative);
      }
    std::sort(shards.begin(), shards.end());
    nlohmann::json json = {{"step", state.step},
                           {"epoch", state.epoch},
                           {"cursor", state.cursor},
                           {"bad_samples", state.bad_samples},
                           {"samples_seen", state.samples_seen},
                           {"elapsed_s", state.elapsed_s},
                           {"seed", state.seed},
                           {"world_size", ranks.world},
                           {"zero", state.zero},
                           {"optimizer_shards", shards},
                           {"files", files}};
    if (state.sea_theta) json["sea_theta"] = *state.sea_theta;
    write_text(tmp / kStateFile, json.dump(2) + "\n");
    fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
    const auto all = list_checkpoints(run_dir);
    for (size_t i = static_cast<size_t>(keep_last); i < all.size(); ++i) fs::remove_all(all[i]);
  }
  // No rank goes on (and possibly dies) before the checkpoint is complete under its real name.
  ranks.barrier();
  return final_dir.string();
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  std::vector<std::string> out;
  const fs::path root = fs::path(run_dir) / "checkpoints";
  if (!fs::exists(root)) return out;
  for (const auto& entry : fs::directory_iterator(root)) {
    const auto name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 && name.find(".tmp") == std::string::npos)
      out.push_back(entry.path().string());
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

std::optional<std::string> checkpoint_problem(const std::string& dir) {
  const fs::path state_path = fs::path(dir) / kStateFile;
  if (!fs::exists(state_path)) return fmt::format("{} is missing (the checkpoint was not finished)", state_path.string());
  nlohmann::json state;
  try {
    state = read_json_file(state_path.string());
  } catch (const Error& e) {
    return std::string(e.what());
  }
  if (!state.contains("files") || !state["files"].is_object()) return fmt::format("{}: no 'files' list", state_path.string());
  for (const auto& [name, size] : state["files"].items()) {
    const fs::path file = fs::path(dir) / name;
    if (!fs::exists(file)) return fmt::format("{} is missing", file.string());
    if (fs::file_size(file) != size.get<uint64_t>())
      return fmt::format("{} has {} bytes, {} were written", file.string(), fs::file_size(file), size.get<uint64_t>());
  }
  const bool adapters = fs::exists(fs::path(dir) / "adapter_model.safetensors");
  try {
    io::SafetensorsFile::open((fs::path(dir) / (adapters ? "adapter_model.safetensors" : "model.safetensors")).string());
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

TrainerState read_trainer_state(const std::string& dir) {
  const auto path = (fs::path(dir) / kStateFile).string();
  const JsonNode f = JsonNode::owning(read_json_file(path), path);
  TrainerState s;
  s.step = f.integer("step");
  s.epoch = f.integer("epoch");
  s.cursor = f.integer("cursor");
  s.bad_samples = f.integer_or("bad_samples", 0);
  s.samples_seen = f.integer_or("samples_seen", 0);
  s.elapsed_s = f.number_or("elapsed_s", 0.0);
  s.seed = static_cast<uint64_t>(f.integer_or("seed", 0));
  s.world_size = static_cast<int>(f.integer_or("world_size", 1));
  s.zero = static_cast<int>(f.integer_or("zero", 0));
  if (f.has("sea_theta")) s.sea_theta = f.number("sea_theta");
  return s;
}

void restore_checkpoint(const std::string& dir, models::MultimodalLMImpl& model) {
  const auto layout = models::checkpoint_layout(model.config());
  models::load_strict(model, models::CheckpointReader::open(dir), layout);
  if (!layout.skipped_module_prefixes.empty())  // official layout: the tower sits in vision_tower/
    models::load_strict(*model.vision_tower, models::CheckpointReader::open(dir + "/vision_tower"), {});
  restore_rng(dir);
}

void restore_rng(const std::string& dir) {
  const auto rng = io::load_safetensors(dir + "/rng_state.safetensors");
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng.at("torch_cpu_generator"));
}

void restore_optimizer(const std::string& dir, torch::optim::AdamW& optimizer, const std::vector<OptimizedSlice>& slices) {
  const auto state_path = (fs::path(dir) / kStateFile).string();
  const auto json = read_json_file(state_path);
  if (!json.contains("optimizer_shards") && fs::exists(fs::path(dir) / "optimizer.pt")) {
    // Checkpoints written before optimizer state was kept by name (one process only).
    try {
      torch::load(optimizer, dir + "/optimizer.pt");
    } catch (const c10::Error& e) {
      fail("{}/optimizer.pt: cannot be read: {}", dir, e.what_without_backtrace());
    }
    return;
  }
  const auto& listed = json.contains("optimizer_shards") ? json["optimizer_shards"] : nlohmann::json();
  if (!listed.is_array()) fail("{}: field 'optimizer_shards' must be a list of files", state_path);
  std::vector<io::SafetensorsFile> shards;
  for (const auto& shard : listed) {
    if (!shard.is_string()) fail("{}: optimizer_shards must list file names", state_path);
    shards.push_back(io::SafetensorsFile::open((fs::path(dir) / shard.get<std::string>()).string()));
  }
  StatePieces pieces;
  for (const auto& file : shards)
    for (const auto& key : file.names()) pieces.keys.push_back(key);
  pieces.read = [&](const std::string& key) {
    for (const auto& file : shards)
      if (file.contains(key)) return file.tensor(key);
    fail("{}/optimizer: no tensor '{}'", dir, key);
  };
  restore_adamw_state(optimizer, slices, pieces, dir + "/optimizer");
}

}  // namespace vista::train
