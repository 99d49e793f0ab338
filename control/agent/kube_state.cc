#include "control/agent/kube_state.h"

#include <set>

namespace nodeplane::agent {
namespace {

// Stores a translation result: a value replaces, nullopt removes, an error leaves things as they are.
template <typename T>
absl::Status Store(std::map<std::string, T>& map, const std::string& key,
                   absl::StatusOr<std::optional<T>> result) {
  if (!result.ok()) return result.status();
  if (result->has_value()) {
    map[key] = std::move(**result);
  } else {
    map.erase(key);
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::optional<T>> Always(absl::StatusOr<T> result) {
  if (!result.ok()) return result.status();
  return std::optional<T>(std::move(*result));
}

template <typename T>
void KeepOnly(std::map<std::string, T>& map, const std::set<std::string>& keys) {
  for (auto it = map.begin(); it != map.end();) {
    it = keys.contains(it->first) ? std::next(it) : map.erase(it);
  }
}

}  // namespace

absl::Status KubeState::Upsert(Kind kind, const Json& object) {
  auto key = ObjectKey(kind, object);
  if (!key.ok()) return key.status();
  switch (kind) {
    case Kind::kNamespace:
      return Store(objects_.namespaces, *key, Always(NamespaceFromJson(object)));
    case Kind::kPod: return Store(objects_.pods, *key, PodFromJson(object));
    case Kind::kService: return Store(objects_.services, *key, Always(ServiceFromJson(object)));
    case Kind::kEndpointSlice:
      return Store(objects_.endpoint_slices, *key, EndpointSliceFromJson(object));
    case Kind::kNetworkPolicy:
      return Store(objects_.network_policies, *key, Always(NetworkPolicyFromJson(object)));
    case Kind::kNode: return Store(objects_.nodes, *key, Always(NodeFromJson(object)));
  }
  return absl::OkStatus();
}

absl::Status KubeState::Delete(Kind kind, const Json& object) {
  auto key = ObjectKey(kind, object);
  if (!key.ok()) return key.status();
  Erase(kind, *key);
  return absl::OkStatus();
}

void KubeState::Erase(Kind kind, const std::string& key) {
  switch (kind) {
    case Kind::kNamespace: objects_.namespaces.erase(key); break;
    case Kind::kPod: objects_.pods.erase(key); break;
    case Kind::kService: objects_.services.erase(key); break;
    case Kind::kEndpointSlice: objects_.endpoint_slices.erase(key); break;
    case Kind::kNetworkPolicy: objects_.network_policies.erase(key); break;
    case Kind::kNode: objects_.nodes.erase(key); break;
  }
}

std::vector<absl::Status> KubeState::Replace(Kind kind, const std::vector<Json>& items) {
  std::vector<absl::Status> errors;
  std::set<std::string> listed;
  for (const Json& item : items) {
    auto key = ObjectKey(kind, item);
    if (!key.ok()) {
      errors.push_back(key.status());
      continue;
    }
    listed.insert(*key);
    if (absl::Status s = Upsert(kind, item); !s.ok()) errors.push_back(s);
  }
  switch (kind) {
    case Kind::kNamespace: KeepOnly(objects_.namespaces, listed); break;
    case Kind::kPod: KeepOnly(objects_.pods, listed); break;
    case Kind::kService: KeepOnly(objects_.services, listed); break;
    case Kind::kEndpointSlice: KeepOnly(objects_.endpoint_slices, listed); break;
    case Kind::kNetworkPolicy: KeepOnly(objects_.network_policies, listed); break;
    case Kind::kNode: KeepOnly(objects_.nodes, listed); break;
  }
  return errors;
}

}  // namespace nodeplane::agent
