#include "control/daemon/service_installer.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "control/compile/service_node_backends.h"

namespace nodeplane::ctl {
namespace {

bool SameNode(const std::optional<NodeModel>& a, const std::optional<NodeModel>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->name == b->name && a->addresses == b->addresses && a->zone == b->zone;
}

}  // namespace

const CompiledService* ServiceInstaller::Installed(const ServiceKey& key) const {
  auto it = installed_.find(key);
  return it == installed_.end() ? nullptr : &it->second;
}

absl::StatusOr<ServiceInstaller::Plan> ServiceInstaller::MakePlan(const DesiredState& next) {
  Plan plan;
  if (table_ == nullptr) return plan;
  plan.node = next.node;
  static const ServiceState kNone;
  const ServiceState& want = next.services ? *next.services : kNone;
  const NodeModel* node = next.node ? &*next.node : nullptr;
  // Backends at another node's address are compiled differently (service_node_backends.h).
  plan.remote_node_addresses = RemoteNodeAddresses(next.remote_nodes);
  std::set<ServiceKey> todo;
  if (all_dirty_ || !SameNode(node_, next.node)) {
    for (const auto& [key, svc] : want.services) todo.insert(key);
    for (const auto& [key, c] : installed_) todo.insert(key);
  } else {
    todo = dirty_;
    todo.insert(named_ports_.begin(), named_ports_.end());  // pods may have renamed their ports
    if (plan.remote_node_addresses != remote_node_addresses_) {
      // A node came or went: the Services with a backend at its address.
      std::set<Ip4> changed;
      std::set_symmetric_difference(plan.remote_node_addresses.begin(),
                                    plan.remote_node_addresses.end(),
                                    remote_node_addresses_.begin(), remote_node_addresses_.end(),
                                    std::inserter(changed, changed.end()));
      for (const auto& [key, c] : installed_) {
        for (const auto& [b, local] : c.backends) {
          if (changed.contains(Ip4{b.ip_be})) todo.insert(key);
        }
      }
    }
  }
  uint32_t id = next_id_;
  for (const ServiceKey& key : todo) {
    auto it = want.services.find(key);
    if (it == want.services.end()) {
      if (installed_.contains(key)) plan.removed.insert(key);
      continue;
    }
    // Each port keeps the affinity id it has (same name and protocol); a new port gets a new one.
    const CompiledService* was = Installed(key);
    std::vector<uint32_t> port_ids;
    for (const ServicePortModel& p : it->second.ports) {
      uint32_t pid = 0;
      for (size_t i = 0; was != nullptr && i < was->port_ids.size() && pid == 0; ++i) {
        const ServicePortId& k = was->port_ids[i];
        if (k.name == p.name && k.protocol == p.protocol) pid = k.id;
      }
      port_ids.push_back(pid != 0 ? pid : id++);
    }
    plan.compiled[key] = CompileService(it->second, want.SlicesOf(key), node, next.pods, port_ids);
    MarkRemoteNodeBackends(plan.remote_node_addresses, &plan.compiled[key]);
  }
  // Diff against what is installed: keys to delete, entries to (re)set, UDP backends to flush.
  std::set<dp::ServiceTableKey> added_keys;
  size_t size = table_->size();
  auto diff = [&](const ServiceKey& key, const CompiledService* now) {
    const CompiledService* was = Installed(key);
    static const CompiledService kEmpty;
    if (was == nullptr) was = &kEmpty;
    if (now == nullptr) now = &kEmpty;
    for (const auto& [k, spec] : was->entries) {
      if (!now->entries.contains(k)) {
        plan.deletes.push_back(k);
        --size;
      }
    }
    for (const auto& [k, spec] : now->entries) {
      auto old = was->entries.find(k);
      if (old == was->entries.end()) {
        ++size;
        plan.sets.push_back({k, &spec});
      } else if (!(old->second == spec)) {
        plan.sets.push_back({k, &spec});
      }
    }
    std::set<dp::ServiceTableKey> still;
    for (const auto& [b, local] : now->backends) still.insert(b);
    for (const auto& [b, local] : was->backends) {
      if (b.proto == 17 && !still.contains(b)) plan.flush.push_back(b);
    }
  };
  for (const ServiceKey& key : plan.removed) diff(key, nullptr);
  for (const auto& [key, c] : plan.compiled) diff(key, &c);
  if (!table_->Fits(size)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "services: ", size, " Service addresses would not fit the service table (",
        table_->capacity(), ")"));
  }
  return plan;
}

void ServiceInstaller::Install(const Plan& plan) {
  if (table_ == nullptr) return;
  for (const dp::ServiceTableKey& k : plan.deletes) table_->Delete(k);
  table_->Reclaim();  // deleted keys' slots are free again before the sets need them
  for (const auto& [k, spec] : plan.sets) {
    std::string error;
    // MakePlan checked the capacity; only an allocation failure is left, and that is a bug here.
    if (!table_->Set(k, *spec, &error)) std::fprintf(stderr, "nodeplaned: BUG: %s\n", error.c_str());
  }
  table_->StartGrace();
}

void ServiceInstaller::Finish(Plan plan) {
  if (table_ == nullptr) return;
  table_->Reclaim();
  for (const ServiceKey& key : plan.removed) {
    installed_.erase(key);
    named_ports_.erase(key);
  }
  for (auto& [key, c] : plan.compiled) {
    for (const ServicePortId& p : c.port_ids) next_id_ = std::max(next_id_, p.id + 1);
    if (c.uses_named_ports) {
      named_ports_.insert(key);
    } else {
      named_ports_.erase(key);
    }
    installed_[key] = std::move(c);
  }
  // No table chooses these any more (and a grace period has passed): flush what conntrack holds.
  if (flusher_ != nullptr) {
    for (const dp::ServiceTableKey& b : plan.flush) flusher_->FlushUdpToBackend(b.ip_be, b.port_be);
  }
  dirty_.clear();
  all_dirty_ = false;
  node_ = std::move(plan.node);
  remote_node_addresses_ = std::move(plan.remote_node_addresses);
}

}  // namespace nodeplane::ctl
