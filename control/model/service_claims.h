// ServiceClaims: who holds each NodePort number (per protocol; health-check node ports count as
// TCP) and each VIP:port/protocol (cluster, external and load-balancer IPs). Two Services may not
// hold one. Kept up to date per Service by ServiceStore (control/model/service_store.h), so a
// change checks only the Services it carries instead of re-claiming every stored one.
// Services the proxy leaves alone (ServiceModel::Proxied() false) claim nothing. Pure C++.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "control/model/service_model.h"

namespace nodeplane::ctl {

class ServiceClaims {
 public:
  // Records every claim of `svc`. The first one another Service holds is an INVALID_ARGUMENT
  // naming `where`'s field ("services[1].ports[0].node_port") — or the Service itself when
  // `where` is empty (a stored Service) — and the Service holding it. On error the claims made
  // before it stay recorded: Release(svc) drops them.
  absl::Status Claim(const ServiceModel& svc, const std::string& where);
  // Drops every claim `svc` holds (claims of its key; others' are left alone).
  void Release(const ServiceModel& svc);

  size_t size() const { return node_ports_.size() + vips_.size(); }
  friend bool operator==(const ServiceClaims&, const ServiceClaims&) = default;

 private:
  std::map<std::pair<uint16_t, L4Protocol>, ServiceKey> node_ports_;
  std::map<std::tuple<Ip4, uint16_t, L4Protocol>, ServiceKey> vips_;
};

}  // namespace nodeplane::ctl
