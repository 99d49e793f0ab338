#include "control/model/from_proto.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "control/model/field_errors.h"

namespace nodeplane::ctl {
namespace {

bool LooksLikeIp6(const std::string& text) { return text.find(':') != std::string::npos; }

absl::StatusOr<Ip4Prefix> PrefixFromString(const std::string& text, const std::string& field) {
  const auto p = Ip4Prefix::Parse(text);
  if (!p) {
    if (LooksLikeIp6(text)) {
      return absl::UnimplementedError(absl::StrCat(field, ": IPv6 is not supported yet: ", text));
    }
    return Invalid(field, "not an IPv4 prefix (a.b.c.d/len, no host bits): \"" + text + "\"");
  }
  return *p;
}

absl::StatusOr<L4Protocol> ProtocolFromProto(v1::Protocol p, const std::string& field) {
  switch (p) {
    case v1::PROTOCOL_UNSPECIFIED:
    case v1::TCP:
      return L4Protocol::kTcp;
    case v1::UDP:
      return L4Protocol::kUdp;
    case v1::SCTP:
      return L4Protocol::kSctp;
    default:
      return Invalid(field, "unknown protocol " + std::to_string(static_cast<int>(p)));
  }
}

// An address a VTEP can have: unicast, not 0.0.0.0, loopback, multicast or broadcast.
bool IsUnicastHost(Ip4 ip) {
  const uint32_t h = ip.host();
  return h != 0 && (h >> 24) != 127 && (h >> 28) < 14;  // 224/4 multicast, 240/4 and broadcast
}

absl::StatusOr<uint32_t> VniFromProto(uint32_t vni, const std::string& field) {
  if (vni > kMaxVni) {
    return Invalid(field, absl::StrCat("must be 1..", kMaxVni, " (0: default), got ", vni));
  }
  return vni;
}

absl::StatusOr<uint16_t> PortFromProto(uint32_t port, const std::string& field) {
  if (port > 65535) return Invalid(field, absl::StrCat("must be 1..65535 (0: 4789), got ", port));
  return static_cast<uint16_t>(port);
}

// "" → unset; otherwise a unicast MAC "aa:bb:cc:dd:ee:ff".
absl::StatusOr<std::optional<Mac>> MacFromProto(const std::string& text, const std::string& field) {
  if (text.empty()) return std::optional<Mac>();
  const auto mac = Mac::Parse(text);
  if (!mac) return Invalid(field, "not a MAC address (aa:bb:cc:dd:ee:ff): \"" + text + "\"");
  if (!mac->IsUnicast()) return Invalid(field, "must be a unicast MAC address: \"" + text + "\"");
  return std::optional<Mac>(*mac);
}

// Pod CIDRs of one node: valid prefixes that do not overlap each other.
absl::StatusOr<std::vector<Ip4Prefix>> PodCidrsFromProto(
    const google::protobuf::RepeatedPtrField<std::string>& cidrs, const std::string& field) {
  std::vector<Ip4Prefix> out;
  for (int i = 0; i < cidrs.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    auto p = PrefixFromString(cidrs[i], f);
    if (!p.ok()) return p.status();
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].Overlaps(*p)) {
        return Invalid(f, absl::StrCat(p->ToString(), " overlaps ", field, "[", j, "] ",
                                       out[j].ToString()));
      }
    }
    out.push_back(*p);
  }
  return out;
}

}  // namespace

absl::StatusOr<Ip4> Ip4FromString(const std::string& text, const std::string& field) {
  const auto ip = Ip4::Parse(text);
  if (!ip) {
    if (LooksLikeIp6(text)) {
      return absl::UnimplementedError(absl::StrCat(field, ": IPv6 is not supported yet: ", text));
    }
    return Invalid(field, "not an IPv4 address: \"" + text + "\"");
  }
  return *ip;
}

