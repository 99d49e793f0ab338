#include "control/daemon/applier.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "control/daemon/pod_link_names.h"
#include "control/netns/pod_interface.h"

namespace nodeplane::ctl {

Applier::Applier(dp::Ports& ports, dp::Published<dp::Snapshot>& published, RuntimePorts runtime,
                 std::string host_ifname, PodPortType pod_port_type)
    : ports_(ports),
      published_(published),
      runtime_(std::move(runtime)),
      host_ifname_(std::move(host_ifname)),
      pod_port_type_(pod_port_type) {}

absl::Status Applier::Start() {
  std::lock_guard lock(mu_);
  return CommitLocked(state_).status();
}

absl::StatusOr<uint64_t> Applier::CommitLocked(DesiredState next) {
  if (absl::Status s = next.Check(); !s.ok()) return s;
  const dp::SnapshotSpec spec = CompileSnapshot(next, runtime_, generation_ + 1);
  std::string error;
  std::unique_ptr<dp::Snapshot> snap = dp::BuildSnapshot(spec, &error);
  if (snap == nullptr) return absl::ResourceExhaustedError("dataplane tables: " + error);
  // Nothing below can fail: the new state is valid and its tables exist.
  published_.Publish(std::move(snap));
  state_ = std::move(next);
  ++generation_;
  if (worker_ack_) worker_ack_(generation_);
  return generation_;
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
  return CommitLocked(std::move(next));
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
  std::lock_guard lock(mu_);
  DesiredState next;
  next.node = node;
  next.attachments = state_.attachments;
  for (PodModel& pod : pods) {
    PodKey key = pod.key;
    next.pods[key] = std::move(pod);
  }
  if (absl::Status s = next.Check(); !s.ok()) return s;
  if (absl::Status s = ConfigureHostLocked(node); !s.ok()) return s;
  return CommitLocked(std::move(next));
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
  if (absl::Status s = CheckNetns(req.netns); !s.ok()) {
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
