#include "control/compile/policy_incremental.h"

#include <algorithm>
#include <compare>

#include "control/compile/ip_block_intervals.h"
#include "control/compile/policy_compile.h"

namespace nodeplane::ctl {

using policy::HasNamedPort;
using policy::Normalize;
using policy::Part;
using policy::PortLists;
using policy::ResolvePorts;

namespace {

bool SamePorts(const std::vector<ContainerPort>& a, const std::vector<ContainerPort>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].port != b[i].port || a[i].protocol != b[i].protocol) {
      return false;
    }
  }
  return true;
}

bool Empty(const PortLists& lists) {
  return std::all_of(lists.begin(), lists.end(), [](const auto& l) { return l.empty(); });
}

template <typename T>
uint32_t Allocate(std::vector<T>& slots, std::vector<uint32_t>& free) {
  if (!free.empty()) {
    const uint32_t id = free.back();
    free.pop_back();
    return id;
  }
  slots.emplace_back();
  return static_cast<uint32_t>(slots.size() - 1);
}

}  // namespace

dp::PolicySpec IncrementalPolicyCompiler::Update(const DesiredState& s) {
  ++stats_.updates;
  std::vector<uint32_t> node_ips;
  if (s.node) {
    for (const Ip4Prefix& a : s.node->addresses) node_ips.push_back(a.addr.be);
  }
  std::sort(node_ips.begin(), node_ips.end());
  node_ips.erase(std::unique(node_ips.begin(), node_ips.end()), node_ips.end());
  if (!started_ || node_ips != node_ips_) Restart(node_ips);

  UpdateNamespaces(s);
  UpdatePolicies(s);
  UpdatePods(s);
  RecomputeDirty();
  RecomputeNodeAndRanges();
  for (uint32_t id : stale_sets_) {
    if (sets_[id - 1].key != nullptr) BuildSet(id);
  }
  stale_sets_.clear();
  // Peer ids are reused only from the next update on: within one, an id means one peer.
  free_peers_.insert(free_peers_.end(), freed_peers_.begin(), freed_peers_.end());
  freed_peers_.clear();
  blocks_changed_ = false;
  return Emit();
}

void IncrementalPolicyCompiler::Restart(const std::vector<uint32_t>& node_ips) {
  const Stats stats = stats_;
  *this = IncrementalPolicyCompiler();
  stats_ = stats;
  ++stats_.restarts;
  started_ = true;
  node_ips_ = node_ips;
  blocks_changed_ = true;  // the ranges are computed once at least
}

const Labels& IncrementalPolicyCompiler::NamespaceLabels(const std::string& ns) {
  if (auto it = namespaces_.find(ns); it != namespaces_.end()) return it->second.labels;
  auto [it, inserted] = default_ns_labels_.emplace(ns, Labels{});
  if (inserted) it->second = DefaultNamespaceLabels(ns);
  return it->second;
}

bool IncrementalPolicyCompiler::PeerMatches(uint32_t id, const std::string& ns,
                                            const Labels& ns_labels, const Labels& pod_labels) {
  ++stats_.peer_evaluations;
  const PolicyPeer& p = *peers_[id].peer;
  if (!p.namespace_selector) {
    if (peers_[id].policy->ns != ns) return false;
  } else if (!p.namespace_selector->Matches(ns_labels)) {
    return false;
  }
  return !p.pod_selector || p.pod_selector->Matches(pod_labels);
}

std::vector<uint32_t> IncrementalPolicyCompiler::ClassPeers(const ClassKey& key) {
  ++stats_.classes_evaluated;
  const Labels& ns_labels = NamespaceLabels(key.first);
  // Answers per selector for the namespace's labels and for the pods' labels: -1 unknown.
  ns_answers_.assign(selectors_.size(), -1);
  pod_answers_.assign(selectors_.size(), -1);
  auto matches = [&](std::vector<int8_t>& answers, uint32_t sel, const Labels& labels) {
    int8_t& known = answers[sel];
    if (known < 0) known = selectors_[sel].selector->Matches(labels) ? 1 : 0;
    return known == 1;
  };
  std::vector<uint32_t> out;
  for (uint32_t id : selector_peers_) {
    ++stats_.peer_evaluations;
    const Peer& p = peers_[id];
    if (p.ns_sel == UINT32_MAX) {
      if (p.policy->ns != key.first) continue;
    } else if (!matches(ns_answers_, p.ns_sel, ns_labels)) {
      continue;
    }
    if (p.pod_sel != UINT32_MAX && !matches(pod_answers_, p.pod_sel, key.second)) continue;
    out.push_back(id);
  }
  return out;
}

