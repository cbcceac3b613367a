// The `mimic` command-line tool: one subcommand per job, dispatched from a table.
#include <functional>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "commands/flags.hpp"
#include "commands/program.hpp"

namespace {

struct Command {
  const char* name;
  const char* usage;
  std::vector<std::string> booleans;
  std::function<int(const mimic::cli::Flags&)> run;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"dataset-info",
       "--dataset D [--filter_key K] [--verbose]",
       {"verbose"},
       mimic::cli::program::dataset_info},
      {"split-train-val",
       "--dataset D [--filter_key K] [--ratio 0.1] [--seed 0]",
       {},
       mimic::cli::program::split_train_val},
      {"generate-demos",
       "--env pusht|lift --n N --output FILE [--images] [--seed S] [--valid_ratio 0.1]",
       {"images"},
       mimic::cli::program::generate_demos},
#ifdef MIMIC_CLI_CONVERT
      {"convert", mimic::cli::program::convert_usage(), {}, mimic::cli::program::convert},
#endif
      {"playback",
       "--dataset D [--video_path P] [--n 5] [--use-actions] [--filter_key K] [--camera C]",
       {"use_actions"},
       mimic::cli::program::playback},
      {"generate-configs",
       "--output_dir DIR [--dataset_dir DIR]",
       {},
       mimic::cli::program::generate_configs},
      {"train",
       "--config F [--dataset D] [--name N] [--output_dir O] [--debug] [--resume]",
       {"debug", "resume"},
       mimic::cli::program::train},
      {"import",
       "--from robomimic|diffusion_policy|lerobot CKPT --output OUT.safetensors",
       {},
       mimic::cli::program::import_checkpoint},
      {"export",
       "--to robomimic IN.safetensors --output model.pth",
       {},
       mimic::cli::program::export_checkpoint},
      {"eval",
       "--agent CKPT [--n_rollouts 27] [--horizon H] [--env E] [--video_path P] [--video_skip 5] "
       "[--seed S] [--dataset_path OUT] [--n_envs 8] [--device cpu|cuda]",
       {},
       mimic::cli::program::eval},
  };
  return table;
}

void usage(std::ostream& out) {
  out << "usage: mimic <command> [flags]\n\ncommands:\n";
  for (const auto& c : commands()) out << "  " << c.name << " " << c.usage << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const auto& c : commands()) {
    if (name != c.name) continue;
    std::vector<std::string> args(argv + 2, argv + argc);
    if (name == "import" || name == "export") args = mimic::cli::positional_as_input(args);
#ifdef MIMIC_CLI_CONVERT
    if (name == "convert") args = mimic::cli::program::convert_args(args);
#endif
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::cout << "usage: mimic " << c.name << " " << c.usage << "\n";
      return 0;
    }
    try {
      return c.run(mimic::cli::Flags(args, c.booleans));
    } catch (const std::bad_alloc&) {
      std::cerr << "mimic " << name << ": error: out of memory (the dataset, cache or network is "
                << "larger than the free memory; try train.hdf5_cache_mode low_dim or none)\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "mimic " << name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "mimic: unknown command '" << name << "'\n";
  usage(std::cerr);
  return 2;
}
