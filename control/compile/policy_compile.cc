#include "control/compile/policy_compile.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "control/compile/ip_block_intervals.h"
#include "control/compile/policy_ports.h"

namespace nodeplane::ctl {
namespace {

using dp::PolicyPortRange;
using dp::PolicyProto;
using policy::HasNamedPort;
using policy::Normalize;
using policy::Part;
using policy::PortLists;
using policy::PortsKey;
using policy::PortsKeyOf;
using policy::ResolvePorts;

// Interns values into dense ids.
template <typename T>
class Interner {
 public:
  uint32_t Id(const T& v) {
    auto [it, inserted] = ids_.emplace(v, static_cast<uint32_t>(values_.size()));
    if (inserted) values_.push_back(&it->first);
    return it->second;
  }
  const T& Value(uint32_t id) const { return *values_[id]; }
  size_t size() const { return values_.size(); }

 private:
  std::map<T, uint32_t> ids_;
  std::vector<const T*> values_;
};

struct Peer {
  const PolicyPeer* peer;
  const std::string* policy_ns;
  uint32_t pod_sel = UINT32_MAX;  // interned selectors; UINT32_MAX: not given
  uint32_t ns_sel = UINT32_MAX;
};

// The identity of an address: the peers matching it and, for a pod, its container ports.
struct IdentityKey {
  std::vector<uint32_t> peers;  // sorted peer indices
  uint32_t ports_class = UINT32_MAX;  // UINT32_MAX: not a pod
  friend auto operator<=>(const IdentityKey&, const IdentityKey&) = default;
};

class Compiler {
 public:
  explicit Compiler(const DesiredState& s) : s_(s) {}

  dp::PolicySpec Run() {
    CollectPeers();
    PrepareLabelSets();
    ClassifyPods();
    ClassifyRanges();
    BuildSets();
    spec_.identities = static_cast<uint32_t>(identities_.size());
    return std::move(spec_);
  }

 private:
  const Labels& NamespaceLabels(const std::string& ns) {
    if (auto it = s_.namespaces.find(ns); it != s_.namespaces.end()) return it->second.labels;
    auto [it, inserted] = default_ns_labels_.emplace(ns, Labels{});
    if (inserted) it->second = DefaultNamespaceLabels(ns);
    return it->second;
  }

  void CollectPeers() {
    for (const auto& [key, pol] : s_.network_policies) {
      for (const auto* rules : {&pol.ingress_rules, &pol.egress_rules}) {
        for (const PolicyRule& rule : *rules) {
          for (const PolicyPeer& peer : rule.peers) {
            Peer p{&peer, &key.ns};
            if (peer.pod_selector) p.pod_sel = selectors_.Id(*peer.pod_selector);
            if (peer.namespace_selector) p.ns_sel = selectors_.Id(*peer.namespace_selector);
            peer_index_.emplace(&peer, static_cast<uint32_t>(peers_.size()));
            (peer.ip_block ? block_peers_ : selector_peers_)
                .push_back(static_cast<uint32_t>(peers_.size()));
            peers_.push_back(p);
          }
        }
      }
    }
    identity_members_.assign(peers_.size(), {});
  }

  // Every label set selectors will be asked about, interned before any is, so the answers fit a
  // dense table (selectors x label sets).
  void PrepareLabelSets() {
    for (const auto& [key, pod] : s_.pods) {
      label_sets_.Id(pod.labels);
      label_sets_.Id(NamespaceLabels(key.ns));
    }
    selector_cache_.assign(selectors_.size() * label_sets_.size(), -1);
  }

  bool SelectorMatches(uint32_t sel, uint32_t labels_id, const Labels& labels) {
    int8_t& known = selector_cache_[size_t{sel} * label_sets_.size() + labels_id];
    if (known < 0) known = selectors_.Value(sel).Matches(labels) ? 1 : 0;
    return known == 1;
  }

  // Selector peers matching pods of namespace `ns` with these labels.
  std::vector<uint32_t> SelectorPeersOf(const std::string& ns, uint32_t pod_labels_id,
                                        const Labels& pod_labels) {
    const Labels& ns_labels = NamespaceLabels(ns);
    const uint32_t ns_labels_id = label_sets_.Id(ns_labels);
    std::vector<uint32_t> out;
    for (uint32_t i : selector_peers_) {
      const Peer& p = peers_[i];
      if (p.ns_sel == UINT32_MAX) {
        if (*p.policy_ns != ns) continue;
      } else if (!SelectorMatches(p.ns_sel, ns_labels_id, ns_labels)) {
        continue;
      }
      if (p.pod_sel != UINT32_MAX && !SelectorMatches(p.pod_sel, pod_labels_id, pod_labels)) {
        continue;
      }
      out.push_back(i);
    }
    return out;
  }

  uint32_t IdentityOf(IdentityKey key) {
    const uint32_t before = static_cast<uint32_t>(identities_.size());
    const uint32_t id = identities_.Id(key);
    if (id == before) {
      const IdentityKey& k = identities_.Value(id);
      for (uint32_t p : k.peers) identity_members_[p].push_back(id);
    }
    return id;
  }

