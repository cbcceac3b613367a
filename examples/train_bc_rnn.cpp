// BC-RNN (robomimic: LSTM 2 x 400 over 10 steps, GMM head with 5 modes) on Lift demonstrations.
//   train_bc_rnn [--debug] [--dataset lift.hdf5] [--demos 50] [--epochs N] [--output_dir DIR]
#include "example_support.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c = mimic::config::default_config("bc");
  c["experiment"]["name"] = "example_bc_rnn_lift";
  const auto dataset = example::dataset_or_demos(args, "lift");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["train"]["seq_length"] = 10;
  c["train"]["num_epochs"] = 30;
  c["experiment"]["rollout"]["rate"] = 10;
  c["experiment"]["rollout"]["n"] = 10;
  c["algo"]["actor_layer_dims"] = nlohmann::json::array();
  c["algo"]["rnn"]["enabled"] = true;
  c["algo"]["gmm"]["enabled"] = true;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_bc_rnn: " << e.what() << "\n";
  return 1;
}
