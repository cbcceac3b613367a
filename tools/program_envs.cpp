// `mimic generate-demos` and `playback`.
#include "commands/generate_demos.hpp"
#include "commands/playback.hpp"
#include "commands/program.hpp"

namespace mimic::cli::program {

int generate_demos(const Flags& flags) { return cli::generate_demos(flags); }
int playback(const Flags& flags) { return cli::playback(flags); }

}  // namespace mimic::cli::program
