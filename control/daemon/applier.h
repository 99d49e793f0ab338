// Applier: the single writer of this node's dataplane state. Every change is made on a copy of the
// desired state, checked, compiled into a new snapshot and published by RCU; only when every
// worker has left the previous snapshot behind does the call return the new generation. A change
// that fails at any step leaves the running state and generation exactly as they were.
// Thread-safe: calls are serialised (gRPC handlers call in from several threads).
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/compile/fib_plan.h"
#include "control/compile/policy_compile.h"
#include "control/compile/snapshot_compiler.h"
#include "control/daemon/neighbor_cache.h"
#include "control/daemon/pod_port.h"
#include "control/daemon/health_check_server.h"
#include "control/daemon/host_routes.h"
#include "control/daemon/service_installer.h"
#include "control/model/desired_state.h"
#include "control/model/service_model.h"
#include "control/model/service_store.h"
#include "dataplane/core/neighbor_events.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/tables/fib.h"
#include "dataplane/tables/uplink_peers.h"

namespace nodeplane::ctl {

struct AttachRequest {
  PodModel pod;          // key, ips, labels, ports (node_name is filled in)
  std::string netns;
  std::string ifname = "eth0";
  uint32_t mtu = 1500;
};

// A pod's MTU when AttachPod gives none: the uplink's MTU less the 50 bytes of VXLAN, so that a
// full-size pod packet still fits the underlay once encapsulated; 1500 without an uplink. Kept
// within the limits a pod interface accepts (kMinPodMtu..kMaxPodMtu).
uint32_t DefaultPodMtu(const RuntimePorts& runtime);

class Applier {
 public:
  // `fib` (may be nullptr: then no remote pod CIDR is routed) is the process's long-lived Fib; it
  // must outlive `published`'s snapshots.
  Applier(dp::Ports& ports, dp::Published<dp::Snapshot>& published, RuntimePorts runtime,
          std::string host_ifname, PodPortType pod_port_type, dp::Fib* fib = nullptr);

  // Publishes the first generation (ports only). Call once before workers start.
  absl::Status Start();
  // Installs the wait that makes a write return only once every worker runs its generation
  // (workers echo the generation they ran; see dp::Worker::generation()). Until it is installed
  // (start-up, before the workers run) a write returns after the RCU grace period alone.
  void SetWorkerAck(std::function<void(uint64_t generation)> wait_until_running);

  absl::StatusOr<uint64_t> SetNode(NodeModel node);
  absl::StatusOr<uint64_t> UpsertPods(std::vector<PodModel> pods);
  absl::StatusOr<uint64_t> DeletePods(const std::vector<PodKey>& keys);
  absl::StatusOr<uint64_t> Sync(NodeModel node, std::vector<PodModel> pods);
  absl::StatusOr<uint64_t> Sync(NodeModel node, std::vector<PodModel> pods,
                                std::vector<RemoteNodeModel> remote_nodes);
  // Sync with Services and EndpointSlices (validated as a whole: ApplyServiceChange).
  absl::StatusOr<uint64_t> Sync(NodeModel node, std::vector<PodModel> pods,
                                std::vector<RemoteNodeModel> remote_nodes,
                                std::shared_ptr<const ServiceState> services);
  absl::StatusOr<uint64_t> UpsertRemoteNodes(std::vector<RemoteNodeModel> nodes);
  // Unknown names are ignored. FAILED_PRECONDITION while pods still name the node.
  absl::StatusOr<uint64_t> DeleteRemoteNodes(const std::vector<std::string>& names);
  // NetworkPolicy inputs. Deleting unknown keys is not an error. A sync replaces both kinds.
  absl::StatusOr<uint64_t> UpsertNamespaces(std::vector<NamespaceModel> namespaces);
  absl::StatusOr<uint64_t> DeleteNamespaces(const std::vector<std::string>& names);
  absl::StatusOr<uint64_t> UpsertNetworkPolicies(std::vector<NetworkPolicyModel> policies);
  absl::StatusOr<uint64_t> DeleteNetworkPolicies(const std::vector<PolicyKey>& keys);
  absl::StatusOr<uint64_t> Sync(NodeModel node, std::vector<PodModel> pods,
                                std::vector<RemoteNodeModel> remote_nodes,
                                std::vector<NamespaceModel> namespaces,
                                std::vector<NetworkPolicyModel> policies);
  // The whole desired state: every kind at once (SyncState).
  absl::StatusOr<uint64_t> Sync(NodeModel node, std::vector<PodModel> pods,
                                std::vector<RemoteNodeModel> remote_nodes,
                                std::shared_ptr<const ServiceState> services,
                                std::vector<NamespaceModel> namespaces,
                                std::vector<NetworkPolicyModel> policies);
  // The NetworkPolicy generation running (dp::Snapshot::policy_generation).
  uint32_t policy_generation() const;
  absl::StatusOr<std::pair<uint64_t, Attachment>> AttachPod(AttachRequest req);
  absl::StatusOr<uint64_t> DetachPod(const PodKey& key);
  // Services and EndpointSlices (control/daemon/service_applier.cc). Upserts replace by key,
  // deletes ignore unknown keys; a change that would make two Services claim one NodePort or
  // VIP:port, or give a Service more backends than its tables hold, is rejected whole.
  absl::StatusOr<uint64_t> UpsertServices(std::vector<ServiceModel> services);
  absl::StatusOr<uint64_t> DeleteServices(const std::vector<ServiceKey>& keys);
  absl::StatusOr<uint64_t> UpsertEndpointSlices(std::vector<EndpointSliceModel> slices);
  absl::StatusOr<uint64_t> DeleteEndpointSlices(const std::vector<EndpointSliceKey>& keys);

