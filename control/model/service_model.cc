#include "control/model/service_model.h"

#include <algorithm>

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
  auto it = slices_by_service.find(svc);
  if (it == slices_by_service.end()) return out;
  for (const EndpointSliceKey& k : it->second) out.push_back(&slices.at(k));
  return out;
}

void ServiceState::EraseSlice(const EndpointSliceKey& key) {
  auto it = slices.find(key);
  if (it == slices.end()) return;
  const ServiceKey owner{key.ns, it->second.service_name};
  std::vector<EndpointSliceKey>& keys = slices_by_service[owner];
  keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
  if (keys.empty()) slices_by_service.erase(owner);
  slices.erase(it);
}

void ServiceState::PutSlice(EndpointSliceModel slice) {
  const EndpointSliceKey key = slice.key;
  EraseSlice(key);
  std::vector<EndpointSliceKey>& keys = slices_by_service[ServiceKey{key.ns, slice.service_name}];
  keys.insert(std::lower_bound(keys.begin(), keys.end(), key), key);
  slices.emplace(key, std::move(slice));
}

}  // namespace nodeplane::ctl