uint32_t IncrementalPolicyCompiler::AcquireSelector(const LabelSelector& selector) {
  if (auto it = selector_ids_.find(selector); it != selector_ids_.end()) {
    ++selectors_[it->second].refs;
    return it->second;
  }
  const uint32_t id = Allocate(selectors_, free_selectors_);
  selectors_[id] = SelectorInfo{&selector_ids_.emplace(selector, id).first->first, 1};
  return id;
}

void IncrementalPolicyCompiler::ReleaseSelector(uint32_t id) {
  if (id == UINT32_MAX || --selectors_[id].refs > 0) return;
  selector_ids_.erase(*selectors_[id].selector);
  selectors_[id] = SelectorInfo{};
  free_selectors_.push_back(id);
}

void IncrementalPolicyCompiler::JoinClass(const PodKey& pod, const Labels& labels) {
  ClassKey key{pod.ns, labels};
  auto it = classes_.find(key);
  if (it == classes_.end()) {
    ClassInfo info;
    info.peers = ClassPeers(key);
    it = classes_.emplace(std::move(key), std::move(info)).first;
  }
  it->second.pods.insert(pod);
}

void IncrementalPolicyCompiler::LeaveClass(const PodKey& pod, const Labels& labels) {
  auto it = classes_.find(ClassKey{pod.ns, labels});
  if (it == classes_.end()) return;
  it->second.pods.erase(pod);
  if (it->second.pods.empty()) classes_.erase(it);
}

// --- namespaces -----------------------------------------------------------------------------

void IncrementalPolicyCompiler::UpdateNamespaces(const DesiredState& s) {
  if (namespaces_ == s.namespaces) return;
  std::set<std::string> changed;
  for (const auto& [name, ns] : namespaces_) {
    auto it = s.namespaces.find(name);
    if (it == s.namespaces.end() || it->second.labels != ns.labels) changed.insert(name);
  }
  for (const auto& [name, ns] : s.namespaces) {
    if (!namespaces_.contains(name)) changed.insert(name);
  }
  namespaces_ = s.namespaces;
  // Namespace labels decide namespaceSelector answers only: the classes of that namespace.
  for (const std::string& ns : changed) {
    for (auto it = classes_.lower_bound(ClassKey{ns, Labels{}});
         it != classes_.end() && it->first.first == ns; ++it) {
      std::vector<uint32_t> peers = ClassPeers(it->first);
      if (peers == it->second.peers) continue;
      it->second.peers = std::move(peers);
      dirty_identity_.insert(it->second.pods.begin(), it->second.pods.end());
    }
  }
}

// --- policies -------------------------------------------------------------------------------

void IncrementalPolicyCompiler::UpdatePolicies(const DesiredState& s) {
  std::vector<PolicyKey> gone;
  for (auto& [key, e] : policies_) {
    auto it = s.network_policies.find(key);
    if (it == s.network_policies.end()) {
      gone.push_back(key);
    } else if (it->second != e.model) {
      ReplacePolicy(policies_.find(key), it->second);
    }
  }
  for (const PolicyKey& key : gone) RemovePolicy(policies_.find(key));
  for (const auto& [key, model] : s.network_policies) {
    if (!policies_.contains(key)) AddPolicy(model);
  }
}

void IncrementalPolicyCompiler::MarkPodsInBlock(const IpBlockModel& block) {
  blocks_changed_ = true;
  for (const auto& [key, pod] : pods_) {
    for (const Ip4& ip : pod.model.ips) {
      if (block.Contains(Ip4Prefix{ip, 32})) dirty_identity_.insert(key);
    }
  }
}

void IncrementalPolicyCompiler::MarkLocalPodsOf(const std::string& ns) {
  for (auto it = pods_.lower_bound(PodKey{ns, ""}); it != pods_.end() && it->first.ns == ns; ++it) {
    if (it->second.local) dirty_sets_.insert(it->first);
  }
}

