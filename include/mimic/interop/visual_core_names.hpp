#pragma once
// robomimic's VisualCore (robomimic 0.2 inside Diffusion Policy, 0.3 inside robomimic's own
// policies) under mimic's encoder names. The VisualCore lists its modules twice (backbone and
// pool, and again as nets.0 and nets.1 of its Sequential: the same tensors), keeps the spatial
// softmax's fixed coordinate grid as pos_x/pos_y buffers, and BatchNorm counts its batches; mimic
// keeps none of those. torchvision's ResNet children conv1, bn1, relu, maxpool, layer1..layer4
// are backbone.nets.0..7; the flatten is nets.2 and the linear layer nets.3.
#include <map>
#include <string>
#include <vector>

namespace mimic::interop {

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
    const std::string r = rest.substr(14);
    const size_t dot = r.find('.');
    static const std::map<std::string, std::string> kChild = {{"0", "conv1"},  {"1", "bn1"},
                                                              {"4", "layer1"}, {"5", "layer2"},
                                                              {"6", "layer3"}, {"7", "layer4"}};
    auto it = dot == std::string::npos ? kChild.end() : kChild.find(r.substr(0, dot));
    if (it != kChild.end()) return {true, "backbone." + it->second + r.substr(dot)};
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
    const std::string r = mine.substr(9);
    const size_t dot = r.find('.');
    static const std::map<std::string, std::string> kIndex = {{"conv1", "0"},  {"bn1", "1"},
                                                              {"layer1", "4"}, {"layer2", "5"},
                                                              {"layer3", "6"}, {"layer4", "7"}};
    auto it = dot == std::string::npos ? kIndex.end() : kIndex.find(r.substr(0, dot));
    if (it != kIndex.end()) {
      const std::string tail = it->second + r.substr(dot);
      return {"backbone.nets." + tail, "nets.0.nets." + tail};
    }
  }
  return {};
}

}  // namespace mimic::interop