  void ClassifyPods() {
    std::map<std::tuple<std::string, uint32_t>, std::vector<uint32_t>> class_peers;
    std::set<uint32_t> node_ips;
    if (s_.node) {
      for (const Ip4Prefix& a : s_.node->addresses) node_ips.insert(a.addr.be);
    }
    for (const auto& [key, pod] : s_.pods) {
      if (pod.ips.empty()) continue;
      const uint32_t labels_id = label_sets_.Id(pod.labels);
      auto cls = class_peers.find({key.ns, labels_id});
      if (cls == class_peers.end()) {
        cls = class_peers.emplace(std::make_tuple(key.ns, labels_id), SelectorPeersOf(key.ns, labels_id, pod.labels)).first;
      }
      const bool local = IsLocalPod(s_, pod);
      const uint32_t ports_class = ports_classes_.Id(PortsKeyOf(pod.ports));
      for (const Ip4& ip : pod.ips) {
        IdentityKey k{cls->second, ports_class};
        AddBlockPeers(Ip4Prefix{ip, 32}, k.peers);
        dp::PolicyHostSpec h;
        h.ip = ip;
        h.identity = IdentityOf(std::move(k));
        if (local) {
          h.ingress_set = SetFor(pod, /*ingress=*/true);
          h.egress_set = SetFor(pod, /*ingress=*/false);
        }
        h.node = node_ips.contains(ip.be);
        spec_.hosts.push_back(h);
        host_ips_.insert(ip.be);
      }
    }
    // This node's addresses that are no pod's: known, so that their traffic is recognised.
    for (uint32_t be : node_ips) {
      if (host_ips_.contains(be)) continue;
      IdentityKey k;
      AddBlockPeers(Ip4Prefix{Ip4{be}, 32}, k.peers);
      dp::PolicyHostSpec h;
      h.ip = Ip4{be};
      h.identity = IdentityOf(std::move(k));
      h.node = true;
      spec_.hosts.push_back(h);
    }
  }

  void AddBlockPeers(const Ip4Prefix& p, std::vector<uint32_t>& peers) {
    for (uint32_t i : block_peers_) {
      if (peers_[i].peer->ip_block->Contains(p)) peers.push_back(i);
    }
    std::sort(peers.begin(), peers.end());
  }

  // Every other address: the elementary intervals between the ipBlock prefixes' boundaries.
  void ClassifyRanges() {
    std::set<uint64_t> starts{0};
    for (uint32_t i : block_peers_) policy::AddIntervalStarts(*peers_[i].peer->ip_block, starts);
    for (uint64_t first : starts) {
      // An interval lies wholly inside or outside every prefix: its first address decides.
      IdentityKey k;
      AddBlockPeers(Ip4Prefix{Ip4::FromHost(static_cast<uint32_t>(first)), 32}, k.peers);
      spec_.ranges.push_back({Ip4::FromHost(static_cast<uint32_t>(first)), IdentityOf(std::move(k))});
    }
  }

  // The allow-set of a local pod in one direction: interned by the policies isolating it (and,
  // for ingress, its container ports, which its rules' named ports resolve on).
  uint32_t SetFor(const PodModel& pod, bool ingress) {
    SetKey key;
    key.ingress = ingress;
    const Labels& labels = pod.labels;
    for (const auto& [pkey, pol] : s_.network_policies) {
      if (pkey.ns != pod.key.ns || !(ingress ? pol.ingress : pol.egress)) continue;
      if (!pol.pod_selector.Matches(labels)) continue;
      key.policies.push_back(&pol);
    }
    if (key.policies.empty()) return dp::kNoPolicySet;
    if (ingress) key.ports_class = ports_classes_.Id(PortsKeyOf(pod.ports));
    return sets_.Id(key) + 1;  // set ids start at 1: 0 is kNoPolicySet
  }

  struct SetKey {
    bool ingress = false;
    std::vector<const NetworkPolicyModel*> policies;
    uint32_t ports_class = UINT32_MAX;
    friend auto operator<=>(const SetKey&, const SetKey&) = default;
  };

