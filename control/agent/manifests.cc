#include "control/agent/manifests.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/agent/kube_config.h"

namespace nodeplane::agent {
namespace {

namespace fs = std::filesystem;

constexpr char kPodIpsAnnotation[] = "nodeplane.io/pod-ips";

Json Convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return Json();
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const YAML::Node& item : n) out.push_back(Convert(item));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = Convert(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: break;
  }
  const std::string s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: always a string
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "~" || s == "Null" || s == "NULL") return Json();
  static const std::regex integer("[-+]?[0-9]+");
  if (std::regex_match(s, integer) && s.size() < 19) return std::stoll(s);
  return s;
}

std::vector<std::string> ManifestFiles(const std::vector<std::string>& paths,
                                       std::vector<std::string>* errors) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& entry : fs::directory_iterator(p, ec)) {
        const std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
          in_dir.push_back(entry.path().string());
        }
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      errors->push_back(p + ": no such file or directory");
    }
  }
  return files;
}

struct Loaded {
  Kind kind;
  Json object;
  std::string where;   // "file: document 2 (Service shop/web)"
};

bool Matches(const std::map<std::string, std::string>& selector,
             const google::protobuf::Map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// The pod's port for one Service port, or 0 when a named target port does not resolve.
uint32_t ResolvePort(const v1::ServicePort& sp, const v1::Pod& pod) {
  if (sp.has_target_port_number()) return sp.target_port_number();
  for (const v1::ContainerPort& cp : pod.ports()) {
    const v1::Protocol want = sp.protocol() == v1::PROTOCOL_UNSPECIFIED ? v1::TCP : sp.protocol();
    const v1::Protocol have = cp.protocol() == v1::PROTOCOL_UNSPECIFIED ? v1::TCP : cp.protocol();
    if (cp.name() == sp.target_port_name() && have == want) return cp.port();
  }
  return 0;
}

struct PodStatus {
  bool ready = true;
  bool terminating = false;
};

void DeriveEndpointSlices(const std::map<std::string, Json>& service_json,
                          const std::map<std::string, PodStatus>& pod_status, ManifestSet* set) {
  std::set<std::string> have_slices;
  for (const auto& [key, slice] : set->objects.endpoint_slices) {
    have_slices.insert(slice.key().namespace_() + "/" + slice.service_name());
  }
  for (const auto& [key, svc] : set->objects.services) {
    const Json& j = service_json.at(key);
    std::map<std::string, std::string> selector;
    if (j.contains("spec") && j["spec"].is_object() && j["spec"].contains("selector") &&
        j["spec"]["selector"].is_object()) {
      for (auto it = j["spec"]["selector"].begin(); it != j["spec"]["selector"].end(); ++it) {
        if (it.value().is_string()) selector[it.key()] = it.value().get<std::string>();
      }
    }
    if (selector.empty() || svc.type() == v1::EXTERNAL_NAME || have_slices.contains(key)) continue;
    const bool publish_not_ready = j["spec"].value("publishNotReadyAddresses", false) == true;
    // Pods grouped by the ports they resolve to, as the endpoint controller groups them.
    std::map<std::vector<uint32_t>, std::vector<const v1::Pod*>> groups;
    for (const auto& [pod_key, pod] : set->objects.pods) {
      if (pod.key().namespace_() != svc.key().namespace_() || !Matches(selector, pod.labels())) {
        continue;
      }
      std::vector<uint32_t> ports;
      for (const v1::ServicePort& sp : svc.ports()) ports.push_back(ResolvePort(sp, pod));
      groups[ports].push_back(&pod);
    }
    int n = 0;
    for (const auto& [ports, pods] : groups) {
      v1::EndpointSlice slice;
      slice.mutable_key()->set_namespace_(svc.key().namespace_());
      slice.mutable_key()->set_name(svc.key().name() + "-manifest-" + std::to_string(n++));
      slice.set_service_name(svc.key().name());
      slice.set_address_type("IPv4");
      for (size_t i = 0; i < ports.size(); ++i) {
        if (ports[i] == 0) continue;
        v1::EndpointPort* p = slice.add_ports();
        p->set_name(svc.ports(static_cast<int>(i)).name());
        p->set_protocol(svc.ports(static_cast<int>(i)).protocol());
        p->set_port(ports[i]);
      }
      std::vector<std::string> names;
      for (const v1::Pod* pod : pods) {
        PodStatus st = pod_status.at(pod->key().namespace_() + "/" + pod->key().name());
        if (publish_not_ready) st = PodStatus{true, false};  // the endpoint controller's override
        v1::Endpoint* e = slice.add_endpoints();
        e->add_addresses(pod->ips(0));
        e->mutable_conditions()->set_ready(st.ready && !st.terminating);
        e->mutable_conditions()->set_serving(st.ready);
        e->mutable_conditions()->set_terminating(st.terminating);
        e->set_node_name(pod->node_name());
        *e->mutable_target_pod() = pod->key();
        names.push_back(pod->key().name() + (e->conditions().ready() ? "" : " (not ready)"));
      }
      set->notes.push_back("derived EndpointSlice " + key + "-manifest-" + std::to_string(n - 1) +
                           ": " + absl::StrJoin(names, ", "));
      set->objects.endpoint_slices[slice.key().namespace_() + "/" + slice.key().name()] = slice;
    }
    if (groups.empty()) set->notes.push_back("Service " + key + " selects no pod of the manifests");
  }
}

}  // namespace

Json YamlToJson(const std::string& yaml_document) { return Convert(YAML::Load(yaml_document)); }