void IncrementalPolicyCompiler::RemovePeer(uint32_t id) {
  if (const PolicyPeer& peer = *peers_[id].peer; peer.ip_block) {
    MarkPodsInBlock(*peer.ip_block);
    block_peers_.erase(id);
  } else {
    selector_peers_.erase(id);
    ReleaseSelector(peers_[id].pod_sel);
    ReleaseSelector(peers_[id].ns_sel);
    for (auto& [ckey, cls] : classes_) {
      auto pos = std::lower_bound(cls.peers.begin(), cls.peers.end(), id);
      if (pos == cls.peers.end() || *pos != id) continue;
      cls.peers.erase(pos);
      dirty_identity_.insert(cls.pods.begin(), cls.pods.end());
    }
  }
  peers_[id] = Peer{};
  freed_peers_.push_back(id);
}

uint32_t IncrementalPolicyCompiler::AddPeer(const PolicyPeer& peer, const PolicyKey& policy) {
  const uint32_t id = Allocate(peers_, free_peers_);
  peers_[id] = Peer{&peer, &policy};
  if (peer_identities_.size() < peers_.size()) peer_identities_.resize(peers_.size());
  if (peer.ip_block) {
    block_peers_.insert(id);
    MarkPodsInBlock(*peer.ip_block);
    return id;
  }
  selector_peers_.insert(id);
  if (peer.pod_selector) peers_[id].pod_sel = AcquireSelector(*peer.pod_selector);
  if (peer.namespace_selector) peers_[id].ns_sel = AcquireSelector(*peer.namespace_selector);
  for (auto& [ckey, cls] : classes_) {
    if (!PeerMatches(id, ckey.first, NamespaceLabels(ckey.first), ckey.second)) continue;
    cls.peers.insert(std::lower_bound(cls.peers.begin(), cls.peers.end(), id), id);
    dirty_identity_.insert(cls.pods.begin(), cls.pods.end());
  }
  return id;
}

void IncrementalPolicyCompiler::RemovePolicy(std::map<PolicyKey, PolicyEntry>::iterator it) {
  for (const auto* lists : {&it->second.ingress_peers, &it->second.egress_peers}) {
    for (const std::vector<uint32_t>& rule : *lists) {
      for (uint32_t id : rule) RemovePeer(id);
    }
  }
  if (auto sets = policy_sets_.find(it->first); sets != policy_sets_.end()) {
    stale_sets_.insert(sets->second.begin(), sets->second.end());
  }
  MarkLocalPodsOf(it->first.ns);
  policies_.erase(it);
}

void IncrementalPolicyCompiler::AddPolicy(const NetworkPolicyModel& model) {
  auto it = policies_.emplace(model.key, PolicyEntry{model, {}, {}}).first;
  PolicyEntry& e = it->second;
  for (const auto& [rules, out] : {std::pair{&e.model.ingress_rules, &e.ingress_peers},
                                   std::pair{&e.model.egress_rules, &e.egress_peers}}) {
    for (const PolicyRule& rule : *rules) {
      std::vector<uint32_t>& ids = out->emplace_back();
      for (const PolicyPeer& peer : rule.peers) ids.push_back(AddPeer(peer, it->first));
    }
  }
  MarkLocalPodsOf(model.key.ns);
}

// A changed policy keeps the ids of the peers it still has (equal peers give equal answers), so
// a change of its ports, selector or types classifies no address again.
void IncrementalPolicyCompiler::ReplacePolicy(std::map<PolicyKey, PolicyEntry>::iterator it,
                                              const NetworkPolicyModel& model) {
  PolicyEntry& e = it->second;
  std::vector<std::pair<const PolicyPeer*, uint32_t>> old;  // into the model being replaced
  for (const auto& [rules, ids] : {std::pair{&e.model.ingress_rules, &e.ingress_peers},
                                   std::pair{&e.model.egress_rules, &e.egress_peers}}) {
    for (size_t r = 0; r < rules->size(); ++r) {
      for (size_t p = 0; p < (*rules)[r].peers.size(); ++p) {
        old.emplace_back(&(*rules)[r].peers[p], (*ids)[r][p]);
      }
    }
  }
  std::vector<bool> kept(old.size(), false);
  NetworkPolicyModel previous = std::move(e.model);  // `old` points into it until we return
  e.model = model;
  e.ingress_peers.clear();
  e.egress_peers.clear();
  std::vector<std::pair<const PolicyPeer*, std::vector<uint32_t>*>> added;
  for (const auto& [rules, out] : {std::pair{&e.model.ingress_rules, &e.ingress_peers},
                                   std::pair{&e.model.egress_rules, &e.egress_peers}}) {
    for (const PolicyRule& rule : *rules) {
      std::vector<uint32_t>& ids = out->emplace_back();
      for (const PolicyPeer& peer : rule.peers) {
        size_t i = 0;
        while (i < old.size() && (kept[i] || !(*old[i].first == peer))) ++i;
        if (i < old.size()) {
          kept[i] = true;
          peers_[old[i].second].peer = &peer;
          ids.push_back(old[i].second);
        } else {
          ids.push_back(UINT32_MAX);  // added below, once the old ones are gone
        }
      }
    }
  }
  for (size_t i = 0; i < old.size(); ++i) {
    if (!kept[i]) RemovePeer(old[i].second);
  }
  for (const auto& [rules, out] : {std::pair{&e.model.ingress_rules, &e.ingress_peers},
                                   std::pair{&e.model.egress_rules, &e.egress_peers}}) {
    for (size_t r = 0; r < rules->size(); ++r) {
      for (size_t p = 0; p < (*rules)[r].peers.size(); ++p) {
        if ((*out)[r][p] == UINT32_MAX) (*out)[r][p] = AddPeer((*rules)[r].peers[p], it->first);
      }
    }
  }
  if (auto sets = policy_sets_.find(it->first); sets != policy_sets_.end()) {
    stale_sets_.insert(sets->second.begin(), sets->second.end());
  }
  MarkLocalPodsOf(it->first.ns);
}

