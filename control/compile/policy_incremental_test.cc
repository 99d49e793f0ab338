// Incremental NetworkPolicy compilation: after any sequence of changes the result equals the
// from-scratch compile (compared up to the numbering of identities and allow-sets), and a change
// recomputes what it affects only (the compiler's work counters).
#include "control/compile/policy_incremental.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "control/compile/policy_compile.h"

namespace nodeplane::ctl {
namespace {

Ip4 A(const std::string& s) { return *Ip4::Parse(s); }

// A compiled form with identities and sets renumbered in order of first use (hosts by address,
// then ranges), so two compiles of the same state compare equal whatever their numbering.
struct Canonical {
  using Ranges = std::vector<std::pair<uint16_t, uint16_t>>;
  std::vector<std::tuple<uint32_t, int, int, int, bool>> hosts;  // ip, identity, in, out, node
  std::vector<std::pair<uint32_t, int>> ranges;
  std::vector<std::vector<Ranges>> any_peer;  // by canonical set
  std::vector<std::tuple<int, int, int, Ranges>> allows;
  friend bool operator==(const Canonical&, const Canonical&) = default;

  explicit Canonical(const dp::PolicySpec& spec) {
    std::map<uint32_t, int> ids;
    std::map<uint32_t, int> sets{{dp::kNoPolicySet, 0}};
    auto id = [&](uint32_t i) { return ids.emplace(i, static_cast<int>(ids.size())).first->second; };
    auto set = [&](uint32_t s) { return sets.emplace(s, static_cast<int>(sets.size())).first->second; };
    std::vector<dp::PolicyHostSpec> hs = spec.hosts;
    std::sort(hs.begin(), hs.end(), [](const auto& a, const auto& b) { return a.ip.be < b.ip.be; });
    for (const auto& h : hs) {
      hosts.emplace_back(h.ip.be, id(h.identity), set(h.ingress_set), set(h.egress_set), h.node);
    }
    for (const auto& r : spec.ranges) ranges.emplace_back(r.first.host(), id(r.identity));
    auto plain = [](const std::vector<dp::PolicyPortRange>& v) {
      Ranges out;
      for (const auto& r : v) out.emplace_back(r.first, r.last);
      return out;
    };
    any_peer.resize(sets.size());
    for (const auto& [s, c] : sets) {
      if (s == dp::kNoPolicySet) continue;
      for (const auto& list : spec.sets.at(s - 1).any_peer) any_peer[c].push_back(plain(list));
    }
    for (const auto& a : spec.allows) {
      // A row of a set or identity nobody uses would be a leak: it shows as -1.
      const int s = sets.contains(a.set) ? sets[a.set] : -1;
      const int i = ids.contains(a.identity) ? ids[a.identity] : -1;
      allows.emplace_back(s, i, static_cast<int>(a.proto), plain(a.ports));
    }
    std::sort(allows.begin(), allows.end());
  }
};

// Random clusters and random changes to them, small enough that classes, identities and sets are
// shared between pods and that ipBlocks and named ports hit pods.
class RandomCluster {
 public:
  explicit RandomCluster(uint32_t seed) : rng_(seed) {}

  DesiredState World() {
    DesiredState s;
    s.node = NodeModel{.name = "n1"};
    s.node->addresses.push_back(Ip4Prefix{A("192.168.1.10"), 24});
    for (const std::string ns : {"x", "y", "z"}) s.namespaces[ns] = Namespace(ns);
    for (int i = 0; i < 12; ++i) AddPod(s);
    for (int i = 0; i < 6; ++i) UpsertPolicy(s);
    return s;
  }

