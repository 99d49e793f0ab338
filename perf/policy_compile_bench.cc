// nodeplane-policy-compile-bench: how long compiling NetworkPolicy takes at cluster scale.
//   nodeplane-policy-compile-bench [--pods N] [--policies N] [--local N] [--runs N]
// Builds a cluster of N pods in 100 namespaces (labels from a few dozen apps and three tiers,
// named container ports), N policies spread over the namespaces (pod and namespace selectors,
// matchExpressions, ipBlocks with except, numeric, ranged and named ports, both directions), and
// times control/compile's CompilePolicy on it: the full compile, and the recompile after one pod's
// labels change (with the cache the applier keeps between compiles). Pure control-plane code: no EAL. Prints one line per figure, then one JSON line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control/compile/policy_compile.h"

namespace {

using nodeplane::Ip4;
using nodeplane::Ip4Prefix;
using namespace nodeplane::ctl;

constexpr int kNamespaces = 100;
constexpr int kApps = 40;

DesiredState Cluster(int pods, int policies, int local) {
  DesiredState s;
  s.node = NodeModel{.name = "bench-node"};
  s.node->addresses.push_back(*Ip4Prefix::Parse("192.168.1.10/32"));
  for (int n = 0; n < kNamespaces; ++n) {
    const std::string name = "ns-" + std::to_string(n);
    s.namespaces[name] = NamespaceModel{
        name, {{kNamespaceNameLabel, name}, {"team", "team-" + std::to_string(n % 10)}}};
  }
  for (int i = 0; i < pods; ++i) {
    PodModel p;
    p.key = {"ns-" + std::to_string(i % kNamespaces), "pod-" + std::to_string(i)};
    p.ips = {Ip4::FromHost((10u << 24) | (1u << 16) | static_cast<uint32_t>(i + 1))};
    p.labels = {{"app", "app-" + std::to_string((i / kNamespaces) % kApps)},
                {"tier", i % 3 == 0 ? "web" : (i % 3 == 1 ? "api" : "db")}};
    // `local` pods spread over the namespaces and apps.
    p.node_name = (static_cast<int64_t>(i) * 7919) % pods < local ? "bench-node" : "other-node";
    p.ports = {{"http", static_cast<uint16_t>(8080 + i % 2), L4Protocol::kTcp},
               {"dns", 53, L4Protocol::kUdp}};
    s.pods[p.key] = p;
  }
  for (int i = 0; i < policies; ++i) {
    NetworkPolicyModel p;
    p.key = {"ns-" + std::to_string(i % kNamespaces), "policy-" + std::to_string(i)};
    p.pod_selector.match_labels["app"] = "app-" + std::to_string(i % kApps);
    p.egress = i % 4 == 0;
    p.policy_types_given = true;
    PolicyRule from_app;
    PolicyPeer same_ns;
    same_ns.pod_selector = LabelSelector{{{"app", "app-" + std::to_string((i + 1) % kApps)}}, {}};
    PolicyPeer other_team;
    other_team.namespace_selector = LabelSelector{{{"team", "team-" + std::to_string(i % 10)}}, {}};
    other_team.pod_selector =
        LabelSelector{{}, {{"tier", LabelRequirement::Op::kIn, {"web", "api"}}}};
    from_app.peers = {same_ns, other_team};
    PolicyPort http;
    http.any_port = false;
    http.name = "http";
    PolicyPort range;
    range.any_port = false;
    range.port = 9000;
    range.end_port = 9100;
    from_app.ports = {http, range};
    p.ingress_rules.push_back(from_app);
    if (i % 7 == 0) {
      PolicyRule cidr;
      PolicyPeer block;
      block.ip_block = IpBlockModel{*Ip4Prefix::Parse("10.0.0.0/8"),
                                    {Ip4Prefix{Ip4::FromHost((10u << 24) | ((i % 200u) << 8)), 24}}};
      cidr.peers = {block};
      p.ingress_rules.push_back(cidr);
    }
    if (p.egress) {
      PolicyRule dns;
      PolicyPort udp53;
      udp53.protocol = L4Protocol::kUdp;
      udp53.any_port = false;
      udp53.port = 53;
      dns.ports = {udp53};
      p.egress_rules.push_back(dns);
      PolicyRule to_db;
      PolicyPeer db;
      db.pod_selector = LabelSelector{{{"tier", "db"}}, {}};
      db.namespace_selector = LabelSelector{};
      to_db.peers = {db};
      p.egress_rules.push_back(to_db);
    }
    s.network_policies[p.key] = p;
  }
  return s;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 10000, policies = 1000, local = 100, runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int v = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--pods")) pods = v;
    else if (!std::strcmp(argv[i], "--policies")) policies = v;
    else if (!std::strcmp(argv[i], "--local")) local = v;
    else if (!std::strcmp(argv[i], "--runs")) runs = v;
    else {
      std::fprintf(stderr, "usage: %s [--pods N] [--policies N] [--local N] [--runs N]\n", argv[0]);
      return 2;
    }
  }
  DesiredState s = Cluster(pods, policies, local);
  double best_full = 1e9, best_label = 1e9;
  size_t identities = 0, sets = 0, rows = 0;
  for (int r = 0; r < runs; ++r) {
    PolicyCompileCache cache;  // what the applier keeps between compiles
    auto t0 = std::chrono::steady_clock::now();
    const nodeplane::dp::PolicySpec spec = CompilePolicy(s, &cache);
    best_full = std::min(best_full, Seconds(std::chrono::steady_clock::now() - t0));
    identities = spec.identities;
    sets = spec.sets.size();
    rows = spec.allows.size();
    // One pod's labels change: what the applier does next (compare, then compile again).
    DesiredState next = s;
    next.pods.begin()->second.labels["app"] = "app-" + std::to_string(r + 1);
    t0 = std::chrono::steady_clock::now();
    if (PolicyInputsDiffer(s, next)) (void)CompilePolicy(next, &cache);
    best_label = std::min(best_label, Seconds(std::chrono::steady_clock::now() - t0));
  }
  std::printf("pods %d (local %d), policies %d: identities %zu, allow-sets %zu, allow rows %zu\n",
              pods, local, policies, identities, sets, rows);
  std::printf("full compile: %.3f s (best of %d)\n", best_full, runs);
  std::printf("recompile after one pod's label change: %.3f s\n", best_label);
  std::printf("{\"pods\": %d, \"local_pods\": %d, \"policies\": %d, \"identities\": %zu, "
              "\"allow_sets\": %zu, \"allow_rows\": %zu, \"compile_s\": %.4f, "
              "\"label_change_s\": %.4f}\n",
              pods, local, policies, identities, sets, rows, best_full, best_label);
  return 0;
}
