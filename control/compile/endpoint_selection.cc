#include "control/compile/endpoint_selection.h"

#include <algorithm>

namespace nodeplane::ctl {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool ServingTerminating(const SelectionEndpoint& e) { return e.serving && e.terminating; }

enum class Topology { kNone, kNode, kZone };

// Hints are used only when every ready endpoint carries them and one names this node (node hints,
// checked first) or this node's zone; otherwise they are ignored and all ready endpoints serve.
Topology TopologyMode(const std::vector<SelectionEndpoint>& eps, const NodeTopology& node) {
  bool all_node_hints = true, for_node = false, all_zone_hints = true, for_zone = false;
  bool any_ready = false;
  for (const SelectionEndpoint& e : eps) {
    if (!e.ready) continue;
    any_ready = true;
    if (e.node_hints.empty()) {
      all_node_hints = false;
    } else if (!node.name.empty() && Has(e.node_hints, node.name)) {
      for_node = true;
    }
    if (e.zone_hints.empty()) {
      all_zone_hints = false;
    } else if (!node.zone.empty() && Has(e.zone_hints, node.zone)) {
      for_zone = true;
    }
  }
  if (!any_ready) return Topology::kNone;
  if (all_node_hints && for_node) return Topology::kNode;
  if (all_zone_hints && for_zone) return Topology::kZone;
  return Topology::kNone;
}

template <typename Pred>
std::vector<size_t> Filter(const std::vector<SelectionEndpoint>& eps, Pred keep) {
  std::vector<size_t> out;
  for (size_t i = 0; i < eps.size(); ++i) {
    if (keep(eps[i])) out.push_back(i);
  }
  return out;
}

}  // namespace

EndpointSets CategorizeEndpoints(const std::vector<SelectionEndpoint>& eps,
                                 const SelectionPolicy& policy, const NodeTopology& node) {
  EndpointSets out;
  Topology topology = Topology::kNone;
  if (policy.UsesClusterEndpoints()) {
    topology = TopologyMode(eps, node);
    out.cluster = Filter(eps, [&](const SelectionEndpoint& e) {
      if (!e.ready) return false;
      if (topology == Topology::kNode) return Has(e.node_hints, node.name);
      if (topology == Topology::kZone) return Has(e.zone_hints, node.zone);
      return true;
    });
    // No ready endpoint (topology is off then): fall back to serving-and-terminating ones.
    if (out.cluster->empty()) out.cluster = Filter(eps, ServingTerminating);
    out.has_any = !out.cluster->empty();
  }
  if (!policy.UsesLocalEndpoints()) {
    out.all_reachable = out.cluster.value_or(std::vector<size_t>{});
    return out;
  }
  bool local_ready = false, local_terminating = false;
  for (const SelectionEndpoint& e : eps) {
    if (e.ready) {
      out.has_any = true;
      local_ready = local_ready || e.local;
    } else if (ServingTerminating(e)) {
      out.has_any = true;
      local_terminating = local_terminating || e.local;
    }
  }
  bool terminating_fallback = false;
  if (local_ready) {
    out.local = Filter(eps, [](const SelectionEndpoint& e) { return e.local && e.ready; });
  } else if (local_terminating) {
    terminating_fallback = true;
    out.local = Filter(eps, [](const SelectionEndpoint& e) { return e.local && ServingTerminating(e); });
  }
  if (!policy.UsesClusterEndpoints()) {
    out.all_reachable = out.local.value_or(std::vector<size_t>{});
    return out;
  }
  // Without topology and with only ready local endpoints, the cluster set holds every local one.
  if (topology == Topology::kNone && !terminating_fallback) {
    out.all_reachable = *out.cluster;
    return out;
  }
  out.all_reachable = *out.cluster;
  for (size_t i : out.local.value_or(std::vector<size_t>{})) {
    if (!std::binary_search(out.cluster->begin(), out.cluster->end(), i)) out.all_reachable.push_back(i);
  }
  std::sort(out.all_reachable.begin(), out.all_reachable.end());
  return out;
}

}  // namespace nodeplane::ctl
