// Applier: the single writer of this node's dataplane state. Every change is made on a copy of the
// desired state, checked, compiled into a new snapshot and published by RCU; only when every
// worker has left the previous snapshot behind does the call return the new generation. A change
// that fails at any step leaves the running state and generation exactly as they were.
// Thread-safe: calls are serialised (gRPC handlers call in from several threads).
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/compile/snapshot_compiler.h"
#include "control/daemon/pod_port.h"
#include "control/model/desired_state.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::ctl {

struct AttachRequest {
  PodModel pod;          // key, ips, labels, ports (node_name is filled in)
  std::string netns;
  std::string ifname = "eth0";
  uint32_t mtu = 1500;
};

class Applier {
 public:
  Applier(dp::Ports& ports, dp::Published<dp::Snapshot>& published, RuntimePorts runtime,
          std::string host_ifname, PodPortType pod_port_type);

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
  absl::StatusOr<std::pair<uint64_t, Attachment>> AttachPod(AttachRequest req);
  absl::StatusOr<uint64_t> DetachPod(const PodKey& key);
  // Detaches every pod (shutdown): their interfaces disappear with their ports.
  void DetachAll();

  DesiredState state() const;
  uint64_t generation() const;
  const RuntimePorts& runtime() const { return runtime_; }

 private:
  absl::StatusOr<uint64_t> CommitLocked(DesiredState next);
  absl::Status ConfigureHostLocked(const NodeModel& node);
  std::string NextPortName();

  mutable std::mutex mu_;
  dp::Ports& ports_;
  dp::Published<dp::Snapshot>& published_;
  const RuntimePorts runtime_;
  const std::string host_ifname_;
  const PodPortType pod_port_type_;
  DesiredState state_;       // guarded by mu_
  uint64_t generation_ = 0;  // guarded by mu_
  uint32_t port_seq_ = 0;    // guarded by mu_
  std::function<void(uint64_t)> worker_ack_;  // guarded by mu_
};

}  // namespace nodeplane::ctl