// --- pods -----------------------------------------------------------------------------------

uint32_t IncrementalPolicyCompiler::PortsClass(const PortsKey& key) {
  auto [it, inserted] = ports_class_ids_.emplace(key, static_cast<uint32_t>(ports_classes_.size()));
  if (inserted) ports_classes_.push_back(&it->first);
  return it->second;
}

void IncrementalPolicyCompiler::UpdatePods(const DesiredState& s) {
  auto a = pods_.begin();
  auto b = s.pods.begin();
  while (a != pods_.end() || b != s.pods.end()) {
    // One three-way comparison of the keys per step: this walk visits every pod.
    const auto order = a == pods_.end()    ? std::strong_ordering::greater
                       : b == s.pods.end() ? std::strong_ordering::less
                                           : a->first <=> b->first;
    if (order < 0) {
      PodEntry& e = a->second;
      for (uint32_t id : e.identities) ReleaseIdentity(id);
      if (e.ingress_set != dp::kNoPolicySet) ReleaseSet(e.ingress_set);
      if (e.egress_set != dp::kNoPolicySet) ReleaseSet(e.egress_set);
      LeaveClass(a->first, e.model.labels);
      for (const Ip4& ip : e.model.ips) pod_ips_.erase(ip.be);
      a = pods_.erase(a);
      continue;
    }
    const PodModel& pod = b->second;
    const bool local = IsLocalPod(s, pod);
    if (order > 0) {
      PodEntry e{pod, local, PortsClass(policy::PortsKeyOf(pod.ports)), {}, {}, {}};
      JoinClass(b->first, pod.labels);
      for (const Ip4& ip : pod.ips) pod_ips_.insert(ip.be);
      pods_.emplace_hint(a, b->first, std::move(e));
      dirty_identity_.insert(b->first);
      dirty_sets_.insert(b->first);
      ++b;
      continue;
    }
    PodEntry& e = a->second;
    const bool labels = e.model.labels != pod.labels;
    const bool ips = e.model.ips != pod.ips;
    const bool ports = !SamePorts(e.model.ports, pod.ports);
    if (labels || ips || ports || local != e.local || e.model.node_name != pod.node_name) {
      if (labels) {
        LeaveClass(a->first, e.model.labels);
        JoinClass(a->first, pod.labels);
      }
      if (ips) {
        for (const Ip4& ip : e.model.ips) pod_ips_.erase(ip.be);
        for (const Ip4& ip : pod.ips) pod_ips_.insert(ip.be);
      }
      if (labels || ips || ports) dirty_identity_.insert(a->first);
      if (labels || ips || ports || local != e.local) dirty_sets_.insert(a->first);
      e.model = pod;
      e.local = local;
      if (ports) e.ports_class = PortsClass(policy::PortsKeyOf(pod.ports));
    }
    ++a;
    ++b;
  }
}

