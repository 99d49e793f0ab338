// Unit tests of the NetworkPolicy compiler, read through a plain evaluator of the compiled form
// (what the dataplane's PolicyTable does, without DPDK): isolation, peers (AND/OR), ipBlock with
// except on pod addresses, named ports resolved per destination pod, protocols, policyTypes.
#include "control/compile/policy_compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "control/compile/policy_explain.h"

namespace nodeplane::ctl {
namespace {

using dp::PolicyProto;

Ip4 A(const std::string& s) { return *Ip4::Parse(s); }

// The compiled form, evaluated the way the policy stage does.
class Compiled {
 public:
  explicit Compiled(const DesiredState& s) : spec_(CompilePolicy(s)) {}
  explicit Compiled(dp::PolicySpec spec) : spec_(std::move(spec)) {}

  bool Allowed(Ip4 src, Ip4 dst, L4Protocol proto, uint16_t port) const {
    const dp::PolicyHostSpec s = Host(src), d = Host(dst);
    const PolicyProto p = static_cast<PolicyProto>(static_cast<int>(proto) - 1);
    if (s.egress_set != dp::kNoPolicySet && !SetAllows(s.egress_set, d.identity, p, port)) {
      return false;
    }
    if (d.ingress_set != dp::kNoPolicySet && !s.node &&
        !SetAllows(d.ingress_set, s.identity, p, port)) {
      return false;
    }
    return true;
  }
  const dp::PolicySpec& spec() const { return spec_; }

