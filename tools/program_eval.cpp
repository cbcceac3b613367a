// `mimic eval`, `mimic import` and `mimic export`.
#include "commands/algorithms.hpp"
#include "commands/import.hpp"
#include "commands/program.hpp"
#include "commands/train.hpp"

namespace mimic::cli::program {

int eval(const Flags& flags) { return cli::eval(flags, program_algorithms(), env::builtin_envs()); }
int import_checkpoint(const Flags& flags) {
  return cli::import_checkpoint(flags, program_algorithms());
}
int export_checkpoint(const Flags& flags) {
  return cli::export_checkpoint(flags, program_algorithms());
}

}  // namespace mimic::cli::program
