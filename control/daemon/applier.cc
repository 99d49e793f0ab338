#include "control/daemon/applier.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "control/compile/policy_compile.h"
#include "control/daemon/pod_link_names.h"
#include "control/model/from_proto.h"
#include "control/netns/pod_interface.h"

namespace nodeplane::ctl {

uint32_t DefaultPodMtu(const RuntimePorts& runtime) {
  if (!runtime.uplink) return 1500;
  const uint32_t mtu = runtime.uplink->mtu > dp::kVxlanEncapLen
                           ? runtime.uplink->mtu - dp::kVxlanEncapLen
                           : kMinPodMtu;
  return std::clamp(mtu, kMinPodMtu, kMaxPodMtu);
}

Applier::Applier(dp::Ports& ports, dp::Published<dp::Snapshot>& published, RuntimePorts runtime,
                 std::string host_ifname, PodPortType pod_port_type, dp::Fib* fib)
    : ports_(ports),
      published_(published),
      runtime_(std::move(runtime)),
      host_ifname_(std::move(host_ifname)),
      pod_port_type_(pod_port_type),
      fib_(fib) {
  if (runtime_.host) {
    host_routes_.emplace(HostPodRoutes::ThroughInterface(host_ifname_, DefaultPodMtu(runtime_)));
  }
}

absl::Status Applier::Start() {
  std::lock_guard lock(mu_);
  return CommitLocked(state_).status();
}

// The order of a commit (dataplane/tables/fib.h): remove routes the running snapshot may lose,
// wait out their lookups if a remote node leaves, publish, then add routes to the nodes the new
// snapshot brought. A route is never visible to a worker whose snapshot lacks its node.
absl::StatusOr<uint64_t> Applier::CommitLocked(DesiredState next) {
  if (absl::Status s = next.Check(); !s.ok()) return s;
  auto slots = AssignSlots(slots_, next.remote_nodes, dp::Fib::kMaxSlot);
  if (!slots.ok()) return slots.status();
  FibRoutes wanted = WantedRoutes(next.remote_nodes, *slots);
  if (fib_ != nullptr) {
    std::vector<Ip4Prefix> prefixes;
    for (const auto& [prefix, slot] : wanted) prefixes.push_back(prefix);
    std::string why;
    if (!fib_->Fits(prefixes, &why)) {
      return absl::ResourceExhaustedError("remote_nodes: pod_cidrs: " + why);
    }
  }
  dp::SnapshotSpec spec =
      CompileSnapshot(next, runtime_, generation_ + 1, neighbors_.Resolved(), *slots, &policy_cache_);
  // Established connections are re-checked against policy when this moves (DESIGN §5).
  uint32_t policy_gen = policy_generation_;
  if (policy_gen == 0 || PolicyInputsDiffer(state_, next)) policy_gen = policy_gen + 1 == 0 ? 1 : policy_gen + 1;
  spec.policy_generation = policy_gen;
  std::string error;
  std::unique_ptr<dp::Snapshot> snap = dp::BuildSnapshot(spec, fib_, &error);
  if (snap == nullptr) return absl::ResourceExhaustedError("dataplane tables: " + error);
  WireSnapshotLocked(*snap);
  auto services = services_.MakePlan(next);
  if (!services.ok()) return services.status();
  const FibPlan plan = PlanFibUpdate(fib_routes_, wanted, slots_, *slots);
  // Routes to the nodes this snapshot brings go in after it is published. Established connections
  // remember their route per snapshot (dataplane/core/ct_route.h), so the same tables follow under
  // a new epoch once those routes are in, and connections they re-route see them.
  std::unique_ptr<dp::Snapshot> rerouted;
  if (fib_ != nullptr && !plan.after_publish.empty()) {
    rerouted = dp::BuildSnapshot(spec, fib_, &error);
    if (rerouted == nullptr) return absl::ResourceExhaustedError("dataplane tables: " + error);
    WireSnapshotLocked(*rerouted);
  }
  // Nothing below can fail: the new state is valid, its tables exist and its routes fit.
  ApplyFibSteps(plan.before_publish);
  if (plan.grace_before_publish) published_.rcu().Synchronize();
  published_.Publish(std::move(snap));
  ApplyFibSteps(plan.after_publish);
  if (rerouted != nullptr) published_.Publish(std::move(rerouted));
  services_.Apply(std::move(*services));
  fib_routes_ = std::move(wanted);
  slots_ = std::move(*slots);
  state_ = std::move(next);
  UpdateHealthChecksLocked();
  policy_generation_ = policy_gen;
  last_spec_ = std::move(spec);
  ++generation_;
  if (worker_ack_) worker_ack_(generation_);
  return generation_;
}

// The long-lived tables and queues every snapshot points at (not owned by it).
void Applier::WireSnapshotLocked(dp::Snapshot& snap) const {
  snap.neighbor_events = neighbor_events_;
  snap.conntrack = conntrack_;
  snap.uplink_peers = uplink_peers_;
  snap.services = services_.table();
  snap.affinity = services_.affinity();
}

void Applier::ApplyFibSteps(const std::vector<FibStep>& steps) {
  if (fib_ == nullptr) return;
  for (const FibStep& step : steps) {
    std::string error;
    const bool ok = step.op == FibStep::Op::kSet ? fib_->Add(step.prefix, step.slot, &error)
                                                 : fib_->Delete(step.prefix, &error);
    // Fits() was checked and the plan only deletes what is installed: this is a bug, not input.
    if (!ok) std::fprintf(stderr, "nodeplaned: BUG: %s\n", error.c_str());
  }
}

void Applier::SetWorkerAck(std::function<void(uint64_t)> wait_until_running) {
  std::lock_guard lock(mu_);
  worker_ack_ = std::move(wait_until_running);
}

absl::Status Applier::ConfigureHostLocked(const NodeModel& node) {
  if (!runtime_.host) return absl::OkStatus();
  if (absl::Status s = ConfigureHostInterface(host_ifname_, node.addresses, 1500); !s.ok()) {
    return absl::InternalError("exception port " + host_ifname_ + ": " + std::string(s.message()));
  }
  for (const Ip4Prefix& cidr : node.pod_cidrs) {
    if (absl::Status s = ReplaceRoute(cidr, host_ifname_); !s.ok()) {
      return absl::InternalError("route " + cidr.ToString() + ": " + std::string(s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Applier::SetNode(NodeModel node) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  next.node = node;
  for (auto& [key, pod] : next.pods) {
    if (next.attachments.contains(key)) pod.node_name = node.name;
  }
  if (absl::Status s = next.Check(); !s.ok()) return s;
  if (absl::Status s = ConfigureHostLocked(node); !s.ok()) return s;
  // New addresses on the exception interface may have taken routes through it with the old ones.
  return CommitRemoteNodesLocked(std::move(next), /*resync=*/true);
}

absl::StatusOr<uint64_t> Applier::UpsertPods(std::vector<PodModel> pods) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (PodModel& pod : pods) {
    if (next.attachments.contains(pod.key) && next.node && pod.node_name != next.node->name) {
      return absl::FailedPreconditionError(
          absl::StrCat("pod ", pod.key.ToString(), " is attached to this node; node_name must be \"",
                       next.node->name, "\""));
    }
    PodKey key = pod.key;
    next.pods[key] = std::move(pod);
  }
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::DeletePods(const std::vector<PodKey>& keys) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (const PodKey& key : keys) next.pods.erase(key);
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::Sync(NodeModel node, std::vector<PodModel> pods) {
  return Sync(std::move(node), std::move(pods), {});
}

absl::StatusOr<uint64_t> Applier::Sync(NodeModel node, std::vector<PodModel> pods,
                                       std::vector<RemoteNodeModel> remote_nodes) {
  std::lock_guard lock(mu_);
  return SyncLocked(std::move(node), std::move(pods), std::move(remote_nodes), nullptr);
}

absl::StatusOr<uint64_t> Applier::Sync(NodeModel node, std::vector<PodModel> pods,
                                       std::vector<RemoteNodeModel> remote_nodes,
                                       std::shared_ptr<const ServiceState> services) {
  std::lock_guard lock(mu_);
  return SyncLocked(std::move(node), std::move(pods), std::move(remote_nodes),
                    std::move(services));
}

absl::StatusOr<uint64_t> Applier::SyncLocked(NodeModel node, std::vector<PodModel> pods,
                                             std::vector<RemoteNodeModel> remote_nodes,
                                             std::shared_ptr<const ServiceState> services,
                                             std::vector<NamespaceModel> namespaces,
                                             std::vector<NetworkPolicyModel> policies) {
  DesiredState next;
  next.node = node;
  next.services = std::move(services);
  services_.MarkAllDirty();
  next.attachments = state_.attachments;
  for (PodModel& pod : pods) {
    PodKey key = pod.key;
    next.pods[key] = std::move(pod);
  }
  for (RemoteNodeModel& r : remote_nodes) {
    std::string name = r.name;
    next.remote_nodes[name] = std::move(r);
  }
  for (NamespaceModel& ns : namespaces) {
    std::string name = ns.name;
    next.namespaces[name] = std::move(ns);
  }
  for (NetworkPolicyModel& p : policies) {
    PolicyKey key = p.key;
    next.network_policies[key] = std::move(p);
  }
  if (absl::Status s = next.Check(); !s.ok()) return s;
  if (absl::Status s = ConfigureHostLocked(node); !s.ok()) return s;
  return CommitRemoteNodesLocked(std::move(next), /*resync=*/true);
}

absl::StatusOr<uint64_t> Applier::UpsertRemoteNodes(std::vector<RemoteNodeModel> nodes) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (RemoteNodeModel& n : nodes) {
    std::string name = n.name;
    next.remote_nodes[name] = std::move(n);
  }
  return CommitRemoteNodesLocked(std::move(next), /*resync=*/false);
}

absl::StatusOr<uint64_t> Applier::DeleteRemoteNodes(const std::vector<std::string>& names) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (size_t i = 0; i < names.size(); ++i) {
    if (next.remote_nodes.erase(names[i]) == 0) continue;
    std::string pods;
    int count = 0;
    for (const auto& [key, pod] : state_.pods) {
      if (pod.node_name != names[i]) continue;
      if (count++ < 3) absl::StrAppend(&pods, pods.empty() ? "" : ", ", key.ToString());
    }
    if (count > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "names[", i, "]: remote node ", names[i], " still has ", count, " pod(s) (", pods,
          count > 3 ? ", ..." : "", "); delete them first"));
    }
  }
  return CommitRemoteNodesLocked(std::move(next), /*resync=*/false);
}

absl::StatusOr<uint64_t> Applier::UpsertNamespaces(std::vector<NamespaceModel> namespaces) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (NamespaceModel& ns : namespaces) {
    std::string name = ns.name;
    next.namespaces[name] = std::move(ns);
  }
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::DeleteNamespaces(const std::vector<std::string>& names) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (const std::string& name : names) next.namespaces.erase(name);
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::UpsertNetworkPolicies(std::vector<NetworkPolicyModel> policies) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (NetworkPolicyModel& p : policies) {
    PolicyKey key = p.key;
    next.network_policies[key] = std::move(p);
  }
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::DeleteNetworkPolicies(const std::vector<PolicyKey>& keys) {
  std::lock_guard lock(mu_);
  DesiredState next = state_;
  for (const PolicyKey& key : keys) next.network_policies.erase(key);
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::Sync(NodeModel node, std::vector<PodModel> pods,
                                       std::vector<RemoteNodeModel> remote_nodes,
                                       std::vector<NamespaceModel> namespaces,
                                       std::vector<NetworkPolicyModel> policies) {
  std::lock_guard lock(mu_);
  return SyncLocked(std::move(node), std::move(pods), std::move(remote_nodes), nullptr,
                    std::move(namespaces), std::move(policies));
}

absl::StatusOr<uint64_t> Applier::Sync(NodeModel node, std::vector<PodModel> pods,
                                       std::vector<RemoteNodeModel> remote_nodes,
                                       std::shared_ptr<const ServiceState> services,
                                       std::vector<NamespaceModel> namespaces,
                                       std::vector<NetworkPolicyModel> policies) {
  std::lock_guard lock(mu_);
  return SyncLocked(std::move(node), std::move(pods), std::move(remote_nodes),
                    std::move(services), std::move(namespaces), std::move(policies));
}

uint32_t Applier::policy_generation() const {
  std::lock_guard lock(mu_);
  return policy_generation_;
}

bool Applier::IsNextHopLocked(Ip4 ip) const {
  for (const auto& [name, node] : state_.remote_nodes) {
    if (UnderlayNextHop(node) == ip) return true;
  }
  return false;
}

absl::StatusOr<uint64_t> Applier::AddStaticNeighbor(Ip4 ip, Mac mac) {
  std::lock_guard lock(mu_);
  neighbors_.AddStatic(ip, mac);
  if (generation_ == 0 || !IsNextHopLocked(ip)) return generation_;
  return CommitLocked(state_);
}

absl::StatusOr<uint64_t> Applier::LearnNeighbor(Ip4 ip, Mac mac) {
  std::lock_guard lock(mu_);
  switch (neighbors_.Learn(ip, mac, NeighborCache::Clock::now())) {
    case NeighborCache::Change::kRefused:
      return absl::ResourceExhaustedError(
          "neighbour " + ip.ToString() + ": static, or the neighbour table is full");
    case NeighborCache::Change::kNew:
    case NeighborCache::Change::kMacChanged:
      if (generation_ != 0 && IsNextHopLocked(ip)) return CommitLocked(state_);
      return generation_;
    case NeighborCache::Change::kNone:
    case NeighborCache::Change::kRefreshed:
      return generation_;
  }
  return generation_;
}

absl::StatusOr<uint64_t> Applier::ForgetNeighbor(Ip4 ip) {
  std::lock_guard lock(mu_);
  if (!neighbors_.Forget(ip) || generation_ == 0 || !IsNextHopLocked(ip)) return generation_;
  return CommitLocked(state_);
}

void Applier::SetNeighborEvents(dp::NeighborEvents* events) {
  std::lock_guard lock(mu_);
  neighbor_events_ = events;
}

void Applier::SetConntrack(dp::Conntrack* conntrack) {
  std::lock_guard lock(mu_);
  conntrack_ = conntrack;
}

void Applier::SetUplinkPeers(dp::UplinkPeers* peers) {
  std::lock_guard lock(mu_);
  uplink_peers_ = peers;
}

std::vector<Ip4> Applier::UnresolvedNextHops() const {
  std::lock_guard lock(mu_);
  std::vector<Ip4> out;
  for (const auto& [name, node] : state_.remote_nodes) {
    const Ip4 hop = UnderlayNextHop(node);
    if (!neighbors_.Lookup(hop)) out.push_back(hop);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

RemoteSlots Applier::remote_slots() const {
  std::lock_guard lock(mu_);
  return slots_;
}

std::string Applier::NextPortName() { return PodLinkName(static_cast<uint32_t>(getpid()), ++port_seq_); }

absl::StatusOr<std::pair<uint64_t, Attachment>> Applier::AttachPod(AttachRequest req) {
  std::lock_guard lock(mu_);
  const PodKey key = req.pod.key;
  if (state_.attachments.contains(key)) {
    return absl::AlreadyExistsError(absl::StrCat("key: pod ", key.ToString(), " is already attached"));
  }
  if (!state_.node) {
    return absl::FailedPreconditionError("node: this node is not set yet (SetNode first)");
  }
  if (absl::Status s = pod_port_type_ == PodPortType::kRing ? absl::OkStatus()
                                                             : CheckNetns(req.netns);
      !s.ok()) {
    return absl::NotFoundError(absl::StrCat("netns: ", s.message()));
  }
  DesiredState next = state_;
  req.pod.node_name = state_.node->name;
  next.pods[key] = req.pod;
  Attachment placeholder{key, req.netns, req.ifname, Mac{}, req.mtu};
  next.attachments[key] = placeholder;
  if (absl::Status s = next.Check(); !s.ok()) return s;

  // Only now touch the system: create the port and the pod's interface.
  PodInterfaceConfig cfg{"", req.netns, req.ifname, req.mtu, req.pod.ips, state_.node->pod_gateway};
  auto port = CreatePodPort(pod_port_type_, ports_, NextPortName(), cfg);
  if (!port.ok()) return port.status();
  Attachment& att = next.attachments[key];
  att.mac = port->pod_mac;
  att.port_id = port->port.port_id;
  att.rx_queues = port->port.rx_queues;
  att.tx_queues = port->port.tx_queues;
  att.device = port->port.name;
  const Attachment result = att;
  auto gen = CommitLocked(std::move(next));
  if (!gen.ok()) {
    DestroyPodPort(pod_port_type_, ports_, result);
    return gen.status();
  }
  return std::make_pair(*gen, result);
}

absl::StatusOr<uint64_t> Applier::DetachPod(const PodKey& key) {
  std::lock_guard lock(mu_);
  auto it = state_.attachments.find(key);
  if (it == state_.attachments.end()) {
    return absl::NotFoundError(absl::StrCat("key: pod ", key.ToString(), " is not attached"));
  }
  const Attachment att = it->second;
  DesiredState next = state_;
  next.attachments.erase(key);
  next.pods.erase(key);
  auto gen = CommitLocked(std::move(next));
  if (!gen.ok()) return gen.status();
  // Published without the port and past the grace period: no worker polls or sends to it.
  DestroyPodPort(pod_port_type_, ports_, att);
  return gen;
}

void Applier::DetachAll() {
  std::vector<PodKey> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, att] : state_.attachments) keys.push_back(key);
  }
  for (const PodKey& key : keys) (void)DetachPod(key);
}

DesiredState Applier::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

uint64_t Applier::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace nodeplane::ctl
