#pragma once
// `mimic import --from robomimic CKPT.pth --output OUT.safetensors`: a checkpoint of another
// framework as a mimic checkpoint that `mimic eval` and policy_from_checkpoint run.
// `mimic export --to robomimic IN.safetensors --output model.pth`: the reverse, a checkpoint
// robomimic 0.3.0's policy_from_checkpoint loads.
#include <iostream>
#include <string>

#include "commands/flags.hpp"
#include "mimic/interop/robomimic_checkpoint.hpp"
#include "mimic/interop/robomimic_export.hpp"

namespace mimic::cli {

inline int import_checkpoint(const Flags& flags, const policy::AlgorithmRegistry& algorithms) {
  flags.check_known({"from", "input", "output"});
  const std::string from = flags.require("from");
  if (from != "robomimic")
    throw ValueError("--from: expected robomimic (a robomimic 0.3.0 .pth checkpoint), got '" +
                     from + "'");
  if (!flags.has("input"))
    throw ValueError(
        "missing the checkpoint: mimic import --from robomimic CKPT.pth --output "
        "OUT.safetensors");
  const std::string input = flags.get("input"), output = flags.require("output");
  const interop::ImportedPolicy p = interop::import_robomimic_policy(input, algorithms);
  interop::save_imported(p, input, output);
  std::cout << "wrote " << output << ": robomimic " << p.config.value("algo_name", "") << " as "
            << p.policy->algo_name() << ", " << p.tensors << " tensors, "
            << p.policy->parameter_count() << " parameters";
  if (p.env_args.is_object() && p.env_args.contains("env_name"))
    std::cout << ", environment " << p.env_args.value("env_name", std::string());
  std::cout << "\n";
  return 0;
}

inline int export_checkpoint(const Flags& flags, const policy::AlgorithmRegistry& algorithms) {
  flags.check_known({"to", "input", "output"});
  const std::string to = flags.require("to");
  if (to != "robomimic")
    throw ValueError("--to: expected robomimic (a robomimic 0.3.0 .pth checkpoint), got '" + to +
                     "'");
  if (!flags.has("input"))
    throw ValueError(
        "missing the checkpoint: mimic export --to robomimic IN.safetensors --output "
        "model.pth");
  const std::string input = flags.get("input"), output = flags.require("output");
  const interop::RobomimicExport e =
      interop::export_robomimic_checkpoint(input, output, algorithms);
  std::cout << "wrote " << output << ": mimic " << e.algorithm << " as robomimic bc, " << e.tensors
            << " tensors\n";
  return 0;
}

}  // namespace mimic::cli
