// `mimic dataset-info`, `split-train-val` and `convert`.
#include "commands/dataset.hpp"
#include "commands/program.hpp"
#ifdef MIMIC_CLI_CONVERT
#include "commands/convert.hpp"
#endif

namespace mimic::cli::program {

int dataset_info(const Flags& flags) { return cli::dataset_info(flags); }
int split_train_val(const Flags& flags) { return cli::split_train_val(flags); }
#ifdef MIMIC_CLI_CONVERT
int convert(const Flags& flags) { return cli::convert(flags); }
const char* convert_usage() { return cli::kConvertUsage; }
std::vector<std::string> convert_args(std::vector<std::string> args) {
  return cli::convert_args(std::move(args));
}
#endif

}  // namespace mimic::cli::program
