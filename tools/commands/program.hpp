#pragma once
// The `mimic` program's commands over its own registries (built-in algorithms, with their CUDA
// builders where nvcc built them, and built-in environments). Each group is compiled in a
// translation unit of its own (tools/program_*.cpp), so that the policy-heavy train and eval
// builds run in parallel and no single file needs minutes and gigabytes to compile.
#include <string>
#include <vector>

#include "commands/flags.hpp"

namespace mimic::cli::program {

int dataset_info(const Flags& flags);     // program_data.cpp
int split_train_val(const Flags& flags);  // program_data.cpp
int convert(const Flags& flags);          // program_data.cpp, with MIMIC_CLI_CONVERT
const char* convert_usage();
std::vector<std::string> convert_args(std::vector<std::string> args);  // its positional store
int generate_demos(const Flags& flags);                                // program_envs.cpp
int playback(const Flags& flags);                                      // program_envs.cpp
int train(const Flags& flags);                                         // program_train.cpp
int generate_configs(const Flags& flags);                              // program_train.cpp
int eval(const Flags& flags);                                          // program_eval.cpp
int import_checkpoint(const Flags& flags);                             // program_eval.cpp
int export_checkpoint(const Flags& flags);                             // program_eval.cpp

}  // namespace mimic::cli::program