  void BuildSets() {
    spec_.sets.resize(sets_.size());
    // (set, identity, proto) → ranges, merged at the end.
    std::map<std::tuple<uint32_t, uint32_t, int>, std::vector<PolicyPortRange>> rows;
    // Pod identities, for egress named ports to "any peer".
    std::vector<uint32_t> pod_identities;
    for (uint32_t id = 0; id < identities_.size(); ++id) {
      if (identities_.Value(id).ports_class != UINT32_MAX) pod_identities.push_back(id);
    }
    for (uint32_t s = 0; s < sets_.size(); ++s) {
      const SetKey& key = sets_.Value(s);
      const uint32_t set_id = s + 1;
      dp::PolicySetSpec& set = spec_.sets[s];
      auto add_rows = [&](uint32_t identity, const PortLists& lists) {
        for (int proto = 0; proto < dp::kPolicyProtos; ++proto) {
          if (lists[proto].empty()) continue;
          auto& r = rows[{set_id, identity, proto}];
          r.insert(r.end(), lists[proto].begin(), lists[proto].end());
        }
      };
      for (const NetworkPolicyModel* pol : key.policies) {
        const auto& rules = key.ingress ? pol->ingress_rules : pol->egress_rules;
        for (const PolicyRule& rule : rules) {
          if (key.ingress) {
            // Named ports resolve on this (the destination) pod.
            PortLists lists;
            ResolvePorts(rule.ports, &ports_classes_.Value(key.ports_class), Part::kAll, lists);
            if (rule.peers.empty()) {
              for (int p = 0; p < dp::kPolicyProtos; ++p) {
                set.any_peer[p].insert(set.any_peer[p].end(), lists[p].begin(), lists[p].end());
              }
              continue;
            }
            for (uint32_t identity : PeerIdentities(rule)) add_rows(identity, lists);
            continue;
          }
          // Egress: named ports resolve on the peer, which each identity says.
          if (rule.peers.empty()) {
            PortLists numeric;
            ResolvePorts(rule.ports, nullptr, Part::kNumeric, numeric);
            for (int p = 0; p < dp::kPolicyProtos; ++p) {
              set.any_peer[p].insert(set.any_peer[p].end(), numeric[p].begin(), numeric[p].end());
            }
            if (!HasNamedPort(rule.ports)) continue;
            for (uint32_t identity : pod_identities) {
              PortLists named;
              ResolvePorts(rule.ports, &ports_classes_.Value(identities_.Value(identity).ports_class),
                           Part::kNamed, named);
              add_rows(identity, named);
            }
            continue;
          }
          for (uint32_t identity : PeerIdentities(rule)) {
            const uint32_t pc = identities_.Value(identity).ports_class;
            PortLists lists;
            ResolvePorts(rule.ports, pc == UINT32_MAX ? nullptr : &ports_classes_.Value(pc),
                         Part::kAll, lists);
            add_rows(identity, lists);
          }
        }
      }
      for (auto& list : set.any_peer) Normalize(list);
    }
    for (auto& [k, ranges] : rows) {
      Normalize(ranges);
      spec_.allows.push_back(dp::PolicyAllowSpec{std::get<0>(k), std::get<1>(k),
                                                 static_cast<PolicyProto>(std::get<2>(k)),
                                                 std::move(ranges)});
    }
  }

  // The identities matched by any of a rule's peers.
  std::vector<uint32_t> PeerIdentities(const PolicyRule& rule) {
    std::vector<uint32_t> out;
    for (const PolicyPeer& peer : rule.peers) {
      const auto& members = identity_members_[peer_index_.at(&peer)];
      out.insert(out.end(), members.begin(), members.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  const DesiredState& s_;
  dp::PolicySpec spec_;
  std::vector<Peer> peers_;
  std::map<const PolicyPeer*, uint32_t> peer_index_;
  std::vector<uint32_t> selector_peers_;
  std::vector<uint32_t> block_peers_;
  Interner<LabelSelector> selectors_;
  Interner<Labels> label_sets_;
  std::vector<int8_t> selector_cache_;  // [selector * label sets + label set]: -1 unknown
  std::map<std::string, Labels> default_ns_labels_;
  Interner<PortsKey> ports_classes_;
  Interner<IdentityKey> identities_;
  std::vector<std::vector<uint32_t>> identity_members_;  // peer → identities it matches
  Interner<SetKey> sets_;
  std::set<uint32_t> host_ips_;
};

}  // namespace

bool IsLocalPod(const DesiredState& state, const PodModel& pod) {
  if (state.attachments.contains(pod.key)) return true;
  return state.node && !pod.node_name.empty() && pod.node_name == state.node->name;
}

dp::PolicySpec CompilePolicy(const DesiredState& state) { return Compiler(state).Run(); }

dp::PolicySpec CompilePolicy(const DesiredState& state, PolicyCompileCache* cache) {
  if (cache == nullptr) return CompilePolicy(state);
  return cache->compiler.Update(state);
}

bool PolicyInputsDiffer(const DesiredState& a, const DesiredState& b) {
  if (a.network_policies != b.network_policies || a.namespaces != b.namespaces) return true;
  if (a.pods.size() != b.pods.size()) return true;
  const auto node_addrs = [](const DesiredState& s) {
    return s.node ? s.node->addresses : std::vector<Ip4Prefix>{};
  };
  if (node_addrs(a) != node_addrs(b)) return true;
  for (auto ia = a.pods.begin(), ib = b.pods.begin(); ia != a.pods.end(); ++ia, ++ib) {
    const PodModel& x = ia->second;
    const PodModel& y = ib->second;
    if (ia->first != ib->first || x.ips != y.ips || x.labels != y.labels ||
        IsLocalPod(a, x) != IsLocalPod(b, y)) {
      return true;
    }
    if (x.ports.size() != y.ports.size()) return true;
    for (size_t i = 0; i < x.ports.size(); ++i) {
      if (x.ports[i].name != y.ports[i].name || x.ports[i].port != y.ports[i].port ||
          x.ports[i].protocol != y.ports[i].protocol) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace nodeplane::ctl
