// ServiceInstaller: keeps the long-lived service table (dataplane/tables/service_table.h) equal to
// the desired Services, Service by Service. A commit first plans — recompiles only the Services
// marked changed (plus those whose named ports depend on pods), diffs their keys against what is
// installed, checks the result fits — and, once the snapshot is published, applies the plan:
// deletes (then a grace period if there were any), sets, one grace period, then flushes
// conntrack's UDP entries to backends that disappeared. A change of Services alone installs before
// the snapshot's publication and shares its grace period (Install/Finish). Planning can fail and
// changes nothing; applying cannot fail. Each Service port keeps its ClientIP affinity id
// (ServicePortId, control/compile/service_compile.h) while it exists; ids are never reused.
// Control thread only (the Applier's lock).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/compile/service_compile.h"
#include "control/daemon/conntrack_flush.h"
#include "control/model/desired_state.h"
#include "control/model/service_model.h"
#include "dataplane/tables/affinity_table.h"
#include "dataplane/tables/service_table.h"
#include "dataplane/stages/svc_lb_decide.h"

namespace nodeplane::ctl {

// Applier::ExplainServiceBackend's answer: the installed entry's facts and svc_lb's decision.
struct ServiceExplanation {
  ServiceKey service;
  dp::ServiceAddressKind kind = dp::ServiceAddressKind::kClusterIp;
  bool outside = false;
  bool internal_local = false;
  bool external_local = false;
  dp::ServiceDecision decision;
  Ip4 backend_ip;
  uint16_t backend_port = 0;  // host order
  uint32_t set_size = 0;
  Ip4 snat;  // 0.0.0.0: source kept
};

class ServiceInstaller {
 public:
  struct Plan {
    std::map<ServiceKey, CompiledService> compiled;  // recompiled Services (absent: none now)
    std::set<ServiceKey> removed;                    // Services gone
    std::vector<dp::ServiceTableKey> deletes;
    std::vector<std::pair<dp::ServiceTableKey, const dp::ServiceEntrySpec*>> sets;
    std::vector<dp::ServiceTableKey> flush;  // UDP backends this change stopped choosing
    std::optional<NodeModel> node;           // the node it was compiled for
    std::set<Ip4> remote_node_addresses;     // and the other nodes' addresses it knew
  };

  void SetTables(dp::ServiceTable* table, dp::AffinityTable* affinity) {
    table_ = table;
    affinity_ = affinity;
  }
  void SetFlusher(ConntrackFlusher* flusher) { flusher_ = flusher; }
  dp::ServiceTable* table() const { return table_; }
  dp::AffinityTable* affinity() const { return affinity_; }

  // What changed since the last commit: these Services (upserted or deleted, or their slices), or
  // everything (a sync, a node change).
  void MarkDirty(const ServiceKey& key) { dirty_.insert(key); }
  void MarkAllDirty() { all_dirty_ = true; }

  absl::StatusOr<Plan> MakePlan(const DesiredState& next);
  // After a failed commit the marks stay, for the next plan.
  void Apply(Plan plan) {
    Install(plan);
    Finish(std::move(plan));
  }
  // Apply in two halves, for a commit that lets one grace period serve both the snapshot and the
  // table: Install writes the table (deletes, a grace period only if new keys need their slots,
  // sets) and starts the grace period for what it replaced; Finish, after the caller's own grace
  // period, frees it (waiting only if none has passed), flushes conntrack and records the plan.
  void Install(const Plan& plan);
  void Finish(Plan plan);

  // Installed state (reads, `nodeplanectl`, tests).
  const CompiledService* Installed(const ServiceKey& key) const;
  const std::map<ServiceKey, CompiledService>& installed() const { return installed_; }

 private:
  dp::ServiceTable* table_ = nullptr;
  dp::AffinityTable* affinity_ = nullptr;
  ConntrackFlusher* flusher_ = nullptr;
  std::map<ServiceKey, CompiledService> installed_;
  std::set<ServiceKey> named_ports_;  // installed Services that use named target ports
  uint32_t next_id_ = 1;  // the next Service port affinity id (ids are never reused)
  std::set<ServiceKey> dirty_;
  bool all_dirty_ = true;
  std::optional<NodeModel> node_;  // the node the installed entries were compiled for
  std::set<Ip4> remote_node_addresses_;  // the other nodes' addresses they were compiled with
};

}  // namespace nodeplane::ctl
