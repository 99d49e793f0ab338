#include "control/model/service_claims.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "control/model/field_errors.h"

namespace nodeplane::ctl {
namespace {

// The VIP lists of a Service with their field names, in the order they are checked.
std::vector<std::pair<const std::vector<Ip4>*, const char*>> VipLists(const ServiceModel& svc) {
  return {{&svc.cluster_ips, "cluster_ips"},
          {&svc.external_ips, "external_ips"},
          {&svc.load_balancer_ips, "load_balancer_ips"}};
}

}  // namespace

absl::Status ServiceClaims::Claim(const ServiceModel& svc, const std::string& where) {
  if (!svc.Proxied()) return absl::OkStatus();
  auto claim = [&](auto& table, const auto& k, const std::string& f, const std::string& what) {
    auto [it, fresh] = table.emplace(k, svc.key);
    if (fresh || it->second == svc.key) return absl::OkStatus();
    return Invalid(where.empty() ? svc.key.ToString() : f,
                   what + " is already used by Service " + it->second.ToString());
  };
  for (size_t j = 0; j < svc.ports.size(); ++j) {
    const ServicePortModel& p = svc.ports[j];
    const std::string pf = absl::StrCat(where, ".ports[", j, "]");
    const std::string proto = ProtocolName(p.protocol);
    if (p.node_port != 0) {
      absl::Status s = claim(node_ports_, std::make_pair(p.node_port, p.protocol),
                             pf + ".node_port", absl::StrCat("NodePort ", p.node_port, "/", proto));
      if (!s.ok()) return s;
    }
    for (const auto& [ips, name] : VipLists(svc)) {
      for (size_t k = 0; k < ips->size(); ++k) {
        const Ip4 ip = (*ips)[k];
        absl::Status s = claim(vips_, std::make_tuple(ip, p.port, p.protocol),
                               absl::StrCat(where, ".", name, "[", k, "]"),
                               absl::StrCat(ip.ToString(), ":", p.port, "/", proto));
        if (!s.ok()) return s;
      }
    }
  }
  if (svc.health_check_node_port != 0) {
    return claim(node_ports_, std::make_pair(svc.health_check_node_port, L4Protocol::kTcp),
                 where + ".health_check_node_port",
                 absl::StrCat("port ", svc.health_check_node_port, "/TCP"));
  }
  return absl::OkStatus();
}

void ServiceClaims::Release(const ServiceModel& svc) {
  auto drop = [&](auto& table, const auto& k) {
    auto it = table.find(k);
    if (it != table.end() && it->second == svc.key) table.erase(it);
  };
  for (const ServicePortModel& p : svc.ports) {
    if (p.node_port != 0) drop(node_ports_, std::make_pair(p.node_port, p.protocol));
    for (const auto& [ips, name] : VipLists(svc)) {
      for (Ip4 ip : *ips) drop(vips_, std::make_tuple(ip, p.port, p.protocol));
    }
  }
  if (svc.health_check_node_port != 0) {
    drop(node_ports_, std::make_pair(svc.health_check_node_port, L4Protocol::kTcp));
  }
}

}  // namespace nodeplane::ctl
