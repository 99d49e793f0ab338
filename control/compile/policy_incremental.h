// NetworkPolicy, compiled incrementally: the state control/compile/policy_compile.h keeps between
// compiles so that a change costs what it affects, not the size of the cluster.
//
// Kept: the policies, namespaces and pods last compiled; per (namespace, pod labels) class the
// selector peers matching it; identities with reference counts and, per peer, the identities it
// matches; allow-sets with reference counts and their rows per identity. Update() compares the new
// state with the kept one and recomputes:
//   - a pod's labels, addresses, ports or placement: its class, its identities, its allow-sets;
//   - a namespace's labels: the classes of that namespace (hence its pods' identities);
//   - a policy upsert/delete: its new peers against every class (cheap: no pod is visited unless
//     the answer changed; peers it keeps keep their answers), the identities of the pods whose
//     answer changed, the allow-sets of the local pods of its namespace, and the rows of the
//     allow-sets it is part of;
//   - an identity that appears or disappears: its row in the allow-sets whose rules can match it.
// Identity and set numbers are reused after they are freed, so a result equals the from-scratch
// compile up to numbering. A change of this node's addresses starts over (rare).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/compile/policy_ports.h"
#include "control/model/desired_state.h"
#include "dataplane/core/policy_spec.h"

namespace nodeplane::ctl {

class IncrementalPolicyCompiler {
 public:
  // What the updates did, over the compiler's life: for tests and benchmarks.
  struct Stats {
    uint64_t updates = 0;
    uint64_t restarts = 0;             // updates that started from nothing
    uint64_t classes_evaluated = 0;    // classes matched against every selector peer
    uint64_t peer_evaluations = 0;     // (selector peer, class) matches computed
    uint64_t identities_computed = 0;  // pod addresses whose identity was recomputed
    uint64_t sets_selected = 0;        // (local pod, direction) allow-sets recomputed
    uint64_t sets_built = 0;           // allow-sets whose rows were computed whole
    uint64_t rows_computed = 0;        // (allow-set, identity) rows computed
  };

  IncrementalPolicyCompiler() = default;
  // It points into itself: moved, never copied.
  IncrementalPolicyCompiler(const IncrementalPolicyCompiler&) = delete;
  IncrementalPolicyCompiler& operator=(const IncrementalPolicyCompiler&) = delete;
  IncrementalPolicyCompiler(IncrementalPolicyCompiler&&) = default;
  IncrementalPolicyCompiler& operator=(IncrementalPolicyCompiler&&) = default;

  // The compiled form of `state`, computed from what changed since the previous call.
  dp::PolicySpec Update(const DesiredState& state);
  const Stats& stats() const { return stats_; }

 private:
  using PortsKey = policy::PortsKey;
  using ClassKey = std::pair<std::string, Labels>;  // (namespace, pod labels)
  struct Peer {
    const PolicyPeer* peer = nullptr;  // into policies_; nullptr: free
    const PolicyKey* policy = nullptr;
    uint32_t pod_sel = UINT32_MAX;  // interned selectors (selectors_); UINT32_MAX: not given
    uint32_t ns_sel = UINT32_MAX;
  };
  struct SelectorInfo {
    const LabelSelector* selector = nullptr;  // nullptr: free
    uint32_t refs = 0;
  };
  struct PolicyEntry {
    NetworkPolicyModel model;
    std::vector<std::vector<uint32_t>> ingress_peers;  // peer ids per rule
    std::vector<std::vector<uint32_t>> egress_peers;
  };
  struct ClassInfo {
    std::vector<uint32_t> peers;  // sorted selector peer ids matching the class
    std::set<PodKey> pods;
  };
  struct PodEntry {
    PodModel model;
    bool local = false;
    uint32_t ports_class = 0;
    std::vector<uint32_t> identities;  // per address, as in model.ips
    uint32_t ingress_set = dp::kNoPolicySet;
    uint32_t egress_set = dp::kNoPolicySet;
  };
  struct IdentityKey {
    std::vector<uint32_t> peers;        // sorted peer ids
    uint32_t ports_class = UINT32_MAX;  // UINT32_MAX: not a pod
    friend auto operator<=>(const IdentityKey&, const IdentityKey&) = default;
  };
  struct IdentityInfo {
    const IdentityKey* key = nullptr;  // nullptr: free
    uint32_t refs = 0;
    std::set<uint32_t> row_sets;  // sets that may hold a row for it (a superset)
  };
  struct SetKey {
    bool ingress = false;
    std::vector<PolicyKey> policies;
    uint32_t ports_class = UINT32_MAX;
    friend auto operator<=>(const SetKey&, const SetKey&) = default;
  };
  struct SetInfo {
    const SetKey* key = nullptr;  // nullptr: free
    uint32_t refs = 0;
    bool named_any_peer = false;  // an egress rule to every peer with named ports
    dp::PolicySetSpec any_peer;
    std::map<uint32_t, policy::PortLists> rows;  // by identity; only non-empty ones
  };

