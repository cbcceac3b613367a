// BC-VAE (robomimic's defaults: latent 14, N(0, 1) prior, encoder and decoder MLPs 300-400,
// KL weight 1) on Lift demonstrations; actions are decoded from prior samples.
//   train_bc_vae [--debug] [--dataset lift.hdf5] [--demos 50] [--epochs N] [--output_dir DIR]
#include "example_support.hpp"
#include "mimic/config/generate.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c = mimic::config::published_config("bc_vae", "lift", "low_dim", "");
  c["experiment"]["name"] = "example_bc_vae_lift";
  const auto dataset = example::dataset_or_demos(args, "lift");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["train"]["num_epochs"] = 30;
  c["experiment"]["rollout"]["rate"] = 10;
  c["experiment"]["rollout"]["n"] = 10;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_bc_vae: " << e.what() << "\n";
  return 1;
}
