// The Applier's Services and EndpointSlices: a change edits the running ServiceState in place
// (control/model/service_store.h: checked as a whole, taken back whole on failure) and installs
// only the Services it touched.
#include "control/daemon/applier.h"
#include "control/compile/overlay_source.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include <set>

namespace nodeplane::ctl {

absl::StatusOr<uint64_t> Applier::ChangeServicesLocked(
    std::vector<ServiceModel> upsert_services, const std::vector<ServiceKey>& delete_services,
    std::vector<EndpointSliceModel> upsert_slices,
    const std::vector<EndpointSliceKey>& delete_slices) {
  // Applied to the running model in place (control/model/service_store.h), taken back whole if
  // the commit fails: the cost is the request's Services, not all of them.
  auto change = service_store_.Apply(state_.services, std::move(upsert_services), delete_services,
                                     std::move(upsert_slices), delete_slices, "services",
                                     "endpoint_slices");
  if (!change.ok()) return change.status();
  for (const ServiceKey& k : change->touched) services_.MarkDirty(k);
  auto gen = CommitServicesLocked();
  if (!gen.ok()) service_store_.Undo(state_.services, std::move(*change));
  return gen;
}

// A change of Services alone changes nothing a snapshot is compiled from: the running snapshot's
// spec is built again as the next generation (no recompiling of pods, policies or remote nodes,
// no copy of the desired state; the model was edited in place), the touched Services' entries go
// in before it is published, and its grace period is theirs too.
absl::StatusOr<uint64_t> Applier::CommitServicesLocked() {
  if (!last_spec_) return CommitLocked(state_);  // before the first generation
  dp::SnapshotSpec spec = *last_spec_;
  spec.generation = generation_ + 1;
  std::string error;
  std::unique_ptr<dp::Snapshot> snap = dp::BuildSnapshot(spec, fib_, &error);
  if (snap == nullptr) return absl::ResourceExhaustedError("dataplane tables: " + error);
  WireSnapshotLocked(*snap);
  auto plan = services_.MakePlan(state_);
  if (!plan.ok()) return plan.status();
  // Nothing below can fail.
  services_.Install(*plan);
  published_.Publish(std::move(snap));
  services_.Finish(std::move(*plan));
  last_spec_ = std::move(spec);
  UpdateHealthChecksLocked();
  ++generation_;
  if (worker_ack_) worker_ack_(generation_);
  return generation_;
}

void Applier::SetServiceTables(dp::ServiceTable* table, dp::AffinityTable* affinity) {
  std::lock_guard lock(mu_);
  services_.SetTables(table, affinity);
  services_.MarkAllDirty();
}

void Applier::SetConntrackFlusher(ConntrackFlusher* flusher) {
  std::lock_guard lock(mu_);
  services_.SetFlusher(flusher);
}

void Applier::SetHealthCheckServer(HealthCheckServer* server) {
  std::lock_guard lock(mu_);
  health_checks_ = server;
}

// kube-proxy's count: this node's ready endpoints of the Service (terminating ones do not count,
// so a node whose only local endpoints are terminating answers 503).
void Applier::UpdateHealthChecksLocked() {
  if (health_checks_ == nullptr) return;
  std::vector<HealthCheckServer::Entry> entries;
  if (state_.services) {
    for (const ServiceKey& key : service_store_.HealthChecked(state_.services)) {
      const ServiceModel& svc = state_.services->services.at(key);
      std::set<Ip4> local;
      for (const EndpointSliceModel* s : state_.services->SlicesOf(key)) {
        for (const EndpointModel& e : s->endpoints) {
          if (s->ipv4 && e.ready && state_.node && e.node_name == state_.node->name) {
            local.insert(e.address);
          }
        }
      }
      entries.push_back({key, svc.health_check_node_port, static_cast<uint32_t>(local.size())});
    }
  }
  if (absl::Status s = health_checks_->Update(entries); !s.ok()) {
    std::fprintf(stderr, "nodeplaned: %s\n", std::string(s.message()).c_str());
  }
}

absl::StatusOr<ServiceExplanation> Applier::ExplainServiceBackend(Ip4 src, uint16_t sport, Ip4 dst,
                                                                   uint16_t dport,
                                                                   L4Protocol proto) const {
  std::lock_guard lock(mu_);  // no writer runs: the entry stays valid while we read it
  const dp::ServiceTable* table = services_.table();
  const dp::ServiceTableKey key{dst.be, static_cast<uint16_t>((dport >> 8) | (dport << 8)),
                                IpProtocolNumber(proto), 0};
  const dp::ServiceEntry* e = table ? table->Lookup(key) : nullptr;
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat(dst.ToString(), ":", dport,
                                            " is not the address of a Service on this node"));
  }
  ServiceExplanation x;
  for (const auto& [svc, c] : services_.installed()) {
    if (c.entries.contains(key)) x.service = svc;
  }
  // As svc_lb sees it: this node's pods and host are inside; anything else arrives on the uplink
  // and counts as outside — pods of other nodes too (they come through VXLAN).
  bool inside = false;
  if (state_.node) {
    for (const Ip4Prefix& a : state_.node->addresses) inside = inside || a.addr == src;
    for (const Ip4Prefix& c : state_.node->pod_cidrs) inside = inside || c.Contains(src);
  }
  x.outside = !inside;
  x.kind = e->kind;
  x.internal_local = e->internal_local;
  x.external_local = e->external_local;
  const dp::AffinityTable* aff = services_.affinity();
  x.decision = dp::DecideService(*e, x.outside, src.be, dst.be,
                                 static_cast<uint16_t>((sport >> 8) | (sport << 8)), key.port_be,
                                 key.proto, aff, aff ? aff->Now() : 0);
  for (uint16_t i = 0; i < e->n_backends; ++i) {
    x.set_size += x.decision.local_set ? e->backends[i].local : e->backends[i].in_cluster;
  }
  if (x.decision.outcome == dp::ServiceDecision::Outcome::kTranslate) {
    const dp::ServiceBackend& b = e->backends[x.decision.backend];
    x.backend_ip = Ip4{b.ip_be};
    x.backend_port = static_cast<uint16_t>((b.port_be >> 8) | (b.port_be << 8));
    if (b.ip_be == src.be) {
      x.snat = state_.node ? state_.node->pod_gateway : Ip4{e->snat_ip_be};  // hairpin
    } else if (x.decision.snat) {
      const Ip4 overlay = PublishedOverlaySource(state_, runtime_);
      const Ip4 underlay = overlay != Ip4{} ? state_.node->vtep : Ip4{};
      x.snat = Ip4{dp::SnatSource(*e, b, overlay.be, underlay.be)};
    }
  }
  return x;
}

std::map<ServiceKey, CompiledService> Applier::installed_services() const {
  std::lock_guard lock(mu_);
  return services_.installed();
}

absl::StatusOr<uint64_t> Applier::UpsertServices(std::vector<ServiceModel> services) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked(std::move(services), {}, {}, {});
}

absl::StatusOr<uint64_t> Applier::DeleteServices(const std::vector<ServiceKey>& keys) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked({}, keys, {}, {});
}

absl::StatusOr<uint64_t> Applier::UpsertEndpointSlices(std::vector<EndpointSliceModel> slices) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked({}, {}, std::move(slices), {});
}

absl::StatusOr<uint64_t> Applier::DeleteEndpointSlices(const std::vector<EndpointSliceKey>& keys) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked({}, {}, {}, keys);
}

}  // namespace nodeplane::ctl