absl::StatusOr<ManifestSet> LoadManifests(const std::vector<std::string>& paths,
                                          const KnownPods& known_pods) {
  std::vector<std::string> errors;
  std::vector<Loaded> loaded;
  for (const std::string& file : ManifestFiles(paths, &errors)) {
    auto text = ReadFile(file);
    if (!text.ok()) {
      errors.push_back(std::string(text.status().message()));
      continue;
    }
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(*text);
    } catch (const YAML::Exception& e) {
      errors.push_back(file + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
      continue;
    }
    for (size_t d = 0; d < docs.size(); ++d) {
      const std::string doc_where = file + ": document " + std::to_string(d + 1);
      if (docs[d].IsNull()) continue;  // an empty document between two ---
      Json j = Convert(docs[d]);
      std::vector<std::pair<Json, std::string>> objects;
      if (j.is_object() && j.value("kind", "") == "List" && j.contains("items") &&
          j["items"].is_array()) {
        for (size_t i = 0; i < j["items"].size(); ++i) {
          objects.emplace_back(j["items"][i], doc_where + " items[" + std::to_string(i) + "]");
        }
      } else {
        objects.emplace_back(j, doc_where);
      }
      for (auto& [obj, where] : objects) {
        if (!obj.is_object()) {
          errors.push_back(where + ": not a Kubernetes object (a mapping with apiVersion and kind)");
          continue;
        }
        const std::string api = obj.value("apiVersion", "");
        const std::string kind = obj.value("kind", "");
        if (api.empty() || kind.empty()) {
          errors.push_back(where + ": " + (api.empty() ? "apiVersion" : "kind") + ": required");
          continue;
        }
        auto k = KindFromManifest(api, kind);
        if (!k) {
          errors.push_back(where + ": unknown kind " + api + " " + kind +
                           " (nodeplane reads v1 Namespace, Pod, Service, Node, "
                           "discovery.k8s.io/v1 EndpointSlice, networking.k8s.io/v1 NetworkPolicy)");
          continue;
        }
        loaded.push_back(Loaded{*k, std::move(obj), where});
      }
    }
  }

  ManifestSet set;
  KubeState state;
  std::map<std::string, Json> service_json;
  std::map<std::string, PodStatus> pod_status;
  std::set<std::string> seen;
  std::set<std::string> used_namespaces;
  for (Loaded& l : loaded) {
    auto key = ObjectKey(l.kind, l.object);
    if (!key.ok()) {
      errors.push_back(l.where + ": " + std::string(key.status().message()));
      continue;
    }
    const std::string id = std::string(KindName(l.kind)) + " " + *key;
    if (!seen.insert(id).second) {
      errors.push_back(l.where + ": " + id + " is defined twice");
      continue;
    }
    if (key->find('/') != std::string::npos) used_namespaces.insert(key->substr(0, key->find('/')));
    if (l.kind == Kind::kPod) {
      Json& status = l.object["status"];
      if (!status.is_object()) status = Json::object();
      const Json& annotations = l.object["metadata"].value("annotations", Json::object());
      const bool has_ips = status.contains("podIPs") || status.contains("podIP");
      if (!has_ips && annotations.is_object() && annotations.contains(kPodIpsAnnotation)) {
        const Json& a = annotations[kPodIpsAnnotation];
        if (!a.is_string()) {
          errors.push_back(l.where + ": " + id + ": metadata.annotations." + kPodIpsAnnotation +
                           ": expected a string");
          continue;
        }
        Json ips = Json::array();
        for (absl::string_view ip : absl::StrSplit(a.get<std::string>(), ',', absl::SkipEmpty())) {
          ips.push_back({{"ip", std::string(absl::StripAsciiWhitespace(ip))}});
        }
        status["podIPs"] = ips;
      }
      auto known = known_pods.find(*key);
      if (!has_ips && !status.contains("podIPs") && known != known_pods.end()) {
        Json ips = Json::array();
        for (const std::string& ip : known->second.ips) ips.push_back({{"ip", ip}});
        status["podIPs"] = ips;
      }
      if (known != known_pods.end() && !known->second.node_name.empty()) {
        Json& spec = l.object["spec"];
        if (spec.is_null()) spec = Json::object();
        if (spec.is_object() && !spec.contains("nodeName")) spec["nodeName"] = known->second.node_name;
      }
      PodStatus ps;
      if (status.contains("conditions") && status["conditions"].is_array()) {
        for (const Json& c : status["conditions"]) {
          if (c.is_object() && c.value("type", "") == "Ready") ps.ready = c.value("status", "") != "False";
        }
      }
      ps.terminating = l.object["metadata"].contains("deletionTimestamp");
      pod_status[*key] = ps;
    }
    if (l.kind == Kind::kService) service_json[*key] = l.object;
    if (absl::Status s = state.Upsert(l.kind, l.object); !s.ok()) {
      errors.push_back(l.where + ": " + std::string(s.message()));
      continue;
    }
    if (l.kind == Kind::kPod && !state.objects().pods.contains(*key)) {
      set.notes.push_back("left out " + id + ": no address (status.podIPs, annotation " +
                          kPodIpsAnnotation + ", or a pod nodeplaned has)");
    } else {
      set.notes.push_back("loaded " + id);
    }
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError("manifests not applied (nothing was):\n  " +
                                      absl::StrJoin(errors, "\n  "));
  }
  set.objects = state.objects();
  for (const std::string& ns : used_namespaces) {
    if (set.objects.namespaces.contains(ns)) continue;
    v1::Namespace n;
    n.set_name(ns);
    (*n.mutable_labels())["kubernetes.io/metadata.name"] = ns;
    set.objects.namespaces[ns] = n;
    set.notes.push_back("implied Namespace " + ns);
  }
  DeriveEndpointSlices(service_json, pod_status, &set);
  return set;
}

}  // namespace nodeplane::agent
