// Which Service backends are another node's own address — a hostNetwork endpoint on a remote
// node — so that svc_lb SNATs traffic to them to this node's underlay address instead of its
// overlay one (dataplane/stages/svc_lb_decide.h SnatSource) and the connection stays on the
// underlay both ways. Compiled after CompileService, from the remote nodes' underlay addresses.
// Pure; no DPDK.
#pragma once
#include <map>
#include <set>
#include <string>

#include "control/compile/service_compile.h"
#include "control/model/desired_state.h"

namespace nodeplane::ctl {

// The remote nodes' underlay addresses (what a backend is compared with).
std::set<Ip4> RemoteNodeAddresses(const std::map<std::string, RemoteNodeModel>& remote_nodes);

// Sets ServiceBackendSpec::remote_node on every backend of `svc` at one of `addresses`.
void MarkRemoteNodeBackends(const std::set<Ip4>& addresses, CompiledService* svc);

}  // namespace nodeplane::ctl
