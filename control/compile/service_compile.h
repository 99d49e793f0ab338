// Services → service table entries: the one place a Service's addresses, ports, endpoints and
// policies become the keys and entries svc_lb reads (dataplane/tables/service_entry_spec.h).
// Per Service, so a change recompiles only the Service it touches. Pure; no DPDK.
//  - Keys: every cluster IP, external IP and load-balancer IP on each port; a NodePort on every
//    node address. Services the proxy leaves alone (ExternalName, headless, ignore labels) have
//    none.
//  - Backends: the endpoints of the Service's IPv4 slices, once each (address, port), the port
//    from the slice port named like the Service port, else the numeric targetPort, else the named
//    targetPort looked up in the endpoint's pod. Sets by endpoint selection, Maglev over each.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "control/model/desired_state.h"
#include "control/model/service_model.h"
#include "dataplane/tables/service_entry_spec.h"

namespace nodeplane::ctl {

// A Service port's ClientIP affinity key (ServiceEntrySpec::service_id). kube-proxy keeps affinity
// per Service port — its `recent` lists belong to the port's endpoint chains — shared by every
// address of that port (cluster IPs, external IPs, load-balancer IPs, NodePorts): a client's
// backend on port 80 must not decide its backend on port 443. The port is known by its name and
// protocol (kube-proxy's ServicePortName); its id stays while it exists.
struct ServicePortId {
  std::string name;
  L4Protocol protocol = L4Protocol::kTcp;
  uint32_t id = 0;
  friend bool operator==(const ServicePortId&, const ServicePortId&) = default;
};

struct CompiledService {
  std::map<dp::ServiceTableKey, dp::ServiceEntrySpec> entries;
  // Every backend any port may send to, with the IP protocol: what is flushed from conntrack
  // when it disappears.
  std::vector<std::pair<dp::ServiceTableKey, bool>> backends;  // {ip, port, proto}, local
  bool uses_named_ports = false;  // depends on pods' container ports
  std::vector<ServicePortId> port_ids;  // one per Service port, in svc.ports order
};

// `node` may be null (no node yet: no NodePorts, no local endpoints). `port_ids`: each port's
// affinity key, in svc.ports order (ServiceInstaller keeps them stable).
CompiledService CompileService(const ServiceModel& svc,
                               const std::vector<const EndpointSliceModel*>& slices,
                               const NodeModel* node, const std::map<PodKey, PodModel>& pods,
                               const std::vector<uint32_t>& port_ids);

uint8_t IpProtocolNumber(L4Protocol p);

}  // namespace nodeplane::ctl