absl::StatusOr<NodeModel> NodeFromProto(const v1::Node& node, const std::string& field) {
  NodeModel m;
  if (!IsDns1123(node.name(), 253, true)) {
    return Invalid(Sub(field, "name"), "must be a DNS subdomain: \"" + node.name() + "\"");
  }
  m.name = node.name();
  for (int i = 0; i < node.addresses_size(); ++i) {
    const std::string f = absl::StrCat(Sub(field, "addresses"), "[", i, "]");
    const std::string& text = node.addresses(i);
    // A bare address is accepted and means /32; an address with a length keeps its host bits.
    const size_t slash = text.find('/');
    auto ip = Ip4FromString(text.substr(0, slash), f);
    if (!ip.ok()) return ip.status();
    uint8_t len = 32;
    if (slash != std::string::npos) {
      const std::string l = text.substr(slash + 1);
      if (l.empty() || l.size() > 2 || l.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(l) > 32) {
        return Invalid(f, "bad prefix length: \"" + text + "\"");
      }
      len = static_cast<uint8_t>(std::stoi(l));
    }
    m.addresses.push_back(Ip4Prefix{*ip, len});
  }
  for (int i = 0; i < node.pod_cidrs_size(); ++i) {
    auto p = PrefixFromString(node.pod_cidrs(i), absl::StrCat(Sub(field, "pod_cidrs"), "[", i, "]"));
    if (!p.ok()) return p.status();
    m.pod_cidrs.push_back(*p);
  }
  auto gw = Ip4FromString(node.pod_gateway().empty() ? kDefaultPodGateway : node.pod_gateway(),
                          Sub(field, "pod_gateway"));
  if (!gw.ok()) return gw.status();
  m.pod_gateway = *gw;
  // The VTEP must be one of the node's addresses: the host kernel behind the exception port owns
  // them, and answers the underlay's ARP for them.
  if (!node.vtep_address().empty()) {
    auto vtep = Ip4FromString(node.vtep_address(), Sub(field, "vtep_address"));
    if (!vtep.ok()) return vtep.status();
    bool listed = false;
    for (const Ip4Prefix& a : m.addresses) listed = listed || a.addr == *vtep;
    if (!listed) {
      return Invalid(Sub(field, "vtep_address"),
                     "must be one of the node's addresses: \"" + node.vtep_address() + "\"");
    }
    m.vtep = *vtep;
  } else if (!m.addresses.empty()) {
    m.vtep = m.addresses.front().addr;
  }
  const std::string vx = Sub(field, "vxlan");
  auto vni = VniFromProto(node.vxlan().vni(), vx + ".vni");
  if (!vni.ok()) return vni.status();
  m.vni = *vni != 0 ? *vni : kDefaultVni;
  auto port = PortFromProto(node.vxlan().udp_port(), vx + ".udp_port");
  if (!port.ok()) return port.status();
  m.vxlan_port = *port != 0 ? *port : kDefaultVxlanPort;
  auto mac = MacFromProto(node.vxlan().vtep_mac(), vx + ".vtep_mac");
  if (!mac.ok()) return mac.status();
  m.vtep_mac = mac->value_or(kDefaultVtepMac);
  // The zone, for topology hints (control/compile/endpoint_selection.h).
  if (!IsLabelValue(node.zone())) {
    return Invalid(Sub(field, "zone"),
                   "not a label value (topology.kubernetes.io/zone): \"" + node.zone() + "\"");
  }
  m.zone = node.zone();
  return m;
}

absl::StatusOr<RemoteNodeModel> RemoteNodeFromProto(const v1::RemoteNode& node,
                                                    const std::string& field) {
  RemoteNodeModel m;
  if (!IsDns1123(node.name(), 253, true)) {
    return Invalid(Sub(field, "name"), "must be a DNS subdomain: \"" + node.name() + "\"");
  }
  m.name = node.name();
  auto underlay = Ip4FromString(node.underlay_address(), Sub(field, "underlay_address"));
  if (!underlay.ok()) return underlay.status();
  if (!IsUnicastHost(*underlay)) {
    return Invalid(Sub(field, "underlay_address"),
                   "must be a unicast address: \"" + node.underlay_address() + "\"");
  }
  m.underlay = *underlay;
  if (node.pod_cidrs_size() > kMaxPodCidrsPerNode) {
    return Invalid(Sub(field, "pod_cidrs"),
                   absl::StrCat(node.pod_cidrs_size(), " CIDRs; at most ", kMaxPodCidrsPerNode));
  }
  auto cidrs = PodCidrsFromProto(node.pod_cidrs(), Sub(field, "pod_cidrs"));
  if (!cidrs.ok()) return cidrs.status();
  m.pod_cidrs = std::move(*cidrs);
  auto vni = VniFromProto(node.vni(), Sub(field, "vni"));
  if (!vni.ok()) return vni.status();
  m.vni = *vni;
  auto port = PortFromProto(node.udp_port(), Sub(field, "udp_port"));
  if (!port.ok()) return port.status();
  m.udp_port = *port;
  auto mac = MacFromProto(node.vtep_mac(), Sub(field, "vtep_mac"));
  if (!mac.ok()) return mac.status();
  m.vtep_mac = *mac;
  return m;
}

absl::StatusOr<PodKey> PodKeyFromProto(const v1::PodKey& key, const std::string& field) {
  if (!IsDns1123(key.namespace_(), 63, false)) {
    return Invalid(Sub(field, "namespace"), "must be a DNS label: \"" + key.namespace_() + "\"");
  }
  if (!IsDns1123(key.name(), 253, true)) {
    return Invalid(Sub(field, "name"), "must be a DNS subdomain: \"" + key.name() + "\"");
  }
  return PodKey{key.namespace_(), key.name()};
}

