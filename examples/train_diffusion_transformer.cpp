// DP-T: Diffusion Policy with its transformer denoiser (TransformerForDiffusion, causal, the
// observations as memory tokens, DDIM-10 sampling, EMA) on Push-T demonstrations, with a
// transformer sized for a laptop CPU (4 layers of 128) and Diffusion Policy's Push-T optimizer.
//   train_diffusion_transformer [--debug] [--dataset pusht.hdf5] [--demos 50] [--epochs N]
//                               [--output_dir DIR]
#include "example_support.hpp"
#include "mimic/config/generate.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c =
      mimic::config::published_config("diffusion_policy_transformer", "pusht", "low_dim", "");
  c["experiment"]["name"] = "example_diffusion_transformer_pusht";
  const auto dataset = example::dataset_or_demos(args, "pusht");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["observation"]["modalities"]["obs"]["low_dim"] = {"obs"};
  c["train"]["batch_size"] = 64;
  c["train"]["num_epochs"] = 20;
  c["experiment"]["rollout"]["horizon"] = 300;
  c["experiment"]["rollout"]["rate"] = 20;
  c["experiment"]["rollout"]["n"] = 10;
  c["algo"]["transformer"]["n_layer"] = 4;
  c["algo"]["transformer"]["n_emb"] = 128;
  c["algo"]["ddpm"]["enabled"] = false;
  c["algo"]["ddim"]["enabled"] = true;
  c["algo"]["optim_params"]["policy"]["learning_rate"]["warmup_steps"] = 200;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_diffusion_transformer: " << e.what() << "\n";
  return 1;
}