IncrementalPolicyCompiler::IdentityKey IncrementalPolicyCompiler::AddressKey(
    Ip4 ip, const std::vector<uint32_t>& selector_peers, uint32_t ports_class) const {
  IdentityKey k{selector_peers, ports_class};
  for (uint32_t id : block_peers_) {
    if (peers_[id].peer->ip_block->Contains(Ip4Prefix{ip, 32})) k.peers.push_back(id);
  }
  std::sort(k.peers.begin(), k.peers.end());
  return k;
}

void IncrementalPolicyCompiler::RecomputeDirty() {
  for (const PodKey& key : dirty_identity_) {
    auto it = pods_.find(key);
    if (it == pods_.end()) continue;
    PodEntry& e = it->second;
    const std::vector<uint32_t>& peers = classes_.at(ClassKey{key.ns, e.model.labels}).peers;
    std::vector<uint32_t> ids;
    for (const Ip4& ip : e.model.ips) {
      ++stats_.identities_computed;
      ids.push_back(AcquireIdentity(AddressKey(ip, peers, e.ports_class)));
    }
    // Acquire before release: an unchanged identity is not torn down and rebuilt.
    for (uint32_t id : e.identities) ReleaseIdentity(id);
    e.identities = std::move(ids);
  }
  dirty_identity_.clear();
  for (const PodKey& key : dirty_sets_) {
    auto it = pods_.find(key);
    if (it == pods_.end()) continue;
    PodEntry& e = it->second;
    uint32_t in = dp::kNoPolicySet, out = dp::kNoPolicySet;
    if (e.local && !e.model.ips.empty()) {
      stats_.sets_selected += 2;
      in = SetFor(e, /*ingress=*/true);
      out = SetFor(e, /*ingress=*/false);
    }
    if (e.ingress_set != dp::kNoPolicySet) ReleaseSet(e.ingress_set);
    if (e.egress_set != dp::kNoPolicySet) ReleaseSet(e.egress_set);
    e.ingress_set = in;
    e.egress_set = out;
  }
  dirty_sets_.clear();
}

void IncrementalPolicyCompiler::RecomputeNodeAndRanges() {
  // This node's addresses that are no pod's: a handful, recomputed every time.
  std::map<uint32_t, uint32_t> node_only;
  for (uint32_t be : node_ips_) {
    if (!pod_ips_.contains(be)) node_only[be] = AcquireIdentity(AddressKey(Ip4{be}, {}, UINT32_MAX));
  }
  for (const auto& [be, id] : node_only_) ReleaseIdentity(id);
  node_only_ = std::move(node_only);
  if (!blocks_changed_) return;
  // Every other address: the elementary intervals between the ipBlock prefixes' boundaries.
  std::set<uint64_t> starts{0};
  for (uint32_t id : block_peers_) policy::AddIntervalStarts(*peers_[id].peer->ip_block, starts);
  std::vector<dp::PolicyRangeSpec> ranges;
  for (uint64_t first : starts) {
    const Ip4 ip = Ip4::FromHost(static_cast<uint32_t>(first));
    ranges.push_back({ip, AcquireIdentity(AddressKey(ip, {}, UINT32_MAX))});
  }
  for (const dp::PolicyRangeSpec& r : ranges_) ReleaseIdentity(r.identity);
  ranges_ = std::move(ranges);
}

// --- identities -----------------------------------------------------------------------------

std::set<uint32_t> IncrementalPolicyCompiler::SetsThatMayMatch(const IdentityKey& key) const {
  std::set<uint32_t> out;
  for (uint32_t p : key.peers) {
    auto it = policy_sets_.find(*peers_[p].policy);
    if (it != policy_sets_.end()) out.insert(it->second.begin(), it->second.end());
  }
  if (key.ports_class != UINT32_MAX) out.insert(named_any_sets_.begin(), named_any_sets_.end());
  return out;
}

uint32_t IncrementalPolicyCompiler::AcquireIdentity(IdentityKey key) {
  if (auto it = identity_ids_.find(key); it != identity_ids_.end()) {
    ++identities_[it->second].refs;
    return it->second;
  }
  const uint32_t id = Allocate(identities_, free_identities_);
  const IdentityKey& k = identity_ids_.emplace(std::move(key), id).first->first;
  identities_[id].key = &k;
  identities_[id].refs = 1;
  for (uint32_t p : k.peers) peer_identities_[p].insert(id);
  if (k.ports_class != UINT32_MAX) pod_identities_.insert(id);
  // A new identity: its row in every allow-set whose rules may match it.
  for (uint32_t s : SetsThatMayMatch(k)) {
    PortLists row = Row(sets_[s - 1], id);
    if (Empty(row)) continue;
    sets_[s - 1].rows[id] = std::move(row);
    identities_[id].row_sets.insert(s);
  }
  return id;
}

