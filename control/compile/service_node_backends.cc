#include "control/compile/service_node_backends.h"

namespace nodeplane::ctl {

std::set<Ip4> RemoteNodeAddresses(const std::map<std::string, RemoteNodeModel>& remote_nodes) {
  std::set<Ip4> out;
  for (const auto& [name, node] : remote_nodes) out.insert(node.underlay);
  return out;
}

void MarkRemoteNodeBackends(const std::set<Ip4>& addresses, CompiledService* svc) {
  if (addresses.empty()) return;
  for (auto& [key, entry] : svc->entries) {
    for (dp::ServiceBackendSpec& b : entry.backends) {
      b.remote_node = addresses.contains(Ip4{b.ip_be});
    }
  }
}

}  // namespace nodeplane::ctl
