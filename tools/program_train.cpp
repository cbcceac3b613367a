// `mimic train` and `generate-configs`.
#include "commands/algorithms.hpp"
#include "commands/program.hpp"
#include "commands/train.hpp"

namespace mimic::cli::program {

int train(const Flags& flags) {
  return cli::train(flags, program_algorithms(), env::builtin_envs());
}
int generate_configs(const Flags& flags) {
  return cli::generate_configs(flags, program_algorithms());
}

}  // namespace mimic::cli::program
