#include "control/compile/policy_explain.h"

#include "control/compile/policy_compile.h"

namespace nodeplane::ctl {
namespace {

const Labels& NsLabels(const DesiredState& s, const std::string& ns, Labels& scratch) {
  if (auto it = s.namespaces.find(ns); it != s.namespaces.end()) return it->second.labels;
  scratch = DefaultNamespaceLabels(ns);
  return scratch;
}

bool PeerMatches(const DesiredState& s, const PolicyPeer& peer, const std::string& policy_ns,
                 Ip4 ip, const PodModel* pod) {
  if (peer.ip_block) return peer.ip_block->Contains(Ip4Prefix{ip, 32});
  if (pod == nullptr) return false;  // selectors select pods only
  if (peer.namespace_selector) {
    Labels scratch;
    if (!peer.namespace_selector->Matches(NsLabels(s, pod->key.ns, scratch))) return false;
  } else if (pod->key.ns != policy_ns) {
    return false;
  }
  return !peer.pod_selector || peer.pod_selector->Matches(pod->labels);
}

bool PortMatches(const PolicyPort& p, L4Protocol protocol, uint16_t port, const PodModel* dst) {
  if (p.protocol != protocol) return false;
  if (!p.name.empty()) {
    if (dst == nullptr) return false;
    for (const ContainerPort& cp : dst->ports) {
      if (cp.name == p.name && cp.protocol == protocol && cp.port == port) return true;
    }
    return false;
  }
  if (p.any_port) return true;
  return port >= p.port && port <= (p.end_port != 0 ? p.end_port : p.port);
}

// `protocol` empty: an IP protocol other than TCP/UDP/SCTP, admitted only by rules without ports.
bool RuleAdmits(const DesiredState& s, const PolicyRule& rule, const std::string& policy_ns,
                Ip4 peer_ip, const PodModel* peer_pod, std::optional<L4Protocol> protocol,
                uint16_t port, const PodModel* dst) {
  if (!rule.ports.empty()) {
    if (!protocol) return false;
    bool any = false;
    for (const PolicyPort& p : rule.ports) any = any || PortMatches(p, *protocol, port, dst);
    if (!any) return false;
  }
  if (rule.peers.empty()) return true;
  for (const PolicyPeer& peer : rule.peers) {
    if (PeerMatches(s, peer, policy_ns, peer_ip, peer_pod)) return true;
  }
  return false;
}

DirectionVerdict Judge(const DesiredState& s, const PodModel& local, bool ingress, Ip4 peer_ip,
                       const PodModel* peer, std::optional<L4Protocol> protocol, uint16_t port,
                       const PodModel* dst) {
  DirectionVerdict v;
  v.pod = local.key;
  for (const auto& [key, pol] : s.network_policies) {
    if (key.ns != local.key.ns || !(ingress ? pol.ingress : pol.egress)) continue;
    if (!pol.pod_selector.Matches(local.labels)) continue;
    v.isolating.push_back(key);
    for (const PolicyRule& rule : ingress ? pol.ingress_rules : pol.egress_rules) {
      if (RuleAdmits(s, rule, key.ns, peer_ip, peer, protocol, port, dst)) {
        v.allowing.push_back(key);
        break;
      }
    }
  }
  const char* dir = ingress ? "ingress" : "egress";
  if (v.isolating.empty()) {
    v.reason = std::string("not isolated for ") + dir + ": every connection is allowed";
  } else if (!v.allowing.empty()) {
    v.reason = std::string("isolated for ") + dir + ", and a rule allows this connection";
  } else {
    v.allowed = false;
    v.reason = std::string("isolated for ") + dir + ", and no rule of those policies allows this";
  }
  return v;
}

}  // namespace

const PodModel* PodByIp(const DesiredState& state, Ip4 ip) {
  for (const auto& [key, pod] : state.pods) {
    for (const Ip4& a : pod.ips) {
      if (a == ip) return &pod;
    }
  }
  return nullptr;
}

Explanation ExplainConnection(const DesiredState& state, Ip4 src, Ip4 dst, L4Protocol protocol,
                              uint16_t port) {
  return ExplainConnection(state, src, dst, std::optional<L4Protocol>(protocol), port);
}

Explanation ExplainConnection(const DesiredState& state, Ip4 src, Ip4 dst,
                              std::optional<L4Protocol> protocol, uint16_t port) {
  Explanation e;
  const PodModel* sp = PodByIp(state, src);
  const PodModel* dp = PodByIp(state, dst);
  if (sp) e.src_pod = sp->key;
  if (dp) e.dst_pod = dp->key;
  if (src == dst) {
    e.egress.reason = e.ingress.reason = "a pod's connection to itself is not subject to policy";
    return e;
  }
  if (sp && IsLocalPod(state, *sp)) {
    e.egress = Judge(state, *sp, /*ingress=*/false, dst, dp, protocol, port, dp);
  } else {
    e.egress.reason = "the source is no pod of this node: its egress is judged where it runs";
  }
  bool from_node = false;
  if (state.node) {
    for (const Ip4Prefix& a : state.node->addresses) from_node = from_node || a.addr == src;
  }
  if (dp && IsLocalPod(state, *dp)) {
    if (from_node) {
      e.ingress.pod = dp->key;
      e.ingress.reason = "from this node: a pod's own node always reaches it";
    } else {
      e.ingress = Judge(state, *dp, /*ingress=*/true, src, sp, protocol, port, dp);
    }
  } else {
    e.ingress.reason = "the destination is no pod of this node: its ingress is judged where it runs";
  }
  e.allowed = e.egress.allowed && e.ingress.allowed;
  return e;
}

}  // namespace nodeplane::ctl
