// NetworkPolicy judged directly on the desired state, naming the policies involved: what
// `nodeplanectl explain` shows. It reads the model rule by rule (slow, and independent of the
// compiled identities and allow-sets of policy_compile.h, which tests compare it with).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/model/desired_state.h"

namespace nodeplane::ctl {

struct DirectionVerdict {
  std::optional<PodKey> pod;         // the deciding local pod; unset: not judged on this node
  std::vector<PolicyKey> isolating;  // policies isolating it in this direction
  std::vector<PolicyKey> allowing;   // those admitting the connection
  bool allowed = true;
  std::string reason;
};

struct Explanation {
  std::optional<PodKey> src_pod, dst_pod;
  DirectionVerdict egress, ingress;
  bool allowed = true;
};

// The pod with this address, if any.
const PodModel* PodByIp(const DesiredState& state, Ip4 ip);

// A connection src → dst:port/protocol (post-DNAT) as the policy stage judges it on this node.
Explanation ExplainConnection(const DesiredState& state, Ip4 src, Ip4 dst, L4Protocol protocol,
                              uint16_t port);
// The same for any IP protocol: nullopt is one other than TCP, UDP and SCTP (only rules without
// ports admit it).
Explanation ExplainConnection(const DesiredState& state, Ip4 src, Ip4 dst,
                              std::optional<L4Protocol> protocol, uint16_t port);

}  // namespace nodeplane::ctl
