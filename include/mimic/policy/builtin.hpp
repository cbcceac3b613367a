#pragma once
// mimic's built-in algorithms: BC, BC-RNN, BC-Transformer and BC-VAE (robomimic's "bc"), Diffusion
// Policy (UNet or transformer), Implicit BC, robomimic's offline RL algorithms TD3-BC, IQL,
// BCQ and CQL, and its hierarchical ones GL, HBC and IRIS. A user's algorithm is one more `add` on
// the registry this returns (README: Adding an algorithm).
#include "mimic/policy/bc/spec.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/diffusion/spec.hpp"
#include "mimic/policy/hierarchical/spec.hpp"
#include "mimic/policy/ibc/spec.hpp"
#include "mimic/policy/offline/spec.hpp"

namespace mimic::policy {

inline AlgorithmRegistry builtin_algorithms() {
  AlgorithmRegistry r;
  r.add(bc_spec());
  r.add(bc_rnn_spec());
  r.add(bc_transformer_spec());
  r.add(bc_vae_spec());
  r.add(diffusion_policy_spec());
  r.add(diffusion_transformer_spec());
  r.add(ibc_spec());
  r.add(td3_bc_spec());
  r.add(iql_spec());
  r.add(bcq_spec());
  r.add(cql_spec());
  r.add(gl_spec());
  r.add(hbc_spec());
  r.add(iris_spec());
  return r;
}

}  // namespace mimic::policy