  // Detaches every pod (shutdown): their interfaces disappear with their ports.
  void DetachAll();

  // Underlay neighbours (control/daemon/neighbor_cache.h). A static one is configured (--neighbor);
  // LearnNeighbor is what the underlay ARP resolver calls with each (address, MAC) it learns, and
  // ForgetNeighbor when one ages out. Each republishes when a remote node's next hop changes, and
  // returns the generation that runs with it.
  absl::StatusOr<uint64_t> AddStaticNeighbor(Ip4 ip, Mac mac);
  absl::StatusOr<uint64_t> LearnNeighbor(Ip4 ip, Mac mac);
  absl::StatusOr<uint64_t> ForgetNeighbor(Ip4 ip);
  // The remote nodes' underlay next hops with no MAC yet: whom the resolver must ask.
  std::vector<Ip4> UnresolvedNextHops() const;
  const NeighborCache& neighbors() const { return neighbors_; }
  // Where workers report ARP from the next hops (control/daemon/neighbor_resolver.h); every
  // snapshot published after this call carries it. Call before Start(); must outlive the Applier.
  void SetNeighborEvents(dp::NeighborEvents* events);
  // The process's conntrack table (outlives every snapshot); every snapshot published from now on
  // refers to it. nullptr: nothing is tracked. Call before Start().
  void SetConntrack(dp::Conntrack* conntrack);
  // Where replies to clients outside the cluster go (dataplane/tables/uplink_peers.h; not owned,
  // outlives every snapshot). nullptr: such replies are dropped as no_route. Call before Start().
  void SetUplinkPeers(dp::UplinkPeers* peers);

  // Services (control/daemon/service_applier.cc): the long-lived service and affinity tables the
  // snapshots point at, and where UDP conntrack entries to removed backends are flushed (not
  // owned; must outlive the Applier's snapshots). Call before Start(); without tables, Services
  // are stored but not programmed.
  void SetServiceTables(dp::ServiceTable* table, dp::AffinityTable* affinity);
  void SetConntrackFlusher(ConntrackFlusher* flusher);
  // Where health-check node ports are served (not owned); every commit tells it the ports and
  // local endpoint counts.
  void SetHealthCheckServer(HealthCheckServer* server);
  // What svc_lb would decide for a new connection, from the installed entry (read-only).
  // NOT_FOUND when (dst, port, protocol) is no Service address.
  absl::StatusOr<ServiceExplanation> ExplainServiceBackend(Ip4 src, uint16_t sport, Ip4 dst,
                                                           uint16_t dport, L4Protocol proto) const;
  // The Services as installed (reads, tests): compiled entries and backends per Service.
  std::map<ServiceKey, CompiledService> installed_services() const;