void IncrementalPolicyCompiler::ReleaseIdentity(uint32_t id) {
  IdentityInfo& info = identities_[id];
  if (--info.refs > 0) return;
  for (uint32_t s : info.row_sets) {
    if (sets_[s - 1].key != nullptr) sets_[s - 1].rows.erase(id);
  }
  for (uint32_t p : info.key->peers) peer_identities_[p].erase(id);
  pod_identities_.erase(id);
  identity_ids_.erase(*info.key);
  info = IdentityInfo{};
  free_identities_.push_back(id);
}

// --- allow-sets -----------------------------------------------------------------------------

uint32_t IncrementalPolicyCompiler::SetFor(const PodEntry& pod, bool ingress) {
  SetKey key;
  key.ingress = ingress;
  const std::string& ns = pod.model.key.ns;
  for (auto it = policies_.lower_bound(PolicyKey{ns, ""});
       it != policies_.end() && it->first.ns == ns; ++it) {
    const NetworkPolicyModel& pol = it->second.model;
    if (!(ingress ? pol.ingress : pol.egress) || !pol.pod_selector.Matches(pod.model.labels)) {
      continue;
    }
    key.policies.push_back(it->first);
  }
  if (key.policies.empty()) return dp::kNoPolicySet;
  if (ingress) key.ports_class = pod.ports_class;  // its rules' named ports resolve on the pod
  return AcquireSet(std::move(key));
}

uint32_t IncrementalPolicyCompiler::AcquireSet(SetKey key) {
  if (auto it = set_ids_.find(key); it != set_ids_.end()) {
    ++sets_[it->second - 1].refs;
    return it->second;
  }
  const uint32_t index = Allocate(sets_, free_sets_);
  const uint32_t id = index + 1;  // 0 is kNoPolicySet
  const SetKey& k = set_ids_.emplace(std::move(key), id).first->first;
  sets_[index] = SetInfo{};
  sets_[index].key = &k;
  sets_[index].refs = 1;
  for (const PolicyKey& p : k.policies) policy_sets_[p].insert(id);
  BuildSet(id);
  return id;
}

void IncrementalPolicyCompiler::ReleaseSet(uint32_t id) {
  SetInfo& set = sets_[id - 1];
  if (--set.refs > 0) return;
  for (const PolicyKey& p : set.key->policies) {
    auto it = policy_sets_.find(p);
    it->second.erase(id);
    if (it->second.empty()) policy_sets_.erase(it);
  }
  named_any_sets_.erase(id);
  stale_sets_.erase(id);
  set_ids_.erase(*set.key);
  set = SetInfo{};
  free_sets_.push_back(id - 1);
}

void IncrementalPolicyCompiler::BuildSet(uint32_t id) {
  ++stats_.sets_built;
  SetInfo& set = sets_[id - 1];
  const SetKey& key = *set.key;
  set.any_peer = {};
  set.rows.clear();
  set.named_any_peer = false;
  std::set<uint32_t> candidates;
  for (const PolicyKey& pk : key.policies) {
    auto it = policies_.find(pk);
    if (it == policies_.end()) continue;  // going away with this update
    const auto& rules = key.ingress ? it->second.model.ingress_rules : it->second.model.egress_rules;
    const auto& peer_ids = key.ingress ? it->second.ingress_peers : it->second.egress_peers;
    for (size_t r = 0; r < rules.size(); ++r) {
      const PolicyRule& rule = rules[r];
      if (!rule.peers.empty()) {
        for (uint32_t p : peer_ids[r]) {
          candidates.insert(peer_identities_[p].begin(), peer_identities_[p].end());
        }
        continue;
      }
      PortLists lists;
      if (key.ingress) {
        ResolvePorts(rule.ports, ports_classes_[key.ports_class], Part::kAll, lists);
      } else {
        // Egress to every peer: numeric ports here, named ones per destination pod (rows).
        ResolvePorts(rule.ports, nullptr, Part::kNumeric, lists);
        if (HasNamedPort(rule.ports)) set.named_any_peer = true;
      }
      for (int p = 0; p < dp::kPolicyProtos; ++p) {
        set.any_peer.any_peer[p].insert(set.any_peer.any_peer[p].end(), lists[p].begin(),
                                        lists[p].end());
      }
    }
  }
  for (auto& list : set.any_peer.any_peer) Normalize(list);
  if (set.named_any_peer) {
    named_any_sets_.insert(id);
    candidates.insert(pod_identities_.begin(), pod_identities_.end());
  } else {
    named_any_sets_.erase(id);
  }
  for (uint32_t identity : candidates) {
    PortLists row = Row(set, identity);
    if (Empty(row)) continue;
    set.rows[identity] = std::move(row);
    identities_[identity].row_sets.insert(id);
  }
}

