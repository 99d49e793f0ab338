#include "control/model/service_store.h"

#include <atomic>
#include <map>

#include "absl/strings/str_cat.h"
#include "control/model/field_errors.h"

namespace nodeplane::ctl {

void ServiceStore::Index(const std::shared_ptr<const ServiceState>& state) {
  if (state.get() == indexed_ && state != nullptr) return;
  claims_ = ServiceClaims{};
  health_checked_.clear();
  if (state) {
    for (const auto& [key, svc] : state->services) Remember(svc);
  }
  indexed_ = state.get();
  indexed_keep_ = state;
}

ServiceState& ServiceStore::Writable(std::shared_ptr<const ServiceState>& state) {
  Index(state);
  if (state != nullptr && state.get() == own_ && state.use_count() == 1) {
    // The count was dropped by readers with a release; see their reads finish before we write.
    std::atomic_thread_fence(std::memory_order_acquire);
    return *own_;
  }
  auto copy = state ? std::make_shared<ServiceState>(*state) : std::make_shared<ServiceState>();
  own_ = copy.get();
  own_keep_ = copy;
  state = std::move(copy);
  indexed_ = own_;  // same contents: the indexes still hold
  indexed_keep_ = state;
  return *own_;
}

void ServiceStore::Forget(const ServiceModel& svc) {
  claims_.Release(svc);
  health_checked_.erase(svc.key);
}

void ServiceStore::Remember(const ServiceModel& svc) {
  (void)claims_.Claim(svc, "");  // consistent before the change: nothing clashes
  if (svc.health_check_node_port != 0 && svc.Proxied()) health_checked_.insert(svc.key);
}

absl::StatusOr<ServiceChange> ServiceStore::Apply(std::shared_ptr<const ServiceState>& state,
                                                  std::vector<ServiceModel> upsert_services,
                                                  const std::vector<ServiceKey>& delete_services,
                                                  std::vector<EndpointSliceModel> upsert_slices,
                                                  const std::vector<EndpointSliceKey>& delete_slices,
                                                  const std::string& services_field,
                                                  const std::string& slices_field) {
  ServiceState& st = Writable(state);
  ServiceChange change;
  std::set<ServiceKey> saved;
  // Takes a stored Service out (kept in `change` the first time), releasing its claims.
  auto take_out = [&](const ServiceKey& key) {
    auto node = st.services.extract(key);
    if (node) Forget(node.mapped());
    if (saved.insert(key).second) {
      change.services.emplace_back(key, node ? std::optional(std::move(node.mapped())) : std::nullopt);
    }
  };
  // Every Service the request deletes or replaces gives up its claims before any is checked, as
  // if they were gone: a request may move a VIP or NodePort from one of its Services to another.
  for (const ServiceKey& k : delete_services) take_out(k);
  for (const ServiceModel& s : upsert_services) take_out(s.key);
  for (size_t i = 0; i < upsert_services.size(); ++i) {
    ServiceModel& svc = upsert_services[i];
    if (auto dup = st.services.find(svc.key); dup != st.services.end()) Forget(dup->second);
    if (absl::Status s = claims_.Claim(svc, absl::StrCat(services_field, "[", i, "]")); !s.ok()) {
      claims_.Release(svc);
      UndoServices(st, change);
      return s;
    }
    if (svc.health_check_node_port != 0 && svc.Proxied()) health_checked_.insert(svc.key);
    ServiceKey key = svc.key;
    st.services.insert_or_assign(key, std::move(svc));
  }
  change.touched = saved;

  std::set<EndpointSliceKey> saved_slices;
  auto save_slice = [&](const EndpointSliceKey& key) {
    auto it = st.slices.find(key);
    if (it != st.slices.end()) change.touched.insert({key.ns, it->second.service_name});
    if (saved_slices.insert(key).second) {
      change.slices.emplace_back(key, it != st.slices.end() ? std::optional(it->second) : std::nullopt);
    }
  };
  for (const EndpointSliceKey& k : delete_slices) {
    save_slice(k);
    st.EraseSlice(k);
  }
  std::map<ServiceKey, size_t> incoming;  // Service → index of its first upserted slice
  for (size_t i = 0; i < upsert_slices.size(); ++i) {
    save_slice(upsert_slices[i].key);
    const ServiceKey owner{upsert_slices[i].key.ns, upsert_slices[i].service_name};
    change.touched.insert(owner);
    incoming.emplace(owner, i);
    st.PutSlice(std::move(upsert_slices[i]));
  }
  // Backends per Service over all its slices: what its tables can hold.
  for (const auto& [svc, first] : incoming) {
    size_t n = 0;
    for (const EndpointSliceModel* s : st.SlicesOf(svc)) n += s->endpoints.size();
    if (n > kMaxBackendsPerService) {
      Undo(state, std::move(change));
      return Invalid(absl::StrCat(slices_field, "[", first, "].endpoints"),
                     absl::StrCat("Service ", svc.ToString(), " would have ", n,
                                  " endpoints; a Service holds at most ", kMaxBackendsPerService));
    }
  }
  return change;
}

void ServiceStore::UndoServices(ServiceState& st, ServiceChange& change) {
  // Release every value the change put in before re-claiming the old ones: they may have swapped.
  for (const auto& [key, old] : change.services) {
    auto node = st.services.extract(key);
    if (node) Forget(node.mapped());
  }
  for (auto& [key, old] : change.services) {
    if (!old) continue;
    Remember(*old);
    st.services.insert_or_assign(key, std::move(*old));
  }
}

void ServiceStore::Undo(std::shared_ptr<const ServiceState>& state, ServiceChange change) {
  ServiceState& st = Writable(state);
  for (auto& [key, old] : change.slices) {
    st.EraseSlice(key);
    if (old) st.PutSlice(std::move(*old));
  }
  UndoServices(st, change);
}

const std::set<ServiceKey>& ServiceStore::HealthChecked(
    const std::shared_ptr<const ServiceState>& state) {
  Index(state);
  return health_checked_;
}

const ServiceClaims& ServiceStore::Claims(const std::shared_ptr<const ServiceState>& state) {
  Index(state);
  return claims_;
}

}  // namespace nodeplane::ctl
