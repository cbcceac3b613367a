// The fused attention op: finite-difference gradients in double (causal, cross, shifted causal
// with key padding, dropout with a fixed stream), its dropout equal to composing softmax, dropout
// and bmm with the same stream, and its errors. Values against PyTorch: tests/golden.
#include "mimic/ops/attention.hpp"
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::TensorD;
using testing::VarD;
using Vars = std::vector<VarD>;
using Options = ops::AttentionOptions<double, Cpu>;

void check_attention(const char* name, Shape q, Shape kv, Options o) {
  expect_gradients_match(
      name,
      [&](TapeD&, const Vars& v) {
        Options call = o;
        PhiloxStream rng{7, 0};  // the same dropout mask at every evaluation
        call.rng = &rng;
        return ops::attention(v[0], v[1], v[2], call);
      },
      {random_tensor(q, 1, -2, 2), random_tensor(kv, 2, -2, 2), random_tensor(kv, 3)});
}

TEST(GradCheck, AttentionCausalSelf) {
  Options o;
  o.causal = true;
  check_attention("attention_causal", {2, 3, 5, 4}, {2, 3, 5, 4}, o);
}
TEST(GradCheck, AttentionCrossWithoutMask) {
  check_attention("attention_cross", {1, 2, 4, 3}, {1, 2, 6, 3}, Options{});
}
TEST(GradCheck, AttentionShiftedCausalWithKeyPadding) {
  Options o;
  o.causal = true;
  o.causal_shift = 1;
  o.key_padding = TensorD::from_list({2, 3}, {0, 0, 0, 0, 0, 1});
  check_attention("attention_shift_padding", {2, 2, 4, 5}, {2, 2, 3, 5}, o);
}
TEST(GradCheck, AttentionWithDropoutWhileTraining) {
  Options o;
  o.causal = true;
  o.dropout = 0.3;
  o.training = true;
  check_attention("attention_dropout", {2, 2, 6, 3}, {2, 2, 6, 3}, o);
}

// Dropout inside the op is the dropout op on the probabilities, draw for draw.
TEST(Attention, DropoutEqualsComposedOpsOnTheSameStream) {
  const TensorD q = random_tensor({2, 2, 5, 4}, 1), k = random_tensor({2, 2, 5, 4}, 2),
                v = random_tensor({2, 2, 5, 4}, 3);
  TapeD tape;
  Options o;
  o.dropout = 0.25;
  o.training = true;
  PhiloxStream fused_rng{11, 3}, composed_rng{11, 3};
  o.rng = &fused_rng;
  const VarD fused = ops::attention(tape.constant(q), tape.constant(k), tape.constant(v), o);
  const VarD scores = ops::matmul(tape.constant(q), ops::transpose(tape.constant(k), 2, 3)) * 0.5;
  const VarD composed = ops::matmul(
      ops::dropout(ops::softmax(scores, -1), 0.25, composed_rng, true), tape.constant(v));
  const std::vector<double> a = fused.value().to_vector(), b = composed.value().to_vector();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-12) << i;
  EXPECT_EQ(fused_rng.offset, composed_rng.offset);
}

TEST(Attention, BadShapesAndSettingsAreClearErrors) {
  TapeD tape;
  const VarD q = tape.constant(random_tensor({1, 2, 3, 4}, 1));
  const VarD k = tape.constant(random_tensor({1, 2, 5, 4}, 2));
  const VarD wrong = tape.constant(random_tensor({1, 2, 5, 3}, 3));
  EXPECT_THROW(ops::attention(q, k, wrong), ShapeError);
  EXPECT_THROW(ops::attention(q, wrong, wrong), ShapeError);
  Options pad;
  pad.key_padding = TensorD::zeros({1, 4});
  EXPECT_THROW(ops::attention(q, k, k, pad), ShapeError);
  Options drop;
  drop.dropout = 0.1;
  drop.training = true;
  EXPECT_THROW(ops::attention(q, k, k, drop), ValueError);  // no random stream
  drop.dropout = 1.0;
  EXPECT_THROW(ops::attention(q, k, k, drop), ValueError);
}

}  // namespace
}  // namespace mimic
