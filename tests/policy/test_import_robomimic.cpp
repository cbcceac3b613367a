// Reading PyTorch checkpoints without PyTorch, and running robomimic's policies in mimic.
// The restricted unpickler reads plain data and refuses foreign globals, unknown opcodes and
// truncation by name; the zip reader refuses damaged and truncated archives. Real robomimic
// 0.3.0 checkpoints (tests/reference/make_robomimic_checkpoint_fixtures.py) import into mimic
// policies whose actions equal what robomimic's RolloutPolicy returned for the same observations,
// directly and after a round trip through a mimic checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mimic/interop/robomimic_checkpoint.hpp"
#include "mimic/interop/robomimic_export.hpp"
#include "mimic/policy/builtin.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;
using io::PickleValue;

const std::string kDir = std::string(MIMIC_TEST_DATA_DIR) + "/robomimic_checkpoints/";

io::Unpickled unpickle(const std::string& bytes, std::vector<std::string> allowed = {}) {
  return io::Unpickler("test.pkl", std::move(allowed)).load(bytes.data(), bytes.size());
}

std::string scratch(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mimic_test_import_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// pickle.dumps({'a': [1, -2, 300, 2.5, 'x', 2**40], 'b': (True, None, b'\x01\x02')}, protocol=3)
const unsigned char kPlainBytes[] = {
    0x80, 0x03, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5d,
    0x71, 0x02, 0x28, 0x4b, 0x01, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4d, 0x2c, 0x01, 0x47, 0x40,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x78, 0x71, 0x03,
    0x8a, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x62,
    0x71, 0x04, 0x88, 0x4e, 0x43, 0x02, 0x01, 0x02, 0x71, 0x05, 0x87, 0x71, 0x06, 0x75, 0x2e};
const std::string kPlainPickle(reinterpret_cast<const char*>(kPlainBytes), sizeof kPlainBytes);

TEST(Pickle, ReadsPlainDataAsThePythonValues) {
  const io::Unpickled u = unpickle(kPlainPickle);
  const json a = io::pickle_to_json(*u.root().get("a"), "a");
  EXPECT_EQ(a, json::parse(R"([1, -2, 300, 2.5, "x", 1099511627776])"));
  const PickleValue* b = u.root().get("b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->is(PickleValue::Kind::kTuple));
  ASSERT_EQ(b->items.size(), 3u);
  EXPECT_TRUE(b->items[0]->boolean);
  EXPECT_TRUE(b->items[1]->is(PickleValue::Kind::kNone));
  EXPECT_EQ(b->items[2]->text, std::string("\x01\x02"));
  // bytes are not plain JSON data: the conversion names where it stopped
  testing::expect_error<IoError>([&] { io::pickle_to_json(u.root(), "root"); },
                                 {"root.b[2]", "bytes"});
}

TEST(Pickle, RefusesForeignGlobalsUnknownOpcodesAndTruncation) {
  // pickle.dumps(os.system) at protocol 0: GLOBAL 'posix system'
  testing::expect_error<IoError>([] { unpickle("cposix\nsystem\np0\n."); },
                                 {"test.pkl", "global 'posix.system' is not allowed", "byte 0"});
  testing::expect_error<IoError>(
      [] {
        unpickle(
            "\x80\x02K\x01\xff"
            ".");
      },
      {"opcode 0xff at byte 4", "not allowed"});
  testing::expect_error<IoError>([] { unpickle(kPlainPickle.substr(0, 30)); }, {"truncated"});
  testing::expect_error<IoError>([] { unpickle(kPlainPickle.substr(0, 74)); },
                                 {"without its STOP"});
  testing::expect_error<IoError>(
      [] {
        unpickle(
            "\x80\x02h\x05"
            ".");
      },
      {"memo entry 5"});
  testing::expect_error<IoError>(
      [] {
        unpickle(
            "\x80\x02"
            "a.");
      },
      {"empty stack"});
  // A LONG1 wider than 64 bits
  testing::expect_error<IoError>(
      [] { unpickle(std::string("\x80\x02\x8a\x09", 4) + std::string(9, '\1') + "."); },
      {"9 bytes"});
  // An allowed global may be named but a call to a non-global is refused.
  testing::expect_error<IoError>(
      [] {
        unpickle(
            "\x80\x02K\x01"
            ")R.");
      },
      {"calls an int"});
}

TEST(Pickle, SurvivesCyclicReferences) {
  // l = []; l.append(l); pickle.dumps(l, 2)
  const io::Unpickled u =
      unpickle(std::string("\x80\x02]q\x00h\x00"
                           "a.",
                           9));
  ASSERT_EQ(u.root().items.size(), 1u);
  EXPECT_EQ(u.root().items[0], &u.root());
  testing::expect_error<IoError>([&] { io::pickle_to_json(u.root(), "l"); }, {"64 levels"});
}

TEST(TorchFile, ReadsRobomimicsStateDictTensors) {
  io::TorchFile f(kDir + "bc.pth");
  const PickleValue* model = f.root().get("model");
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->entries.size(), 6u);
  EXPECT_EQ(model->entries[0].first->text, "policy.nets.mlp._model.0.weight");
  const Tensor<float> w = f.tensor(*model->entries[0].second, "w");
  EXPECT_EQ(w.shape(), (Shape{32, 19}));
  float sum = 0;
  for (int64_t i = 0; i < w.numel(); ++i) sum += std::fabs(w[i]);
  EXPECT_GT(sum, 1.0f);  // trained weights, read, not zeros
}

TEST(TorchFile, RefusesDamagedAndTruncatedArchives) {
  const std::string bytes = file_bytes(kDir + "bc.pth");
  const std::string cut = scratch("cut.pth");
  write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  testing::expect_error<IoError>([&] { io::TorchFile f(cut); }, {cut, "not a zip archive"});
  // One flipped byte inside the first storage: the CRC check names the entry.
  std::string flipped = bytes;
  const size_t at = flipped.find("data/0");
  ASSERT_NE(at, std::string::npos);
  const std::string damaged = scratch("flipped.pth");
  flipped[at + 200] = char(flipped[at + 200] ^ 0x5a);
  write_bytes(damaged, flipped);
  testing::expect_error<IoError>(
      [&] {
        io::TorchFile f(damaged);
        const PickleValue* m = f.root().get("model");
        for (const auto& [k, v] : m->entries) f.tensor(*v, k->text);
      },
      {damaged, "CRC-32"});
  const std::string text = scratch("text.pth");
  write_bytes(text, "not a checkpoint at all\n");
  testing::expect_error<IoError>([&] { io::TorchFile f(text); }, {text, "not a zip archive"});
}

TEST(ImportRobomimic, RefusesBadCheckpointsByName) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  auto import = [&](const std::string& name) {
    interop::import_robomimic_policy(kDir + name, reg);
  };
  testing::expect_error<IoError>([&] { import("bad_missing_tensor.pth"); },
                                 {"bad_missing_tensor.pth", "actor.decoder.bias"});
  testing::expect_error<IoError>([&] { import("bad_unknown_tensor.pth"); },
                                 {"bad_unknown_tensor.pth", "policy.nets.extra.weight"});
  testing::expect_error<IoError>([&] { import("bad_foreign_global.pth"); },
                                 {"bad_foreign_global.pth", "datetime.date", "not allowed"});
  testing::expect_error<UnsupportedError>([&] { import("bad_algo.pth"); },
                                          {"bad_algo.pth", "'bcq'"});
  // A real robomimic BC_Gaussian: mimic's Gaussian head is a one-mode mixture whose scale is
  // softplus + min_std, robomimic's a softplus scaled to init_std and clamped.
  testing::expect_error<UnsupportedError>([&] { import("bc_gaussian.pth"); },
                                          {"bc_gaussian.pth", "algo.gaussian", "Gaussian head"});
  testing::expect_error<UnsupportedError>(
      [&] { import("bad_unsorted_keys.pth"); },
      {"bad_unsorted_keys.pth", "all_shapes", "robot0_gripper_qpos", "sorted"});
}