  // One random change of the kinds the API allows; returns what it did, for messages.
  std::string Change(DesiredState& s) {
    switch (Int(0, 11)) {
      case 0:
      case 1: {
        PodModel* p = AnyPod(s);
        if (p == nullptr) break;
        p->labels = PodLabels();
        return "labels of " + p->key.ToString();
      }
      case 2:
        AddPod(s);
        return "pod added";
      case 3: {
        PodModel* p = AnyPod(s);
        if (p == nullptr) break;
        const std::string k = p->key.ToString();
        s.pods.erase(p->key);
        return "pod " + k + " deleted";
      }
      case 4: {
        PodModel* p = AnyPod(s);
        if (p == nullptr) break;
        p->ports = Ports();
        p->node_name = Coin() ? "n1" : "n2";
        return "ports and node of " + p->key.ToString();
      }
      case 5: {
        PodModel* p = AnyPod(s);
        if (p == nullptr) break;
        // Mostly one address; sometimes none yet, sometimes two.
        const int n = Int(0, 5) == 0 ? Int(0, 1) * 2 : 1;
        p->ips.clear();
        for (int i = 0; i < n; ++i) p->ips.push_back(FreeIp(s));
        return "addresses of " + p->key.ToString();
      }
      case 6: {
        const std::string ns = Pick({"x", "y", "z", "w"});
        if (Int(0, 3) == 0) {
          s.namespaces.erase(ns);
          return "namespace " + ns + " deleted";
        }
        s.namespaces[ns] = Namespace(ns);
        return "namespace " + ns + " labels";
      }
      case 7:
      case 8:
        return "policy " + UpsertPolicy(s) + " upserted";
      case 9: {
        if (s.network_policies.empty()) break;
        auto it = std::next(s.network_policies.begin(),
                            Int(0, static_cast<int>(s.network_policies.size()) - 1));
        const std::string k = it->first.ToString();
        s.network_policies.erase(it);
        return "policy " + k + " deleted";
      }
      case 10: {
        if (s.network_policies.empty()) break;
        auto it = std::next(s.network_policies.begin(),
                            Int(0, static_cast<int>(s.network_policies.size()) - 1));
        it->second.pod_selector = Selector();
        return "selector of policy " + it->first.ToString();
      }
      case 11:
        if (Int(0, 3) != 0) break;
        // Rarely: this node's addresses, sometimes one of a pod's.
        s.node->addresses = {Ip4Prefix{Coin() ? A("192.168.1.10") : A("10.0.1.3"), 24}};
        return "node addresses";
    }
    return "nothing";
  }

