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

#include "control/compile/policy_incremental.h"
#include "control/model/desired_state.h"
#include "dataplane/core/policy_spec.h"

namespace nodeplane::ctl {

// Whether a pod is on this node for policy purposes: attached here, or named with this node.
bool IsLocalPod(const DesiredState& state, const PodModel& pod);

// The compiler's state between compiles (the Applier keeps one): with it, a change recompiles
// only what it affects (control/compile/policy_incremental.h).
struct PolicyCompileCache {
  IncrementalPolicyCompiler compiler;
};

// From scratch: the reference the incremental compile is checked against.
dp::PolicySpec CompilePolicy(const DesiredState& state);
// Incremental: the same result as from scratch (up to the numbering of identities and sets),
// computed from what changed since the previous call with this cache (nullptr: from scratch).
dp::PolicySpec CompilePolicy(const DesiredState& state, PolicyCompileCache* cache);

// True when the inputs of CompilePolicy differ between the two states (policies, namespaces, the
// pods' labels, addresses, ports or placement, this node's addresses): the policy generation moves.
bool PolicyInputsDiffer(const DesiredState& a, const DesiredState& b);

}  // namespace nodeplane::ctl