// The policy's actions over the recorded episode, as robomimic's rollouts feed it: normalized
// observation rows of n_obs_steps frames, one call per step, a fresh episode first. An image key
// takes each step's camera frame from `images` ([step, C, H, W] bytes; pixels = bytes / 255).
std::vector<std::vector<float>> run_episode(policy::AnyPolicy& p, const json& episode,
                                            int64_t frames, const std::string& images = "") {
  const policy::ShapeMeta& m = p.shape_meta();
  const int64_t dim = m.obs_dim();
  const std::string pixels = images.empty() ? std::string() : file_bytes(images);
  p.reset_rollout(0);
  std::vector<std::vector<float>> actions;
  for (size_t t = 0; t < episode.size(); ++t) {
    const json& step = episode[t];
    auto rows = Tensor<float>::empty({1, frames, dim});
    for (int64_t f = 0; f < frames; ++f) {
      int64_t col = 0;
      for (const std::string& key : m.row_keys()) {
        if (m.is_rgb(key)) {
          const int64_t n = m.key_size(key);
          EXPECT_GE(int64_t(pixels.size()), int64_t(t + 1) * n) << images;
          for (int64_t i = 0; i < n; ++i)
            rows[f * dim + col++] = float(uint8_t(pixels[size_t(int64_t(t) * n + i)])) / 255.0f;
          continue;
        }
        const json& v = frames > 1 ? step["obs"][key][size_t(f)] : step["obs"][key];
        for (const auto& x : v) rows[f * dim + col++] = x.get<float>();
      }
    }
    policy::normalize_rows(p.normalization().obs, rows.data(), frames, m.low_dim_dim(), dim);
    const Tensor<float> a = p.act_rollout(rows, {0});
    actions.emplace_back(a.data(), a.data() + a.numel());
  }
  return actions;
}

