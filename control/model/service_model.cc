#include "control/model/service_model.h"

namespace nodeplane::ctl {

bool ServiceModel::Proxied() const {
  return type != ServiceType::kExternalName && !headless && !labels.contains(kServiceProxyNameLabel) &&
         !labels.contains(kHeadlessLabel);
}

bool ServiceModel::ExternallyAccessible() const {
  for (const ServicePortModel& p : ports) {
    if (p.node_port != 0) return true;
  }
  return !external_ips.empty() || !load_balancer_ips.empty();
}

std::vector<const EndpointSliceModel*> ServiceState::SlicesOf(const ServiceKey& svc) const {
  std::vector<const EndpointSliceModel*> out;
  for (auto it = slices.lower_bound(EndpointSliceKey{svc.ns, ""});
       it != slices.end() && it->first.ns == svc.ns; ++it) {
    if (it->second.service_name == svc.name) out.push_back(&it->second);
  }
  return out;
}

}  // namespace nodeplane::ctl
