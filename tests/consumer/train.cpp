// Trains BC from a robomimic-format file through the installed trainer with rollouts off,
// linking mimic::mimic and mimic::hdf5 only: the trainer needs no physics engine.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mimic/train/trainer.hpp>

#ifdef mjVERSION_HEADER
#error "the trainer pulled in MuJoCo"
#endif

int main() {
  namespace fs = std::filesystem;
  using nlohmann::json;
  const fs::path dir = fs::temp_directory_path() / ("mimic_consumer_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "line.hdf5").string();
  {  // demos whose action is a fixed linear function of the observation
    mimic::data::RobomimicWriter w(path, json{{"env_name", "Line"}}.dump());
    for (int d = 0; d < 4; ++d) {
      mimic::data::Demo demo;
      demo.name = "demo_" + std::to_string(d);
      demo.num_samples = 50;
      std::vector<float> obs, act;
      for (int t = 0; t < 50; ++t) {
        const float x = std::sin(0.1f * float(t + 13 * d)), y = std::cos(0.07f * float(t * d));
        obs.insert(obs.end(), {x, y});
        act.insert(act.end(), {0.5f * x - 0.2f * y, 0.3f * y});
      }
      demo.obs["pos"] = mimic::data::Array::floats({50, 2}, obs);
      demo.actions = mimic::data::Array::floats({50, 2}, act);
      w.add_demo(demo);
    }
    w.finish();
  }
  json c = mimic::config::default_config("bc");
  c["train"]["data"] = path;
  c["train"]["output_dir"] = (dir / "runs").string();
  c["train"]["num_epochs"] = 3;
  c["train"]["batch_size"] = 20;
  c["experiment"]["rollout"]["enabled"] = false;
  c["experiment"]["epoch_every_n_steps"] = 30;
  c["algo"]["actor_layer_dims"] = {32};
  c["algo"]["optim_params"]["policy"]["learning_rate"]["initial"] = 1e-3;
  c["observation"]["modalities"]["obs"]["low_dim"] = {"pos"};
  mimic::train::TrainOverrides o;
  o.quiet = true;
  const auto s = mimic::train::Trainer(mimic::config::load_config(c), o).run();
  const auto ck = mimic::policy::load_checkpoint(s.last_checkpoint);
  auto policy = mimic::policy::policy_from_checkpoint<float>(ck, s.last_checkpoint);
  std::printf("consumer train: loss %.4f -> %.4f, %lld parameters\n", s.epoch_losses.front(),
              s.epoch_losses.back(), static_cast<long long>(policy->params().count()));
  fs::remove_all(dir);
  return s.epoch_losses.back() < s.epoch_losses.front() ? 0 : 1;
}