// What one allow-set admits from (ingress) or to (egress) one identity: the same resolution as
// the from-scratch compile.
PortLists IncrementalPolicyCompiler::Row(const SetInfo& set, uint32_t identity) {
  ++stats_.rows_computed;
  PortLists out;
  const SetKey& key = *set.key;
  const IdentityKey& ik = *identities_[identity].key;
  const PortsKey* peer_ports = ik.ports_class == UINT32_MAX ? nullptr : ports_classes_[ik.ports_class];
  auto matches = [&](const std::vector<uint32_t>& ids) {
    return std::any_of(ids.begin(), ids.end(), [&](uint32_t p) {
      return std::binary_search(ik.peers.begin(), ik.peers.end(), p);
    });
  };
  for (const PolicyKey& pk : key.policies) {
    auto it = policies_.find(pk);
    if (it == policies_.end()) continue;
    const auto& rules = key.ingress ? it->second.model.ingress_rules : it->second.model.egress_rules;
    const auto& peer_ids = key.ingress ? it->second.ingress_peers : it->second.egress_peers;
    for (size_t r = 0; r < rules.size(); ++r) {
      const PolicyRule& rule = rules[r];
      if (rule.peers.empty()) {
        if (!key.ingress && peer_ports != nullptr && HasNamedPort(rule.ports)) {
          ResolvePorts(rule.ports, peer_ports, Part::kNamed, out);
        }
        continue;
      }
      if (!matches(peer_ids[r])) continue;
      ResolvePorts(rule.ports, key.ingress ? ports_classes_[key.ports_class] : peer_ports,
                   Part::kAll, out);
    }
  }
  for (auto& list : out) Normalize(list);
  return out;
}

// --- output ---------------------------------------------------------------------------------

dp::PolicySpec IncrementalPolicyCompiler::Emit() const {
  dp::PolicySpec spec;
  spec.hosts.reserve(pod_ips_.size() + node_only_.size());
  for (const auto& [key, e] : pods_) {
    for (size_t i = 0; i < e.model.ips.size(); ++i) {
      dp::PolicyHostSpec h;
      h.ip = e.model.ips[i];
      h.identity = e.identities[i];
      h.ingress_set = e.ingress_set;
      h.egress_set = e.egress_set;
      h.node = std::binary_search(node_ips_.begin(), node_ips_.end(), h.ip.be);
      spec.hosts.push_back(h);
    }
  }
  for (const auto& [be, id] : node_only_) {
    dp::PolicyHostSpec h;
    h.ip = Ip4{be};
    h.identity = id;
    h.node = true;
    spec.hosts.push_back(h);
  }
  spec.ranges = ranges_;
  size_t n = sets_.size();
  while (n > 0 && sets_[n - 1].key == nullptr) --n;
  spec.sets.resize(n);
  size_t rows = 0;
  for (size_t s = 0; s < n; ++s) {
    for (const auto& [identity, lists] : sets_[s].rows) {
      for (const auto& list : lists) rows += list.empty() ? 0 : 1;
    }
  }
  spec.allows.reserve(rows);
  for (size_t s = 0; s < n; ++s) {
    if (sets_[s].key == nullptr) continue;  // free: no pod refers to it
    spec.sets[s] = sets_[s].any_peer;
    for (const auto& [identity, lists] : sets_[s].rows) {
      for (int p = 0; p < dp::kPolicyProtos; ++p) {
        if (lists[p].empty()) continue;
        spec.allows.push_back(dp::PolicyAllowSpec{static_cast<uint32_t>(s + 1), identity,
                                                  static_cast<dp::PolicyProto>(p), lists[p]});
      }
    }
  }
  spec.identities = static_cast<uint32_t>(identities_.size());
  return spec;
}

}  // namespace nodeplane::ctl
