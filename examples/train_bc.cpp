// Behaviour cloning (robomimic's BC: MLP actor 1024-1024, L2 loss) on Lift expert demonstrations.
//   train_bc [--debug] [--dataset lift.hdf5] [--demos 50] [--epochs N] [--output_dir DIR]
#include "example_support.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c = mimic::config::default_config("bc");
  c["experiment"]["name"] = "example_bc_lift";
  const auto dataset = example::dataset_or_demos(args, "lift");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["train"]["num_epochs"] = 50;
  c["experiment"]["rollout"]["rate"] = 25;
  c["experiment"]["rollout"]["n"] = 10;
  c["algo"]["optim_params"]["policy"]["learning_rate"]["initial"] = 1e-3;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_bc: " << e.what() << "\n";
  return 1;
}
