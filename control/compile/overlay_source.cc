#include "control/compile/overlay_source.h"

namespace nodeplane::ctl {

Ip4 OverlaySourceAddress(const NodeModel& node) {
  if (node.pod_cidrs.empty() || node.pod_cidrs.front().len > 30) return Ip4{};
  const Ip4Prefix& c = node.pod_cidrs.front();
  const uint32_t mask = c.len == 0 ? 0 : ~uint32_t{0} << (32 - c.len);
  return Ip4::FromHost(c.addr.host() & mask);
}

Ip4 PublishedOverlaySource(const DesiredState& state, const RuntimePorts& ports) {
  if (!state.node || state.node->vtep == Ip4{} || !ports.uplink) return Ip4{};
  return OverlaySourceAddress(*state.node);
}

}  // namespace nodeplane::ctl