void expect_actions(const std::vector<std::vector<float>>& got, const json& episode,
                    const std::string& what) {
  ASSERT_EQ(got.size(), episode.size());
  for (size_t t = 0; t < got.size(); ++t) {
    const std::vector<float> want = episode[t]["action"].get<std::vector<float>>();
    ASSERT_EQ(got[t].size(), want.size()) << what;
    for (size_t d = 0; d < want.size(); ++d)
      EXPECT_NEAR(got[t][d], want[d], 1e-5 * std::max(1.0f, std::fabs(want[d])))
          << what << " step " << t << " dim " << d;
  }
}

TEST(ImportRobomimic, ActionsEqualRobomimicsRolloutPolicy) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const json expected = json::parse(file_bytes(kDir + "expected.json"));
  const std::map<std::string, std::string> specs = {{"bc", "bc"},
                                                    {"bc_gmm", "bc"},
                                                    {"bc_rnn", "bc_rnn"},
                                                    {"bc_rnn_gmm", "bc_rnn"},
                                                    {"bc_transformer", "bc_transformer"},
                                                    {"bc_rnn_image", "bc_rnn"},
                                                    {"bc_vae", "bc_vae"}};
  // Every case robomimic wrote is imported here, but its Gaussian head (refused by name).
  ASSERT_EQ(expected["cases"].size(), specs.size() + 1);
  for (const auto& [name, spec] : specs) {
    SCOPED_TRACE(name);
    const json& c = expected["cases"][name];
    const std::string path = kDir + name + ".pth";
    interop::ImportedPolicy imported = interop::import_robomimic_policy(path, reg);
    EXPECT_EQ(imported.policy->algo_name(), spec == "bc_transformer" ? "bc_transformer" : spec);
    EXPECT_EQ(imported.tensors, c["weights"].get<size_t>());
    EXPECT_EQ(imported.env_args.value("env_name", ""), "Lift");
    const int64_t frames = imported.policy->n_obs_steps();
    EXPECT_EQ(frames, spec == "bc_transformer" ? c["frame_stack"].get<int64_t>() : 1);
    // Saved before it acts, so that the rebuilt policy starts from the same random stream.
    const std::string out = scratch(name + ".safetensors");
    interop::save_imported(imported, path, out);
    // The image policy's camera frames, beside its episode.
    const std::string images = c.contains("image_key") ? kDir + name + "_frames.u8" : "";
    if (!images.empty()) {
      EXPECT_TRUE(imported.policy->shape_meta().is_rgb(c["image_key"].get<std::string>()));
    }
    expect_actions(run_episode(*imported.policy, c["episode"], frames, images), c["episode"], name);

    // Through a mimic checkpoint: the same actions from a policy rebuilt from the file.
    const policy::Checkpoint ck = policy::load_checkpoint(out);
    EXPECT_EQ(ck.meta["imported_from"]["format"], "robomimic");
    EXPECT_EQ(ck.meta["trainer"]["env_args"]["env_name"], "Lift");
    auto again = policy::policy_from_checkpoint<float, Cpu>(ck, out, reg);
    expect_actions(run_episode(*again, c["episode"], frames, images), c["episode"],
                   name + " (saved)");
  }
}

