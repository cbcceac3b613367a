// Diffusion Policy (CNN UNet, DDPM training, DDIM-10 sampling, EMA) on Push-T demonstrations, with
// a UNet sized for a laptop CPU (down_dims 64-128-256).
//   train_diffusion_policy [--debug] [--dataset pusht.hdf5] [--demos 50] [--epochs N] [--output_dir
//   DIR]
#include "example_support.hpp"

int main(int argc, char** argv) try {
  const example::Args args = example::parse(argc, argv);
  nlohmann::json c = mimic::config::default_config("diffusion_policy");
  c["experiment"]["name"] = "example_diffusion_policy_pusht";
  const auto dataset = example::dataset_or_demos(args, "pusht");  // removed on exit
  c["train"]["data"] = dataset->path();
  c["observation"]["modalities"]["obs"]["low_dim"] = {"obs"};
  c["train"]["batch_size"] = 64;
  c["train"]["num_epochs"] = 20;
  c["experiment"]["rollout"]["horizon"] = 300;
  c["experiment"]["rollout"]["rate"] = 20;
  c["experiment"]["rollout"]["n"] = 10;
  c["algo"]["unet"]["down_dims"] = {64, 128, 256};
  c["algo"]["unet"]["diffusion_step_embed_dim"] = 64;
  c["algo"]["ddpm"]["enabled"] = false;
  c["algo"]["ddim"]["enabled"] = true;
  c["algo"]["optim_params"]["policy"]["learning_rate"]["initial"] = 5e-4;
  c["algo"]["optim_params"]["policy"]["learning_rate"]["warmup_steps"] = 200;
  return example::train_and_evaluate(c, args, 20);
} catch (const std::exception& e) {
  std::cerr << "train_diffusion_policy: " << e.what() << "\n";
  return 1;
}
