// robomimic's offline RL algorithms TD3-BC, IQL, BCQ and CQL, one after the other, at robomimic's
// default settings on Lift demonstrations (with their rewards and dones); each run is then
// reloaded from its last checkpoint and rolled out.
//   train_offline_rl [--debug] [--dataset lift.hdf5] [--demos 50] [--epochs N] [--output_dir DIR]
#include "example_support.hpp"
#include "mimic/config/config.hpp"
#include "mimic/config/tasks.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  const auto dataset = example::dataset_or_demos(args, "lift");  // removed on exit
  for (const char* algo : {"td3_bc", "iql", "bcq", "cql"}) {
    nlohmann::json c =
        mimic::config::for_task(mimic::config::default_config(algo), algo, "lift", "low_dim", "");
    c["experiment"]["name"] = std::string("example_") + algo + "_lift";
    c["train"]["data"] = dataset->path();
    c["train"]["num_epochs"] = 20;
    c["experiment"]["epoch_every_n_steps"] = 100;  // TD3-BC's D4RL default is 5000
    c["experiment"]["rollout"]["rate"] = 10;
    c["experiment"]["rollout"]["n"] = 10;
    if (std::string(algo) == "cql")
      c["train"]["batch_size"] = 256;  // its default 1024 is GPU-sized
    if (const int rc = example::train_and_evaluate(c, args, 20)) return rc;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "train_offline_rl: " << e.what() << "\n";
  return 1;
}