 private:
  dp::PolicyHostSpec Host(Ip4 ip) const {
    for (const auto& h : spec_.hosts) {
      if (h.ip == ip) return h;
    }
    dp::PolicyHostSpec out;
    for (const auto& r : spec_.ranges) {
      if (r.first.host() <= ip.host()) out.identity = r.identity;
    }
    return out;
  }
  static bool In(const std::vector<dp::PolicyPortRange>& r, uint16_t port) {
    return std::any_of(r.begin(), r.end(),
                       [&](const auto& x) { return x.first <= port && port <= x.last; });
  }
  bool SetAllows(uint32_t set, uint32_t identity, PolicyProto p, uint16_t port) const {
    if (In(spec_.sets[set - 1].any_peer[static_cast<int>(p)], port)) return true;
    for (const auto& a : spec_.allows) {
      if (a.set == set && a.identity == identity && a.proto == p && In(a.ports, port)) return true;
    }
    return false;
  }
  dp::PolicySpec spec_;
};

// Namespaces x, y (labelled ns=<name>), pods a, b in each, all local, serving serve-80-tcp on 80
// (x/b serves its "serve-80-tcp" name on 8080 instead).
DesiredState World() {
  DesiredState s;
  s.node = NodeModel{.name = "n1"};
  s.node->addresses.push_back(Ip4Prefix{A("192.168.1.10"), 24});
  int last = 10;
  for (const std::string ns : {"x", "y"}) {
    s.namespaces[ns] = NamespaceModel{ns, {{"ns", ns}, {kNamespaceNameLabel, ns}}};
    for (const std::string pod : {"a", "b"}) {
      PodModel p;
      p.key = {ns, pod};
      p.ips = {A("10.244.1." + std::to_string(last++))};
      p.labels = {{"pod", pod}};
      p.node_name = "n1";
      const uint16_t port = (ns == "x" && pod == "b") ? 8080 : 80;
      p.ports = {{"serve-80-tcp", port, L4Protocol::kTcp}, {"serve-80-udp", 80, L4Protocol::kUdp}};
      s.pods[p.key] = p;
    }
  }
  return s;
}
Ip4 Ip(const DesiredState& s, const std::string& ns, const std::string& pod) {
  return s.pods.at(PodKey{ns, pod}).ips.front();
}

NetworkPolicyModel Policy(const std::string& ns, const std::string& name, LabelSelector target) {
  NetworkPolicyModel p;
  p.key = {ns, name};
  p.pod_selector = std::move(target);
  return p;
}
LabelSelector Sel(Labels l) { return LabelSelector{std::move(l), {}}; }

TEST(PolicyCompile, NoPolicyNothingIsolated) {
  DesiredState s = World();
  Compiled c(s);
  EXPECT_TRUE(c.spec().sets.empty());
  EXPECT_TRUE(c.Allowed(Ip(s, "x", "a"), Ip(s, "y", "b"), L4Protocol::kTcp, 80));
}

TEST(PolicyCompile, PodAndNamespaceSelectorInOnePeerIsAndInTwoPeersIsOr) {
  DesiredState s = World();
  NetworkPolicyModel p = Policy("x", "and", Sel({{"pod", "a"}}));
  PolicyPeer both;
  both.pod_selector = Sel({{"pod", "b"}});
  both.namespace_selector = Sel({{"ns", "y"}});
  p.ingress_rules.push_back(PolicyRule{{}, {both}});
  s.network_policies[p.key] = p;
  {
    Compiled c(s);
    EXPECT_TRUE(c.Allowed(Ip(s, "y", "b"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
    EXPECT_FALSE(c.Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
    EXPECT_FALSE(c.Allowed(Ip(s, "x", "b"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
    EXPECT_TRUE(c.Allowed(Ip(s, "y", "a"), Ip(s, "x", "b"), L4Protocol::kTcp, 80)) << "x/b not selected";
  }
  PolicyPeer pods, nss;
  pods.pod_selector = both.pod_selector;
  nss.namespace_selector = both.namespace_selector;
  s.network_policies[p.key].ingress_rules = {PolicyRule{{}, {pods, nss}}};
  Compiled c(s);
  EXPECT_TRUE(c.Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80)) << "ns y";
  EXPECT_TRUE(c.Allowed(Ip(s, "x", "b"), Ip(s, "x", "a"), L4Protocol::kTcp, 80))
      << "podSelector alone: pod=b of the policy's own namespace";
  EXPECT_FALSE(c.Allowed(A("10.9.9.9"), Ip(s, "x", "a"), L4Protocol::kTcp, 80)) << "external";
}

TEST(PolicyCompile, IpBlockExceptAppliesToPodAddresses) {
  DesiredState s = World();
  NetworkPolicyModel p = Policy("x", "cidr", Sel({{"pod", "a"}}));
  PolicyPeer block;
  block.ip_block = IpBlockModel{*Ip4Prefix::Parse("10.244.0.0/16"),
                                {Ip4Prefix{Ip(s, "y", "a"), 32}}};
  p.ingress_rules.push_back(PolicyRule{{}, {block}});
  s.network_policies[p.key] = p;
  Compiled c(s);
  EXPECT_TRUE(c.Allowed(Ip(s, "y", "b"), Ip(s, "x", "a"), L4Protocol::kUdp, 9));
  EXPECT_FALSE(c.Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kUdp, 9)) << "except";
  EXPECT_TRUE(c.Allowed(A("10.244.77.1"), Ip(s, "x", "a"), L4Protocol::kTcp, 1)) << "not a pod";
  EXPECT_FALSE(c.Allowed(A("10.245.0.1"), Ip(s, "x", "a"), L4Protocol::kTcp, 1)) << "outside cidr";
}

TEST(PolicyCompile, NamedPortsResolveOnTheDestinationPod) {
  DesiredState s = World();
  // Egress of x/a to TCP serve-80-tcp: 80 on most pods, 8080 on x/b.
  NetworkPolicyModel p = Policy("x", "named", Sel({{"pod", "a"}}));
  p.egress = true;
  PolicyPort named;
  named.any_port = false;
  named.name = "serve-80-tcp";
  p.egress_rules.push_back(PolicyRule{{named}, {}});
  s.network_policies[p.key] = p;
  Compiled c(s);
  const Ip4 xa = Ip(s, "x", "a");
  EXPECT_TRUE(c.Allowed(xa, Ip(s, "y", "a"), L4Protocol::kTcp, 80));
  EXPECT_FALSE(c.Allowed(xa, Ip(s, "y", "a"), L4Protocol::kTcp, 8080));
  EXPECT_TRUE(c.Allowed(xa, Ip(s, "x", "b"), L4Protocol::kTcp, 8080));
  EXPECT_FALSE(c.Allowed(xa, Ip(s, "x", "b"), L4Protocol::kTcp, 80));
  EXPECT_FALSE(c.Allowed(xa, Ip(s, "y", "a"), L4Protocol::kUdp, 80)) << "name exists for UDP too";
  EXPECT_FALSE(c.Allowed(xa, A("8.8.8.8"), L4Protocol::kTcp, 80)) << "no named port outside pods";
}

TEST(PolicyCompile, SctpOnlyRuleNeverAdmitsTcpAndRangesAreInclusive) {
  DesiredState s = World();
  NetworkPolicyModel p = Policy("y", "sctp", LabelSelector{});
  PolicyPort sctp;
  sctp.protocol = L4Protocol::kSctp;
  sctp.any_port = false;
  sctp.port = 80;
  sctp.end_port = 81;
  p.ingress_rules.push_back(PolicyRule{{sctp}, {}});
  s.network_policies[p.key] = p;
  Compiled c(s);
  const Ip4 xa = Ip(s, "x", "a"), yb = Ip(s, "y", "b");
  EXPECT_TRUE(c.Allowed(xa, yb, L4Protocol::kSctp, 80));
  EXPECT_TRUE(c.Allowed(xa, yb, L4Protocol::kSctp, 81));
  EXPECT_FALSE(c.Allowed(xa, yb, L4Protocol::kSctp, 82));
  EXPECT_FALSE(c.Allowed(xa, yb, L4Protocol::kTcp, 80));
  EXPECT_FALSE(c.Allowed(xa, yb, L4Protocol::kUdp, 80));
}

TEST(PolicyCompile, IsolationOnlyInTheDirectionsTheTypesName) {
  DesiredState s = World();
  NetworkPolicyModel p = Policy("x", "deny-egress", LabelSelector{});
  p.ingress = false;
  p.egress = true;  // policyTypes: [Egress], no rules
  s.network_policies[p.key] = p;
  Compiled c(s);
  EXPECT_FALSE(c.Allowed(Ip(s, "x", "a"), Ip(s, "y", "a"), L4Protocol::kTcp, 80));
  EXPECT_TRUE(c.Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
  // The node's own address always reaches an ingress-isolated pod.
  s.network_policies[p.key].ingress = true;
  Compiled c2(s);
  EXPECT_FALSE(c2.Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
  EXPECT_TRUE(c2.Allowed(A("192.168.1.10"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
}

TEST(PolicyCompile, NamespaceSelectorSeesLabelChangesAndUnknownNamespaces) {
  DesiredState s = World();
  NetworkPolicyModel p = Policy("x", "from-updated", LabelSelector{});
  PolicyPeer ns;
  ns.namespace_selector = Sel({{"ns2", "updated"}});
  p.ingress_rules.push_back(PolicyRule{{}, {ns}});
  s.network_policies[p.key] = p;
  EXPECT_FALSE(Compiled(s).Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
  DesiredState before = s;
  s.namespaces["y"].labels["ns2"] = "updated";
  EXPECT_TRUE(PolicyInputsDiffer(before, s));
  EXPECT_TRUE(Compiled(s).Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
  // A namespace nobody described still has its name label.
  s.namespaces.erase("y");
  s.network_policies[p.key].ingress_rules[0].peers[0].namespace_selector =
      Sel({{kNamespaceNameLabel, "y"}});
  EXPECT_TRUE(Compiled(s).Allowed(Ip(s, "y", "a"), Ip(s, "x", "a"), L4Protocol::kTcp, 80));
  EXPECT_FALSE(PolicyInputsDiffer(s, s));
}

// Random policies over a 3x3 world, every pod pair on several ports and protocols, plus outside
// addresses: the compiled form must agree with the rule-by-rule reading of policy_explain.h.
class RandomPolicies {
 public:
  explicit RandomPolicies(uint32_t seed) : rng_(seed) {}

  DesiredState World() {
    DesiredState s;
    s.node = NodeModel{.name = "n1"};
    s.node->addresses.push_back(Ip4Prefix{A("192.168.1.10"), 24});
    int third = 1;
    for (const std::string ns : {"x", "y", "z"}) {
      s.namespaces[ns] = NamespaceModel{ns, {{"ns", ns}, {kNamespaceNameLabel, ns}}};
      int last = 10;
      for (const std::string pod : {"a", "b", "c"}) {
        PodModel p;
        p.key = {ns, pod};
        p.ips = {A("10.244." + std::to_string(third) + "." + std::to_string(last++))};
        p.labels = {{"pod", pod}};
        if (Coin()) p.labels["tier"] = Pick({"web", "db"});
        // Only pods in x and y are local; z's are on another node.
        p.node_name = ns == "z" ? "" : "n1";
        p.ports = {{"serve-80-tcp", Pick<uint16_t>({80, 81}), L4Protocol::kTcp},
                   {"serve-81-udp", 81, L4Protocol::kUdp},
                   {"serve-80-sctp", 80, L4Protocol::kSctp}};
        s.pods[p.key] = p;
      }
      ++third;
    }
    for (int i = 0; i < 6; ++i) {
      NetworkPolicyModel p;
      p.key = {Pick({"x", "y", "z"}), "p" + std::to_string(i)};
      p.pod_selector = Selector();
      p.ingress = Int(0, 3) != 0;
      p.egress = Coin();
      if (!p.ingress && !p.egress) p.ingress = true;
      for (int r = Int(0, 2); r > 0; --r) p.ingress_rules.push_back(Rule());
      for (int r = Int(0, 2); r > 0; --r) p.egress_rules.push_back(Rule());
      s.network_policies[p.key] = p;
    }
    return s;
  }

 private:
  bool Coin() { return Int(0, 1) == 1; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T = std::string>
  T Pick(std::initializer_list<T> v) { return *(v.begin() + Int(0, static_cast<int>(v.size()) - 1)); }
  std::string Pick(std::initializer_list<const char*> v) {
    return *(v.begin() + Int(0, static_cast<int>(v.size()) - 1));
  }

  LabelSelector Selector() {
    LabelSelector sel;
    switch (Int(0, 4)) {
      case 0:
        break;  // everything
      case 1:
        sel.match_labels["pod"] = Pick({"a", "b", "c"});
        break;
      case 2:
        sel.match_expressions.push_back({"pod", LabelRequirement::Op::kNotIn, {Pick({"a", "b"})}});
        break;
      case 3:
        sel.match_expressions.push_back({"tier", LabelRequirement::Op::kExists, {}});
        break;
      default:
        sel.match_expressions.push_back({"tier", LabelRequirement::Op::kDoesNotExist, {}});
        break;
    }
    return sel;
  }
  LabelSelector NsSelector() {
    LabelSelector sel;
    switch (Int(0, 2)) {
      case 0:
        break;
      case 1:
        sel.match_labels["ns"] = Pick({"x", "y", "z"});
        break;
      default:
        sel.match_expressions.push_back({kNamespaceNameLabel, LabelRequirement::Op::kIn,
                                         {Pick({"x", "y"}), Pick({"z", "w"})}});
        break;
    }
    return sel;
  }
  PolicyPeer Peer() {
    PolicyPeer peer;
    switch (Int(0, 3)) {
      case 0:
        peer.pod_selector = Selector();
        break;
      case 1:
        peer.namespace_selector = NsSelector();
        break;
      case 2:
        peer.pod_selector = Selector();
        peer.namespace_selector = NsSelector();
        break;
      default: {
        IpBlockModel b{*Ip4Prefix::Parse(Pick({"10.244.0.0/16", "10.244.2.0/24", "0.0.0.0/0"})), {}};
        if (Coin() && b.cidr.len < 24) b.except.push_back(*Ip4Prefix::Parse("10.244.3.0/24"));
        if (Coin() && b.cidr.len < 32) b.except.push_back(Ip4Prefix{A("10.244.2.11"), 32});
        peer.ip_block = b;
        break;
      }
    }
    return peer;
  }
  PolicyPort Port() {
    PolicyPort p;
    p.protocol = Pick<L4Protocol>({L4Protocol::kTcp, L4Protocol::kUdp, L4Protocol::kSctp});
    switch (Int(0, 3)) {
      case 0:
        break;  // every port of the protocol
      case 1:
        p.any_port = false;
        p.port = Pick<uint16_t>({80, 81});
        break;
      case 2:
        p.any_port = false;
        p.port = 53;
        p.end_port = Pick<uint16_t>({80, 84});
        break;
      default:
        p.any_port = false;
        p.name = Pick({"serve-80-tcp", "serve-81-udp", "serve-80-sctp"});
        break;
    }
    return p;
  }
  PolicyRule Rule() {
    PolicyRule r;
    for (int i = Int(0, 2); i > 0; --i) r.ports.push_back(Port());
    for (int i = Int(0, 2); i > 0; --i) r.peers.push_back(Peer());
    return r;
  }

  std::mt19937 rng_;
};

TEST(PolicyCompile, CompiledFormAgreesWithTheRuleByRuleReading) {
  int judged = 0, denied = 0;
  for (uint32_t seed = 1; seed <= 150; ++seed) {
    RandomPolicies gen(seed);
    const DesiredState s = gen.World();
    const Compiled c(s);
    std::vector<Ip4> addrs = {A("10.244.9.9"), A("8.8.8.8"), A("10.244.3.200")};
    for (const auto& [k, pod] : s.pods) addrs.push_back(pod.ips.front());
    for (const Ip4 src : addrs) {
      for (const Ip4 dst : addrs) {
        if (src == dst) continue;
        for (const L4Protocol proto : {L4Protocol::kTcp, L4Protocol::kUdp, L4Protocol::kSctp}) {
          for (const uint16_t port : {53, 80, 81, 85}) {
            const bool want = ExplainConnection(s, src, dst, proto, port).allowed;
            ASSERT_EQ(c.Allowed(src, dst, proto, port), want)
                << "seed " << seed << ": " << src.ToString() << " -> " << dst.ToString() << ":"
                << port << "/" << static_cast<int>(proto);
            ++judged;
            denied += want ? 0 : 1;
          }
        }
      }
    }
  }
  // The generator must produce both outcomes, or the comparison proves little.
  EXPECT_GT(denied, judged / 20);
  EXPECT_LT(denied, judged - judged / 20);
}

TEST(PolicyCompile, ACacheAcrossChangesGivesTheSameAnswersAndReusesClasses) {
  PolicyCompileCache cache;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    RandomPolicies gen(seed);
    DesiredState s = gen.World();
    std::vector<DesiredState> states = {s};
    // A pod's labels change; another's; a namespace's; then a policy goes.
    s.pods.begin()->second.labels["pod"] = "c";
    states.push_back(s);
    std::next(s.pods.begin(), 4)->second.labels.erase("pod");
    states.push_back(s);
    s.namespaces["y"].labels["ns"] = "x";
    states.push_back(s);
    if (!s.network_policies.empty()) s.network_policies.erase(s.network_policies.begin());
    states.push_back(s);
    for (const DesiredState& st : states) {
      const Compiled fresh(st);
      const Compiled cached(CompilePolicy(st, &cache));
      for (const auto& [ka, a] : st.pods) {
        for (const auto& [kb, b] : st.pods) {
          for (const uint16_t port : {53, 80, 81}) {
            for (const L4Protocol proto : {L4Protocol::kTcp, L4Protocol::kUdp}) {
              ASSERT_EQ(cached.Allowed(a.ips[0], b.ips[0], proto, port),
                        fresh.Allowed(a.ips[0], b.ips[0], proto, port))
                  << "seed " << seed << " " << ka.ToString() << " -> " << kb.ToString();
            }
          }
        }
      }
    }
  }
  // A pod's label change evaluates the selectors for its new class only; the rest is reused.
  PolicyCompileCache fresh_cache;
  DesiredState s = RandomPolicies(7).World();
  (void)CompilePolicy(s, &fresh_cache);
  const auto before = fresh_cache.compiler.stats();
  s.pods.begin()->second.labels["pod"] = "new";
  (void)CompilePolicy(s, &fresh_cache);
  const auto& after = fresh_cache.compiler.stats();
  EXPECT_EQ(after.classes_evaluated - before.classes_evaluated, 1u);
  EXPECT_EQ(after.identities_computed - before.identities_computed, 1u)
      << "only the changed pod's address is classified again";
}

}  // namespace
}  // namespace nodeplane::ctl
