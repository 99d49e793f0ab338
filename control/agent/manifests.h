// Manifest mode: the objects of YAML/JSON manifest files, as `kubectl apply -f` takes them (files
// or directories of multi-document YAML, `kind: List` included), translated as the watch mode
// translates them. The set is checked whole: one malformed document, unknown kind or bad field
// fails the load (naming file, document and field) and nothing is applied.
//
// Without a cluster there is no endpoint controller and no kubelet, so:
//  - Services with a selector get EndpointSlices derived from the Pods of the same manifest set
//    (same namespace, labels matching), one slice per distinct set of resolved target ports,
//    named "<service>-manifest-<n>". A Pod is ready unless its status says Ready=False; a Pod
//    with metadata.deletionTimestamp is terminating (serving, not ready).
//  - A Pod's address comes from status.podIPs when the manifest has it, else from the
//    annotation `nodeplane.io/pod-ips` ("10.244.1.5", comma-separated), else from the pod of the
//    same namespace/name nodeplaned already has (attached by the CNI plugin or the lab), which
//    also gives spec.nodeName when the manifest has none. A Pod with none of them is left out,
//    with a note.
//  - Namespaces that objects use but no manifest declares are created with only their
//    kubernetes.io/metadata.name label.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/agent/kube_state.h"

namespace nodeplane::agent {

// A pod nodeplaned already has (attached, or registered by the lab).
struct KnownPod {
  std::vector<std::string> ips;
  std::string node_name;
};
// "namespace/name" → what nodeplaned has, for Pods whose manifest lacks an address or a node.
using KnownPods = std::map<std::string, KnownPod>;

struct ManifestSet {
  KubeObjects objects;
  // One line per object loaded, derived or left out, for the operator.
  std::vector<std::string> notes;
};

absl::StatusOr<ManifestSet> LoadManifests(const std::vector<std::string>& paths,
                                          const KnownPods& known_pods);

// One YAML document → JSON, with YAML 1.2 core-schema scalars (plain true/false/null/integers
// are typed, quoted scalars stay strings). Exposed for tests.
Json YamlToJson(const std::string& yaml_document);

}  // namespace nodeplane::agent
