// robomimic's hierarchical algorithms HBC and IRIS at robomimic's paper settings on Lift
// demonstrations: a goal VAE plans the observation 10 steps ahead (IRIS keeps the best of 100
// sampled subgoals under its BCQ value network) and a BC-RNN actor follows that subgoal. Each run
// is then reloaded from its last checkpoint and rolled out.
//   train_hierarchical [--debug] [--dataset lift.hdf5] [--demos 50] [--epochs N] [--output_dir DIR]
#include "example_support.hpp"
#include "mimic/config/config.hpp"
#include "mimic/config/generate.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  const auto dataset = example::dataset_or_demos(args, "lift");  // removed on exit
  for (const std::string algo : {"hbc", "iris"}) {
    nlohmann::json c = mimic::config::published_config(algo, "lift", "low_dim", "");
    c["experiment"]["name"] = "example_" + algo + "_lift";
    c["train"]["data"] = dataset->path();
    c["train"]["hdf5_filter_key"] = nullptr;  // generated demos: train on all of them
    c["train"]["hdf5_validation_filter_key"] = nullptr;
    c["experiment"]["validate"] = false;
    c["train"]["num_epochs"] = 20;
    c["experiment"]["rollout"]["rate"] = 10;
    c["experiment"]["rollout"]["n"] = 10;
    // robomimic conditions the actor on the subgoal only through these keys, and its configs list
    // none (its actor then ignores the planner): here the actor follows the planner.
    const nlohmann::json::json_pointer planner(algo == "iris" ? "/observation/value_planner/planner"
                                                              : "/observation/planner");
    c["observation"]["actor"]["modalities"]["goal"]["low_dim"] =
        c[planner]["modalities"]["subgoal"]["low_dim"];
    if (const int rc = example::train_and_evaluate(c, args, 20)) return rc;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "train_hierarchical: " << e.what() << "\n";
  return 1;
}
