// Implicit BC (energy MLP, InfoNCE with uniform negatives, derivative-free inference) on Push-T
// demonstrations, sized for a CPU (energy MLP 4 x 256, 256 negatives).
//   train_ibc [--debug] [--dataset pusht.hdf5] [--demos 50] [--epochs N] [--output_dir DIR]
#include "example_support.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c = mimic::config::default_config("ibc");
  c["experiment"]["name"] = "example_ibc_pusht";
  const auto dataset = example::dataset_or_demos(args, "pusht");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["observation"]["modalities"]["obs"]["low_dim"] = {"obs"};
  c["train"]["batch_size"] = 64;
  c["train"]["num_epochs"] = 20;
  c["experiment"]["rollout"]["horizon"] = 300;
  c["experiment"]["rollout"]["rate"] = 20;
  c["experiment"]["rollout"]["n"] = 10;
  c["algo"]["energy"]["layer_dims"] = {256, 256, 256, 256};
  c["algo"]["train"]["num_negatives"] = 256;
  c["algo"]["inference"]["num_samples"] = 1024;
  c["algo"]["optim_params"]["policy"]["learning_rate"]["initial"] = 5e-4;
  c["algo"]["optim_params"]["policy"]["learning_rate"]["warmup_steps"] = 200;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_ibc: " << e.what() << "\n";
  return 1;
}