// mimic -> robomimic: the exported file holds robomimic's whole state dict (the same names as the
// file robomimic wrote, the same values, the RNN alias and the mask buffers included) and config,
// and imports back to the same actions.
TEST(ExportRobomimic, WritesRobomimicsStateDictAndConfig) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const json expected = json::parse(file_bytes(kDir + "expected.json"));
  for (const char* name :
       {"bc", "bc_gmm", "bc_rnn", "bc_rnn_gmm", "bc_transformer", "bc_rnn_image"}) {
    SCOPED_TRACE(name);
    const std::string original = kDir + name + std::string(".pth");
    const std::string ours = scratch(name + std::string("_export.safetensors"));
    const std::string exported = scratch(name + std::string("_export.pth"));
    interop::save_imported(interop::import_robomimic_policy(original, reg), original, ours);
    const interop::RobomimicExport e = interop::export_robomimic_checkpoint(ours, exported, reg);

    const interop::RobomimicCheckpoint a = interop::read_robomimic_checkpoint(original);
    const interop::RobomimicCheckpoint b = interop::read_robomimic_checkpoint(exported);
    EXPECT_EQ(e.tensors, a.model.size());
    std::map<std::string, Tensor<float>> theirs(a.model.begin(), a.model.end());
    ASSERT_EQ(b.model.size(), theirs.size());
    for (const auto& [k, t] : b.model) {
      ASSERT_TRUE(theirs.count(k)) << k;
      ASSERT_EQ(t.shape(), theirs.at(k).shape()) << k;
      // BatchNorm's batch counter, which mimic does not keep (robomimic's momentum 0.1 never
      // reads it), is exported as 0.
      const std::string counter = ".num_batches_tracked";
      if (k.size() > counter.size() &&
          k.compare(k.size() - counter.size(), counter.size(), counter) == 0) {
        EXPECT_EQ(t[0], 0.0f) << k;
        continue;
      }
      EXPECT_TRUE(std::equal(t.data(), t.data() + t.numel(), theirs.at(k).data())) << k;
    }
    EXPECT_EQ(b.config, a.config);
    EXPECT_EQ(b.algo_name, "bc");
    EXPECT_EQ(b.shape_metadata["all_shapes"], a.shape_metadata["all_shapes"]);
    EXPECT_EQ(b.shape_metadata["ac_dim"], a.shape_metadata["ac_dim"]);
    EXPECT_EQ(b.env_metadata, a.env_metadata);
    if (a.obs_normalization_stats.is_null()) {
      EXPECT_TRUE(b.obs_normalization_stats.is_null());
    } else {  // float32 statistics through mimic's doubles: exact
      EXPECT_EQ(b.obs_normalization_stats, a.obs_normalization_stats);
    }

    interop::ImportedPolicy again = interop::import_robomimic_policy(exported, reg);
    const json& c = expected["cases"][name];
    const std::string images = c.contains("image_key") ? kDir + name + "_frames.u8" : "";
    expect_actions(run_episode(*again.policy, c["episode"], again.policy->n_obs_steps(), images),
                   c["episode"], name);
  }
}

TEST(ExportRobomimic, RefusesWhatRobomimicCannotHold) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  policy::ShapeMeta meta;
  meta.obs_shapes["x"] = {3};
  meta.action_dim = 2;
  auto saved = [&](const json& user) {
    const json config = config::load_config(user, reg);
    auto p = policy::make_policy<float, Cpu>(reg, config, meta, policy::Normalization{}, 1, 10);
    const std::string path = scratch("refused.safetensors");
    policy::save_checkpoint(path, *p, config, 10);
    return path;
  };
  const std::string out = scratch("refused.pth");
  const json gaussian = {{"algo_name", "bc"},
                         {"algo", {{"actor_layer_dims", {8}}, {"gaussian", {{"enabled", true}}}}}};
  testing::expect_error<UnsupportedError>(
      [&] { interop::export_robomimic_checkpoint(saved(gaussian), out, reg); }, {"Gaussian"});
  const json future = {{"algo_name", "bc"},
                       {"train", {{"frame_stack", 10}}},
                       {"algo",
                        {{"transformer",
                          {{"enabled", true},
                           {"embed_dim", 8},
                           {"num_layers", 1},
                           {"num_heads", 2},
                           {"supervise_all_steps", true},
                           {"pred_future_acs", true}}}}}};
  testing::expect_error<UnsupportedError>(
      [&] { interop::export_robomimic_checkpoint(saved(future), out, reg); },
      {"algo.transformer.pred_future_acs", "robomimic 0.3.0 does not have"});
  const json ibc = {{"algo_name", "ibc"}};
  testing::expect_error<UnsupportedError>(
      [&] { interop::export_robomimic_checkpoint(saved(ibc), out, reg); }, {"'ibc'"});
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace mimic
