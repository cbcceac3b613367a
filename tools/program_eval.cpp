// `mimic eval`.
#include "commands/algorithms.hpp"
#include "commands/program.hpp"
#include "commands/train.hpp"

namespace mimic::cli::program {

int eval(const Flags& flags) { return cli::eval(flags, program_algorithms(), env::builtin_envs()); }

}  // namespace mimic::cli::program
