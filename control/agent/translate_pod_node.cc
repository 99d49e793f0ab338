// Namespace, Pod and Node.
#include <cctype>

#include "control/agent/translate.h"

namespace nodeplane::agent {
namespace {

bool IsMac(const std::string& s) {
  if (s.size() != 17) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2 ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

using detail::Guard;

absl::StatusOr<v1::Namespace> NamespaceFromJson(const Json& object) {
  return Guard(Kind::kNamespace, object, [&] {
    JsonField meta = JsonField(object, "")["metadata"];
    v1::Namespace ns;
    ns.set_name(meta.RequiredStr("name"));
    for (const auto& [k, v] : meta.StrMap("labels")) (*ns.mutable_labels())[k] = v;
    // The API server sets this label on every namespace (1.21+); manifests usually omit it, and
    // namespaceSelectors rely on it.
    (*ns.mutable_labels())["kubernetes.io/metadata.name"] = ns.name();
    return ns;
  });
}

absl::StatusOr<std::optional<v1::Pod>> PodFromJson(const Json& object) {
  return Guard(Kind::kPod, object, [&]() -> std::optional<v1::Pod> {
    JsonField root(object, "");
    JsonField meta = root["metadata"];
    JsonField spec = root["spec"];
    JsonField status = root["status"];
    v1::Pod pod;
    pod.mutable_key()->set_namespace_(meta.Str("namespace", "default"));
    pod.mutable_key()->set_name(meta.RequiredStr("name"));
    for (const auto& [k, v] : meta.StrMap("labels")) (*pod.mutable_labels())[k] = v;
    pod.set_node_name(spec.Str("nodeName"));
    for (const JsonField& c : spec["containers"].Items()) {
      for (const JsonField& p : c["ports"].Items()) {
        v1::ContainerPort* port = pod.add_ports();
        port->set_name(p.Str("name"));
        port->set_port(static_cast<uint32_t>(p.Int("containerPort", 1, 65535)));
        if (!p.Has("containerPort")) p["containerPort"].Fail("required");
        port->set_protocol(detail::ProtocolOf(p, "protocol"));
      }
    }
    std::vector<std::string> ips;
    for (const JsonField& ip : status["podIPs"].Items()) ips.push_back(ip.RequiredStr("ip"));
    if (ips.empty() && status.Has("podIP")) ips.push_back(status.Str("podIP"));
    for (size_t i = 0; i < ips.size(); ++i) {
      if (detail::IsIpv4(ips[i])) {
        pod.add_ips(ips[i]);
      } else if (!detail::IsIpv6(ips[i])) {
        status["podIPs"].Items().empty()
            ? status["podIP"].Fail("not an IP address: \"" + ips[i] + "\"")
            : status["podIPs"].Items()[i]["ip"].Fail("not an IP address: \"" + ips[i] + "\"");
      }
    }
    // Pods on the host's network use the node's address: nothing to route to them. Finished pods
    // have released their address (it may be reused), pending ones have none yet.
    const std::string phase = status.Str("phase");
    if (spec.Bool("hostNetwork", false) || phase == "Succeeded" || phase == "Failed" ||
        pod.ips().empty()) {
      return std::nullopt;
    }
    return pod;
  });
}

absl::StatusOr<KubeNode> NodeFromJson(const Json& object) {
  return Guard(Kind::kNode, object, [&] {
    JsonField root(object, "");
    KubeNode node;
    node.name = root["metadata"].RequiredStr("name");
    for (const JsonField& a : root["status"]["addresses"].Items()) {
      const std::string type = a.Str("type");
      const std::string address = a.Str("address");
      if (type != "InternalIP" && type != "ExternalIP") continue;
      if (!detail::IsIpv4(address)) {
        if (detail::IsIpv6(address)) continue;
        a["address"].Fail("not an IP address: \"" + address + "\"");
      }
      if (type == "InternalIP" && node.internal_ip.empty()) node.internal_ip = address;
      node.addresses.push_back(address);
    }
    const auto labels = root["metadata"].StrMap("labels");
    if (auto it = labels.find("topology.kubernetes.io/zone"); it != labels.end()) node.zone = it->second;
    const auto annotations = root["metadata"].StrMap("annotations");
    if (auto it = annotations.find("nodeplane.io/vtep-mac"); it != annotations.end()) {
      node.vtep_mac = it->second;
    } else if (auto f = annotations.find("flannel.alpha.coreos.com/backend-data");
               f != annotations.end()) {
      // Flannel's vxlan backend publishes each node's VTEP MAC here: a Flannel node is a peer.
      const Json data = Json::parse(f->second, nullptr, false);
      if (data.is_object() && data.contains("VtepMAC") && data["VtepMAC"].is_string()) {
        node.vtep_mac = data["VtepMAC"].get<std::string>();
      }
    }
    if (!node.vtep_mac.empty() && !IsMac(node.vtep_mac)) {
      root["metadata"]["annotations"].Fail("not a MAC address: \"" + node.vtep_mac + "\"");
    }
    JsonField spec = root["spec"];
    std::vector<std::string> cidrs = spec.StrList("podCIDRs");
    if (cidrs.empty() && spec.Has("podCIDR")) cidrs.push_back(spec.Str("podCIDR"));
    for (size_t i = 0; i < cidrs.size(); ++i) {
      JsonField f = spec.Has("podCIDRs") ? spec["podCIDRs"].Items()[i] : spec["podCIDR"];
      detail::CheckCidr(f, cidrs[i]);
      if (detail::IsIpv4(cidrs[i].substr(0, cidrs[i].find('/')))) node.pod_cidrs.push_back(cidrs[i]);
    }
    return node;
  });
}

}  // namespace nodeplane::agent