  void Restart(const std::vector<uint32_t>& node_ips);
  void UpdateNamespaces(const DesiredState& s);
  void UpdatePolicies(const DesiredState& s);
  void RemovePolicy(std::map<PolicyKey, PolicyEntry>::iterator it);
  void AddPolicy(const NetworkPolicyModel& model);
  void ReplacePolicy(std::map<PolicyKey, PolicyEntry>::iterator it, const NetworkPolicyModel& model);
  void RemovePeer(uint32_t id);
  uint32_t AddPeer(const PolicyPeer& peer, const PolicyKey& policy);
  uint32_t AcquireSelector(const LabelSelector& selector);
  void ReleaseSelector(uint32_t id);
  void UpdatePods(const DesiredState& s);
  void RecomputeDirty();
  void RecomputeNodeAndRanges();
  dp::PolicySpec Emit() const;

  const Labels& NamespaceLabels(const std::string& ns);
  bool PeerMatches(uint32_t peer, const std::string& ns, const Labels& ns_labels,
                   const Labels& pod_labels);
  std::vector<uint32_t> ClassPeers(const ClassKey& key);
  void JoinClass(const PodKey& pod, const Labels& labels);
  void LeaveClass(const PodKey& pod, const Labels& labels);
  void MarkPodsInBlock(const IpBlockModel& block);
  void MarkLocalPodsOf(const std::string& ns);
  IdentityKey AddressKey(Ip4 ip, const std::vector<uint32_t>& selector_peers,
                         uint32_t ports_class) const;

  uint32_t AcquireIdentity(IdentityKey key);
  void ReleaseIdentity(uint32_t id);
  std::set<uint32_t> SetsThatMayMatch(const IdentityKey& key) const;
  uint32_t AcquireSet(SetKey key);
  void ReleaseSet(uint32_t id);
  void BuildSet(uint32_t id);
  policy::PortLists Row(const SetInfo& set, uint32_t identity);
  uint32_t SetFor(const PodEntry& pod, bool ingress);
  uint32_t PortsClass(const PortsKey& key);

  Stats stats_;
  bool started_ = false;
  std::vector<uint32_t> node_ips_;  // sorted, network order

  std::map<PolicyKey, PolicyEntry> policies_;
  std::vector<Peer> peers_;
  std::vector<uint32_t> free_peers_;
  std::vector<uint32_t> freed_peers_;  // free once this update is done
  std::set<uint32_t> selector_peers_;
  // Distinct selectors (many peers share one): a class meets each once.
  std::map<LabelSelector, uint32_t> selector_ids_;
  std::vector<SelectorInfo> selectors_;
  std::vector<uint32_t> free_selectors_;
  std::vector<int8_t> ns_answers_;   // per selector while a class is evaluated
  std::vector<int8_t> pod_answers_;
  std::set<uint32_t> block_peers_;
  bool blocks_changed_ = false;

  std::map<std::string, NamespaceModel> namespaces_;
  std::map<std::string, Labels> default_ns_labels_;  // of namespaces not (yet) given
  std::map<ClassKey, ClassInfo> classes_;
  std::map<PodKey, PodEntry> pods_;
  std::set<uint32_t> pod_ips_;  // network order
  std::set<PodKey> dirty_identity_;
  std::set<PodKey> dirty_sets_;

  std::map<PortsKey, uint32_t> ports_class_ids_;  // never freed: few distinct ones
  std::vector<const PortsKey*> ports_classes_;

  std::map<IdentityKey, uint32_t> identity_ids_;
  std::vector<IdentityInfo> identities_;
  std::vector<uint32_t> free_identities_;
  std::vector<std::set<uint32_t>> peer_identities_;  // by peer id
  std::set<uint32_t> pod_identities_;

  std::map<SetKey, uint32_t> set_ids_;
  std::vector<SetInfo> sets_;  // set s at [s - 1]
  std::vector<uint32_t> free_sets_;
  std::map<PolicyKey, std::set<uint32_t>> policy_sets_;  // the sets a policy is part of
  std::set<uint32_t> named_any_sets_;
  std::set<uint32_t> stale_sets_;  // their policies changed: rebuild if still in use

  std::map<uint32_t, uint32_t> node_only_;       // address of this node but no pod's → identity
  std::vector<dp::PolicyRangeSpec> ranges_;
};

}  // namespace nodeplane::ctl
