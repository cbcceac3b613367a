// BC-Transformer (robomimic: a GPT over 10 frame-stacked observations, GMM head with 5 modes,
// AdamW) on Lift demonstrations.
//   train_bc_transformer [--debug] [--dataset lift.hdf5] [--demos 50] [--epochs N]
//                        [--output_dir DIR]
#include "example_support.hpp"
#include "mimic/config/generate.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c = mimic::config::published_config("bc_transformer", "lift", "low_dim", "");
  c["experiment"]["name"] = "example_bc_transformer_lift";
  const auto dataset = example::dataset_or_demos(args, "lift");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["train"]["num_epochs"] = 30;
  c["experiment"]["rollout"]["rate"] = 10;
  c["experiment"]["rollout"]["n"] = 10;
  // A smaller GPT than robomimic's 6 x 512, so that the example runs in minutes on a laptop.
  c["algo"]["transformer"]["embed_dim"] = 128;
  c["algo"]["transformer"]["num_layers"] = 3;
  c["algo"]["transformer"]["num_heads"] = 4;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_bc_transformer: " << e.what() << "\n";
  return 1;
}
