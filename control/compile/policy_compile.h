// NetworkPolicy, compiled: the one place Kubernetes NetworkPolicy semantics become dataplane
// tables (k8s-semantics §1, DESIGN §5). Pure and deterministic; no DPDK.
//
// What it decides:
//   - a pod is isolated for ingress (egress) iff a policy of its own namespace selects it and has
//     Ingress (Egress) in its effective policyTypes; its allowed peers are the union of those
//     policies' rules;
//   - a peer with podSelector alone means pods of the policy's namespace; namespaceSelector alone,
//     every pod of the matching namespaces; both in one peer, their intersection; an ipBlock
//     matches addresses (pod addresses included) inside cidr and outside every except;
//   - ports: numeric, ranges (endPort), or named — resolved on the destination pod's container
//     ports with the rule's protocol (so one rule may mean different numbers on different pods,
//     and nothing on a destination that is not a pod); no ports: every port of every protocol;
//   - egress is judged for local source pods, ingress for local destination pods.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "control/model/desired_state.h"
#include "dataplane/core/policy_spec.h"

namespace nodeplane::ctl {

// Whether a pod is on this node for policy purposes: attached here, or named with this node.
bool IsLocalPod(const DesiredState& state, const PodModel& pod);

// What a compile reuses from earlier ones: which selector peers match the pods of each (namespace,
// labels) class. Valid only for the policies and namespaces it was computed with (compared on
// every use, dropped when they differ), so a pod's label change evaluates every selector against
// its new class alone instead of against every pod. Owned by the caller (the Applier keeps one).
struct PolicyCompileCache {
  std::map<PolicyKey, NetworkPolicyModel> policies;
  std::map<std::string, NamespaceModel> namespaces;
  std::map<std::pair<std::string, Labels>, std::vector<uint32_t>> class_peers;
  uint64_t classes_reused = 0;    // over the cache's life, for tests and benchmarks
  uint64_t classes_computed = 0;
};

dp::PolicySpec CompilePolicy(const DesiredState& state);
dp::PolicySpec CompilePolicy(const DesiredState& state, PolicyCompileCache* cache);

// True when the inputs of CompilePolicy differ between the two states (policies, namespaces, the
// pods' labels, addresses, ports or placement, this node's addresses): the policy generation moves.
bool PolicyInputsDiffer(const DesiredState& a, const DesiredState& b);

}  // namespace nodeplane::ctl