  // The host's routes to remote nodes' pod CIDRs (control/daemon/host_routes.h): made through
  // the exception interface when the runtime has one; tests give their own operations here (then
  // routes are kept with or without a host port). Call before Start().
  void SetHostPodRouteOps(HostPodRoutes::Ops ops);
  std::set<Ip4Prefix> host_pod_routes() const;

  DesiredState state() const;
  uint64_t generation() const;
  const RuntimePorts& runtime() const { return runtime_; }
  // Remote node name → slot, as published (for reads and tests).
  RemoteSlots remote_slots() const;

 private:
  absl::StatusOr<uint64_t> CommitLocked(DesiredState next);
  void WireSnapshotLocked(dp::Snapshot& snap) const;
  void UpdateHealthChecksLocked();
  absl::StatusOr<uint64_t> SyncLocked(NodeModel node, std::vector<PodModel> pods,
                                      std::vector<RemoteNodeModel> remote_nodes,
                                      std::shared_ptr<const ServiceState> services,
                                      std::vector<NamespaceModel> namespaces = {},
                                      std::vector<NetworkPolicyModel> policies = {});
  // Publishes a change of Services alone (control/daemon/service_applier.cc).
  absl::StatusOr<uint64_t> CommitServicesLocked();
  absl::StatusOr<uint64_t> ChangeServicesLocked(std::vector<ServiceModel> upsert_services,
                                                const std::vector<ServiceKey>& delete_services,
                                                std::vector<EndpointSliceModel> upsert_slices,
                                                const std::vector<EndpointSliceKey>& delete_slices);
  bool IsNextHopLocked(Ip4 ip) const;
  void ApplyFibSteps(const std::vector<FibStep>& steps);
  absl::Status ConfigureHostLocked(const NodeModel& node);
  // CommitLocked for a change of remote nodes, with the host's routes to their pod CIDRs around
  // it (control/daemon/host_routes_applier.cc). `resync`: re-add every route (a full sync).
  absl::StatusOr<uint64_t> CommitRemoteNodesLocked(DesiredState next, bool resync);
  std::string NextPortName();

  mutable std::mutex mu_;
  dp::Ports& ports_;
  dp::Published<dp::Snapshot>& published_;
  const RuntimePorts runtime_;
  const std::string host_ifname_;
  const PodPortType pod_port_type_;
  dp::Fib* const fib_;
  NeighborCache neighbors_;
  DesiredState state_;       // guarded by mu_
  uint64_t generation_ = 0;  // guarded by mu_
  uint32_t policy_generation_ = 0;  // guarded by mu_
  PolicyCompileCache policy_cache_;  // guarded by mu_
  uint32_t port_seq_ = 0;    // guarded by mu_
  RemoteSlots slots_;        // guarded by mu_: the remote nodes' slots, as published
  FibRoutes fib_routes_;     // guarded by mu_: what the Fib holds
  std::function<void(uint64_t)> worker_ack_;  // guarded by mu_
  dp::NeighborEvents* neighbor_events_ = nullptr;  // guarded by mu_
  dp::Conntrack* conntrack_ = nullptr;             // guarded by mu_
  dp::UplinkPeers* uplink_peers_ = nullptr;        // guarded by mu_
  ServiceInstaller services_;                      // guarded by mu_
  ServiceStore service_store_;                     // guarded by mu_: edits state_.services
  // guarded by mu_: what the running snapshot was built from; a change of Services alone builds
  // the next generation from it again instead of recompiling the desired state.
  std::optional<dp::SnapshotSpec> last_spec_;
  HealthCheckServer* health_checks_ = nullptr;     // guarded by mu_
  std::optional<HostPodRoutes> host_routes_;       // guarded by mu_; none: no host side
};

}  // namespace nodeplane::ctl