absl::StatusOr<PodModel> PodFromProto(const v1::Pod& pod, const std::string& field) {
  PodModel m;
  auto key = PodKeyFromProto(pod.key(), Sub(field, "key"));
  if (!key.ok()) return key.status();
  m.key = *key;
  if (pod.ips_size() > 1) {
    return absl::UnimplementedError(Sub(field, "ips") + ": one IPv4 address per pod (dual-stack is not supported yet)");
  }
  for (int i = 0; i < pod.ips_size(); ++i) {
    auto ip = Ip4FromString(pod.ips(i), absl::StrCat(Sub(field, "ips"), "[", i, "]"));
    if (!ip.ok()) return ip.status();
    m.ips.push_back(*ip);
  }
  if (pod.labels_size() > kMaxLabelsPerObject) return Invalid(Sub(field, "labels"), "too many labels");
  for (const auto& [k, v] : pod.labels()) {
    if (k.empty() || k.size() > 316 || v.size() > 63) {
      return Invalid(Sub(field, "labels"), "bad label \"" + k + "\"");
    }
    m.labels.emplace(k, v);
  }
  m.node_name = pod.node_name();
  std::set<std::string> names;
  for (int i = 0; i < pod.ports_size(); ++i) {
    const std::string f = absl::StrCat(Sub(field, "ports"), "[", i, "]");
    const v1::ContainerPort& p = pod.ports(i);
    if (p.port() == 0 || p.port() > 65535) {
      return Invalid(f + ".port", "must be 1..65535, got " + std::to_string(p.port()));
    }
    auto proto = ProtocolFromProto(p.protocol(), f + ".protocol");
    if (!proto.ok()) return proto.status();
    if (!p.name().empty() && !names.insert(p.name()).second) {
      return Invalid(f + ".name", "duplicate port name \"" + p.name() + "\"");
    }
    m.ports.push_back(ContainerPort{p.name(), static_cast<uint16_t>(p.port()), *proto});
  }
  return m;
}

v1::PodKey PodKeyToProto(const PodKey& key) {
  v1::PodKey k;
  k.set_namespace_(key.ns);
  k.set_name(key.name);
  return k;
}

v1::Node NodeToProto(const NodeModel& node) {
  v1::Node n;
  n.set_name(node.name);
  for (const Ip4Prefix& a : node.addresses) n.add_addresses(a.ToString());
  for (const Ip4Prefix& c : node.pod_cidrs) n.add_pod_cidrs(c.ToString());
  n.set_pod_gateway(node.pod_gateway.ToString());
  // Overlay settings only where they differ from the defaults, so a Node reads back as written.
  const bool default_vtep =
      node.addresses.empty() ? node.vtep == Ip4{} : node.vtep == node.addresses.front().addr;
  if (!default_vtep) n.set_vtep_address(node.vtep.ToString());
  if (node.vni != kDefaultVni) n.mutable_vxlan()->set_vni(node.vni);
  if (node.vxlan_port != kDefaultVxlanPort) n.mutable_vxlan()->set_udp_port(node.vxlan_port);
  if (node.vtep_mac != kDefaultVtepMac) n.mutable_vxlan()->set_vtep_mac(node.vtep_mac.ToString());
  n.set_zone(node.zone);
  return n;
}

v1::RemoteNode RemoteNodeToProto(const RemoteNodeModel& node) {
  v1::RemoteNode n;
  n.set_name(node.name);
  n.set_underlay_address(node.underlay.ToString());
  for (const Ip4Prefix& c : node.pod_cidrs) n.add_pod_cidrs(c.ToString());
  n.set_vni(node.vni);
  n.set_udp_port(node.udp_port);
  if (node.vtep_mac) n.set_vtep_mac(node.vtep_mac->ToString());
  return n;
}

v1::Pod PodToProto(const PodModel& pod) {
  v1::Pod p;
  *p.mutable_key() = PodKeyToProto(pod.key);
  for (const Ip4& ip : pod.ips) p.add_ips(ip.ToString());
  for (const auto& [k, v] : pod.labels) (*p.mutable_labels())[k] = v;
  p.set_node_name(pod.node_name);
  for (const ContainerPort& cp : pod.ports) {
    v1::ContainerPort* out = p.add_ports();
    out->set_name(cp.name);
    out->set_port(cp.port);
    out->set_protocol(static_cast<v1::Protocol>(cp.protocol));
  }
  return p;
}

v1::PodAttachment AttachmentToProto(const Attachment& att) {
  v1::PodAttachment a;
  *a.mutable_key() = PodKeyToProto(att.key);
  a.set_netns(att.netns);
  a.set_interface(att.ifname);
  a.set_mac(att.mac.ToString());
  a.set_mtu(att.mtu);
  a.set_port_id(att.port_id);
  return a;
}

}  // namespace nodeplane::ctl
