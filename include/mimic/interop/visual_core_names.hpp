#pragma once
// robomimic's VisualCore (robomimic 0.2 inside Diffusion Policy, 0.3 inside robomimic's own
// policies) under mimic's encoder names. The VisualCore lists its modules twice (backbone and
// pool, and again as nets.0 and nets.1 of its Sequential: the same tensors), keeps the spatial
// softmax's fixed coordinate grid as pos_x/pos_y buffers, and BatchNorm counts its batches; mimic
// keeps none of those. torchvision's ResNet children conv1, bn1, relu, maxpool, layer1..layer4
// are backbone.nets.0..7; the flatten is nets.2 and the linear layer nets.3.
#include <string>
#include <utility>
#include <vector>

namespace mimic::interop {

// torchvision's ResNet children as nn.Sequential indexes them, with mimic's names: the part of a
// backbone tensor name before its first dot, one way or the other ("" when unknown).
inline std::string resnet_child(const std::string& from, bool to_mimic) {
  static const std::pair<const char*, const char*> kChildren[] = {{"0", "conv1"},  {"1", "bn1"},
                                                                  {"4", "layer1"}, {"5", "layer2"},
                                                                  {"6", "layer3"}, {"7", "layer4"}};
  for (const auto& [index, name] : kChildren)
    if (from == (to_mimic ? index : name)) return to_mimic ? name : index;
  return "";
}
// A backbone tensor's name below the backbone ("4.0.conv1.weight" <-> "layer1.0.conv1.weight").
inline std::string resnet_tensor(const std::string& r, bool to_mimic) {
  const size_t dot = r.find('.');
  if (dot == std::string::npos) return "";
  const std::string child = resnet_child(r.substr(0, dot), to_mimic);
  return child.empty() ? "" : child + r.substr(dot);
}

struct VisualCoreName {
  bool keep = false;  // false: a copy or fixed buffer mimic does not keep
  std::string name;   // mimic's name below encoder.<key>.; empty when unknown
};

// `rest` is the tensor's name inside the VisualCore ("backbone.nets.4.0.conv1.weight").
inline VisualCoreName visual_core_name(const std::string& rest) {
  auto starts = [&](const std::string& p) { return rest.rfind(p, 0) == 0; };
  auto ends = [&](const std::string& s) {
    return rest.size() >= s.size() && rest.compare(rest.size() - s.size(), s.size(), s) == 0;
  };
  if (starts("nets.0.") || starts("nets.1.") || rest == "pool.pos_x" || rest == "pool.pos_y" ||
      ends(".num_batches_tracked"))
    return {false, ""};
  if (starts("nets.3.")) return {true, "linear." + rest.substr(7)};
  if (starts("pool.")) return {true, rest};
  if (starts("backbone.nets.")) {
    const std::string mine = resnet_tensor(rest.substr(14), true);
    if (!mine.empty()) return {true, "backbone." + mine};
  }
  return {true, ""};
}

// The other way: robomimic's names for a mimic encoder tensor (its name below encoder.<key>.),
// each module under both of the VisualCore's listings; empty when mimic's name has none.
inline std::vector<std::string> robomimic_visual_core_names(const std::string& mine) {
  auto starts = [&](const std::string& p) { return mine.rfind(p, 0) == 0; };
  if (starts("linear.")) return {"nets.3." + mine.substr(7)};
  if (starts("pool.")) return {mine, "nets.1." + mine.substr(5)};
  if (starts("backbone.")) {
    const std::string tail = resnet_tensor(mine.substr(9), false);
    if (!tail.empty()) return {"backbone.nets." + tail, "nets.0.nets." + tail};
  }
  return {};
}

}  // namespace mimic::interop
