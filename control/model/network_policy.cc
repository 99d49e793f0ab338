#include "control/model/network_policy.h"

#include <algorithm>

namespace nodeplane::ctl {

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    const auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const LabelRequirement& r : match_expressions) {
    const auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool listed =
        has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Op::kIn:
        if (!listed) return false;
        break;
      case LabelRequirement::Op::kNotIn:  // an absent key is "not in"
        if (listed) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!has) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

bool IpBlockModel::Contains(const Ip4Prefix& p) const {
  auto covers = [](const Ip4Prefix& outer, const Ip4Prefix& inner) {
    return outer.len <= inner.len && outer.Contains(inner.addr);
  };
  if (!covers(cidr, p)) return false;
  for (const Ip4Prefix& e : except) {
    if (covers(e, p)) return false;
  }
  return true;
}

Labels DefaultNamespaceLabels(const std::string& name) { return {{kNamespaceNameLabel, name}}; }

}  // namespace nodeplane::ctl