 private:
  bool Coin() { return Int(0, 1) == 1; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string Pick(std::initializer_list<const char*> v) {
    return *(v.begin() + Int(0, static_cast<int>(v.size()) - 1));
  }

  NamespaceModel Namespace(const std::string& ns) {
    NamespaceModel m{ns, {{kNamespaceNameLabel, ns}}};
    if (Int(0, 3) != 0) m.labels["team"] = Pick({"red", "blue"});
    return m;
  }
  Labels PodLabels() {
    Labels l{{"app", Pick({"a", "b", "c"})}};
    if (Coin()) l["tier"] = Pick({"web", "db"});
    return l;
  }
  std::vector<ContainerPort> Ports() {
    std::vector<ContainerPort> p = {{"http", static_cast<uint16_t>(Coin() ? 80 : 8080),
                                     L4Protocol::kTcp}};
    if (Coin()) p.push_back({"dns", 53, L4Protocol::kUdp});
    return p;
  }
  Ip4 FreeIp(const DesiredState& s) {
    for (;;) {
      const Ip4 ip = Ip4::FromHost((10u << 24) | (static_cast<uint32_t>(Int(0, 2)) << 8) |
                                   static_cast<uint32_t>(Int(1, 10)));
      bool used = false;
      for (const auto& [k, p] : s.pods) {
        used = used || std::find(p.ips.begin(), p.ips.end(), ip) != p.ips.end();
      }
      if (!used) return ip;
    }
  }
  PodModel* AnyPod(DesiredState& s) {
    if (s.pods.empty()) return nullptr;
    return &std::next(s.pods.begin(), Int(0, static_cast<int>(s.pods.size()) - 1))->second;
  }
  void AddPod(DesiredState& s) {
    if (s.pods.size() >= 12) return;  // 30 addresses, at most two a pod: always a free one
    PodModel p;
    p.key = {Pick({"x", "y", "z", "w"}), "p" + std::to_string(next_pod_++)};
    p.ips = {FreeIp(s)};
    p.labels = PodLabels();
    p.node_name = Int(0, 2) != 0 ? "n1" : "n2";
    p.ports = Ports();
    s.pods[p.key] = p;
  }

  LabelSelector Selector() {
    LabelSelector sel;
    switch (Int(0, 4)) {
      case 0:
        break;
      case 1:
        sel.match_labels["app"] = Pick({"a", "b", "c"});
        break;
      case 2:
        sel.match_expressions.push_back({"tier", LabelRequirement::Op::kNotIn, {"db"}});
        break;
      case 3:
        sel.match_expressions.push_back({"tier", LabelRequirement::Op::kExists, {}});
        break;
      case 4:
        sel.match_labels["team"] = Pick({"red", "blue"});  // for namespaces
        break;
    }
    return sel;
  }
  PolicyPeer Peer() {
    PolicyPeer p;
    switch (Int(0, 3)) {
      case 0:
        p.pod_selector = Selector();
        break;
      case 1:
        p.namespace_selector = Selector();
        break;
      case 2:
        p.pod_selector = Selector();
        p.namespace_selector = Selector();
        break;
      case 3: {
        IpBlockModel b{Ip4Prefix{A("10.0.0.0"), 22}, {}};
        if (Coin()) b.except.push_back(Ip4Prefix{A(Coin() ? "10.0.1.0" : "10.0.2.0"), 24});
        if (Coin()) b.cidr = Ip4Prefix{A("10.0.1.0"), 30};
        p.ip_block = b;
        break;
      }
    }
    return p;
  }
  PolicyRule Rule() {
    PolicyRule r;
    for (int n = Int(0, 2); n > 0; --n) r.peers.push_back(Peer());
    for (int n = Int(0, 2); n > 0; --n) {
      PolicyPort port;
      switch (Int(0, 3)) {
        case 0:
          port.name = Pick({"http", "dns"});
          port.protocol = port.name == "dns" ? L4Protocol::kUdp : L4Protocol::kTcp;
          port.any_port = false;
          break;
        case 1:
          port.any_port = false;
          port.port = static_cast<uint16_t>(Coin() ? 80 : 8080);
          break;
        case 2:
          port.any_port = false;
          port.port = 8000;
          port.end_port = 8100;
          break;
        case 3:
          port.protocol = L4Protocol::kUdp;
          break;
      }
      r.ports.push_back(port);
    }
    return r;
  }
  std::string UpsertPolicy(DesiredState& s) {
    NetworkPolicyModel p;
    p.key = {Pick({"x", "y", "z"}), "pol" + std::to_string(Int(0, 7))};
    p.pod_selector = Selector();
    p.ingress = Int(0, 3) != 0;
    p.egress = Coin();
    if (!p.ingress && !p.egress) p.ingress = true;
    p.policy_types_given = true;
    for (int r = Int(0, 2); r > 0; --r) p.ingress_rules.push_back(Rule());
    for (int r = Int(0, 2); r > 0; --r) p.egress_rules.push_back(Rule());
    s.network_policies[p.key] = p;
    return p.key.ToString();
  }

  std::mt19937 rng_;
  int next_pod_ = 0;
};

TEST(IncrementalPolicyCompile, ManyRandomChangesGiveTheFromScratchResult) {
  int changes = 0, isolated = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    RandomCluster gen(seed);
    DesiredState s = gen.World();
    IncrementalPolicyCompiler inc;
    ASSERT_EQ(Canonical(inc.Update(s)), Canonical(CompilePolicy(s))) << "seed " << seed;
    std::string history;
    for (int step = 0; step < 80; ++step) {
      // One change, sometimes several in one update (a request may carry many).
      for (int n = step % 5 == 4 ? 3 : 1; n > 0; --n) history += gen.Change(s) + "; ";
      const dp::PolicySpec full = CompilePolicy(s);
      ASSERT_EQ(Canonical(inc.Update(s)), Canonical(full))
          << "seed " << seed << " step " << step << " after: " << history;
      ++changes;
      isolated += full.sets.empty() ? 0 : 1;
    }
  }
  // The generator must isolate pods most of the time, or the comparison proves little.
  EXPECT_GT(isolated, changes / 2);
}

// A small cluster with known numbers: namespaces x and y, pods x/a1..a4, y/b1..b4 (app=a or b),
// half of them local; one policy in x allows app=b from namespaces with team=red.
DesiredState Small() {
  DesiredState s;
  s.node = NodeModel{.name = "n1"};
  s.node->addresses.push_back(Ip4Prefix{A("192.168.1.10"), 24});
  s.namespaces["x"] = NamespaceModel{"x", {{kNamespaceNameLabel, "x"}, {"team", "red"}}};
  s.namespaces["y"] = NamespaceModel{"y", {{kNamespaceNameLabel, "y"}, {"team", "blue"}}};
  for (int i = 1; i <= 4; ++i) {
    for (const std::string ns : {"x", "y"}) {
      PodModel p;
      p.key = {ns, (ns == "x" ? "a" : "b") + std::to_string(i)};
      p.ips = {A("10.0." + std::string(ns == "x" ? "1." : "2.") + std::to_string(i))};
      p.labels = {{"app", ns == "x" ? "a" : "b"}};
      p.node_name = i % 2 == 1 ? "n1" : "n2";
      p.ports = {{"http", 80, L4Protocol::kTcp}};
      s.pods[p.key] = p;
    }
  }
  NetworkPolicyModel pol;
  pol.key = {"x", "allow-red-b"};
  pol.pod_selector.match_labels["app"] = "a";
  PolicyRule rule;
  PolicyPeer peer;
  peer.namespace_selector = LabelSelector{{{"team", "red"}}, {}};
  peer.pod_selector = LabelSelector{{{"app", "b"}}, {}};
  rule.peers = {peer};
  rule.ports = {PolicyPort{L4Protocol::kTcp, false, 0, 0, "http"}};
  pol.ingress_rules = {rule};
  s.network_policies[pol.key] = pol;
  return s;
}

// Whether the compiled form lets src reach dst on TCP port (ingress of dst only: Small() has no
// egress policy).
bool IngressAllowed(const dp::PolicySpec& spec, Ip4 src, Ip4 dst, uint16_t port) {
  const dp::PolicyHostSpec *s = nullptr, *d = nullptr;
  for (const auto& h : spec.hosts) {
    if (h.ip == src) s = &h;
    if (h.ip == dst) d = &h;
  }
  if (d == nullptr || d->ingress_set == dp::kNoPolicySet) return true;
  for (const auto& a : spec.allows) {
    if (a.set != d->ingress_set || a.identity != s->identity || a.proto != dp::PolicyProto::kTcp) {
      continue;
    }
    for (const auto& r : a.ports) {
      if (r.first <= port && port <= r.last) return true;
    }
  }
  return false;
}

TEST(IncrementalPolicyCompile, APodLabelChangeReclassifiesThatPodOnly) {
  DesiredState s = Small();
  s.namespaces["y"].labels["team"] = "red";
  IncrementalPolicyCompiler inc;
  EXPECT_FALSE(IngressAllowed(inc.Update(s), A("10.0.1.3"), A("10.0.1.1"), 80))
      << "x/a3 is app=a: not admitted";
  const auto before = inc.stats();
  s.pods.at({"x", "a3"}).labels["app"] = "b";
  const dp::PolicySpec spec = inc.Update(s);
  EXPECT_TRUE(IngressAllowed(spec, A("10.0.1.3"), A("10.0.1.1"), 80)) << "x/a3 is app=b now";
  EXPECT_FALSE(IngressAllowed(spec, A("10.0.1.3"), A("10.0.1.1"), 81));
  EXPECT_EQ(Canonical(spec), Canonical(CompilePolicy(s)));
  const auto& after = inc.stats();
  EXPECT_EQ(after.identities_computed - before.identities_computed, 1u);
  EXPECT_EQ(after.classes_evaluated - before.classes_evaluated, 1u) << "its new class";
  EXPECT_EQ(after.sets_selected - before.sets_selected, 2u) << "x/a3 is local: both directions";
  EXPECT_EQ(after.sets_built, before.sets_built) << "x/a3 still has no allow-set";
  EXPECT_EQ(after.restarts, 1u);
}

TEST(IncrementalPolicyCompile, ANamespaceLabelChangeReclassifiesItsPodsOnly) {
  DesiredState s = Small();
  IncrementalPolicyCompiler inc;
  EXPECT_FALSE(IngressAllowed(inc.Update(s), A("10.0.2.2"), A("10.0.1.1"), 80));
  const auto before = inc.stats();
  s.namespaces["y"].labels["team"] = "red";
  const dp::PolicySpec spec = inc.Update(s);
  EXPECT_TRUE(IngressAllowed(spec, A("10.0.2.2"), A("10.0.1.1"), 80)) << "y is red now";
  EXPECT_EQ(Canonical(spec), Canonical(CompilePolicy(s)));
  const auto& after = inc.stats();
  EXPECT_EQ(after.identities_computed - before.identities_computed, 4u) << "y's four pods";
  EXPECT_EQ(after.sets_selected, before.sets_selected) << "namespace labels select no policy";
}

TEST(IncrementalPolicyCompile, APolicyChangeReselectsTheLocalPodsOfItsNamespaceOnly) {
  DesiredState s = Small();
  s.namespaces["y"].labels["team"] = "red";
  IncrementalPolicyCompiler inc;
  EXPECT_TRUE(IngressAllowed(inc.Update(s), A("10.0.2.2"), A("10.0.1.1"), 80));
  const auto before = inc.stats();
  NetworkPolicyModel& pol = s.network_policies.at({"x", "allow-red-b"});
  pol.ingress_rules[0].ports[0].name = "https";  // no such port: admits nothing
  const dp::PolicySpec spec = inc.Update(s);
  EXPECT_FALSE(IngressAllowed(spec, A("10.0.2.2"), A("10.0.1.1"), 80));
  EXPECT_EQ(Canonical(spec), Canonical(CompilePolicy(s)));
  const auto& after = inc.stats();
  EXPECT_EQ(after.sets_selected - before.sets_selected, 4u) << "x/a1 and x/a3, both directions";
  EXPECT_EQ(after.identities_computed, before.identities_computed)
      << "same peers, same answers: no address is classified again";
  // Deleting it lifts the isolation.
  s.network_policies.clear();
  const dp::PolicySpec none = inc.Update(s);
  EXPECT_TRUE(none.sets.empty());
  EXPECT_TRUE(IngressAllowed(none, A("10.0.1.3"), A("10.0.1.1"), 80));
  EXPECT_EQ(Canonical(none), Canonical(CompilePolicy(s)));
}

TEST(IncrementalPolicyCompile, APodDeleteTakesItsAddressAndItsRowsAway) {
  DesiredState s = Small();
  s.namespaces["y"].labels["team"] = "red";
  IncrementalPolicyCompiler inc;
  (void)inc.Update(s);
  // y/b1..b4 share one identity; deleting all but one keeps it, deleting the last removes it.
  for (const std::string name : {"b1", "b2", "b3"}) s.pods.erase({"y", name});
  dp::PolicySpec spec = inc.Update(s);
  EXPECT_TRUE(IngressAllowed(spec, A("10.0.2.4"), A("10.0.1.1"), 80));
  EXPECT_EQ(Canonical(spec), Canonical(CompilePolicy(s)));
  s.pods.erase({"y", "b4"});
  spec = inc.Update(s);
  EXPECT_TRUE(spec.allows.empty()) << "no pod matches the peer any more";
  for (const auto& h : spec.hosts) EXPECT_NE(h.ip, A("10.0.2.4"));
  EXPECT_EQ(Canonical(spec), Canonical(CompilePolicy(s)));
}

TEST(IncrementalPolicyCompile, ANodeAddressChangeStartsOverAndNothingElseDoes) {
  DesiredState s = Small();
  IncrementalPolicyCompiler inc;
  (void)inc.Update(s);
  (void)inc.Update(s);
  EXPECT_EQ(inc.stats().restarts, 1u);
  s.node->addresses = {Ip4Prefix{A("10.0.2.1"), 24}};  // now also y/b1's address
  const dp::PolicySpec spec = inc.Update(s);
  EXPECT_EQ(inc.stats().restarts, 2u);
  EXPECT_EQ(Canonical(spec), Canonical(CompilePolicy(s)));
  bool old_node_known = false, new_node_is_node = false;
  for (const auto& h : spec.hosts) {
    old_node_known = old_node_known || h.ip == A("192.168.1.10");
    if (h.ip == A("10.0.2.1")) new_node_is_node = h.node;
  }
  EXPECT_FALSE(old_node_known);
  EXPECT_TRUE(new_node_is_node) << "y/b1's address is this node's: its traffic is the node's";
}

}  // namespace
}  // namespace nodeplane::ctl
