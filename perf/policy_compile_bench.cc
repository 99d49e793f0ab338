// nodeplane-policy-compile-bench: how long compiling NetworkPolicy takes at cluster scale.
//   nodeplane-policy-compile-bench [--pods N] [--policies N] [--local N] [--runs N]
//                                  [--changes N] [--tables 0|1]
// Builds a cluster of N pods in 100 namespaces (labels from a few dozen apps and three tiers,
// named container ports), N policies spread over the namespaces (pod and namespace selectors,
// matchExpressions, ipBlocks with except, numeric, ranged and named ports, both directions), and
// times control/compile's CompilePolicy on it: the full compile from scratch (best of --runs), then
// --changes single changes of each kind — one pod's labels, one policy (its selector, its ports or
// one of its peers, in turn), one namespace's labels — each recompiled with the state the applier
// keeps (PolicyCompileCache), as p50/p99/max. With --tables 1 it also starts an EAL (no hugepages)
// and times building the dataplane's PolicyTable from each result (what a publish does).
// Prints one line per figure, then one JSON line.
#include <rte_eal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "control/compile/policy_compile.h"
#include "dataplane/core/eal.h"
#include "dataplane/tables/policy_table.h"

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

struct Figures {
  double p50 = 0, p99 = 0, max = 0;  // milliseconds
};

Figures Percentiles(std::vector<double> ms) {
  Figures f;
  if (ms.empty()) return f;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  f.p50 = at(0.50);
  f.p99 = at(0.99);
  f.max = ms.back();
  return f;
}

// Single changes of one kind, each followed by an incremental compile (and a table build).
struct ChangeRun {
  const char* name;
  std::vector<double> compile_ms;      // wall clock
  std::vector<double> compile_cpu_ms;  // this thread's CPU time: steadier on a shared machine
  std::vector<double> table_ms;
};

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 10000, policies = 1000, local = 100, runs = 3, changes = 200, tables = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int v = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--pods")) pods = v;
    else if (!std::strcmp(argv[i], "--policies")) policies = v;
    else if (!std::strcmp(argv[i], "--local")) local = v;
    else if (!std::strcmp(argv[i], "--runs")) runs = v;
    else if (!std::strcmp(argv[i], "--changes")) changes = v;
    else if (!std::strcmp(argv[i], "--tables")) tables = v;
    else {
      std::fprintf(stderr,
                   "usage: %s [--pods N] [--policies N] [--local N] [--runs N] [--changes N] "
                   "[--tables 0|1]\n",
                   argv[0]);
      return 2;
    }
  }
  if (tables != 0) {
    nodeplane::dp::EalConfig cfg{.program = "nodeplane-policy-compile-bench", .lcores = "0",
                                 .file_prefix = "np-polbench-" + std::to_string(getpid()),
                                 .memory_mb = 1024, .force_no_huge = true,
                                 .extra = {"--no-telemetry", "--log-level=lib.eal:error"}};
    nodeplane::dp::EalInfo info;
    std::string error;
    if (!nodeplane::dp::StartEal(cfg, &info, &error)) {
      std::fprintf(stderr, "EAL: %s\n", error.c_str());
      return 1;
    }
  }
  DesiredState s = Cluster(pods, policies, local);
  double best_full = 1e9, first_incremental = 0, table_full_ms = 0;
  size_t identities = 0, sets = 0, rows = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    const nodeplane::dp::PolicySpec spec = CompilePolicy(s);
    best_full = std::min(best_full, Seconds(std::chrono::steady_clock::now() - t0));
    identities = spec.identities;
    sets = spec.sets.size();
    rows = spec.allows.size();
  }
  PolicyCompileCache cache;  // what the applier keeps between compiles
  auto t0 = std::chrono::steady_clock::now();
  nodeplane::dp::PolicySpec first = CompilePolicy(s, &cache);
  first_incremental = Seconds(std::chrono::steady_clock::now() - t0);
  auto build_table = [&](const nodeplane::dp::PolicySpec& spec) {
    nodeplane::dp::PolicyTable table;
    std::string error;
    const auto b0 = std::chrono::steady_clock::now();
    if (!table.Build(spec, &error)) {
      std::fprintf(stderr, "policy table: %s\n", error.c_str());
      std::exit(1);
    }
    return Seconds(std::chrono::steady_clock::now() - b0) * 1e3;
  };
  if (tables != 0) table_full_ms = build_table(first);

  std::mt19937 rng(1);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::vector<PodKey> pod_keys;
  for (const auto& [k, p] : s.pods) pod_keys.push_back(k);
  std::vector<PolicyKey> policy_keys;
  for (const auto& [k, p] : s.network_policies) policy_keys.push_back(k);
  ChangeRun kinds[] = {{"one pod label change", {}, {}, {}},
                       {"one policy change", {}, {}, {}},
                       {"one namespace label change", {}, {}, {}}};
  for (int kind = 0; kind < 3; ++kind) {
    for (int c = 0; c < changes; ++c) {
      if (kind == 0) {
        s.pods.at(pod_keys[pick(pods)]).labels["app"] = "app-" + std::to_string(pick(kApps));
      } else if (kind == 1) {
        NetworkPolicyModel& p = s.network_policies.at(policy_keys[pick(policies)]);
        switch (c % 3) {
          case 0:  // selects other pods
            p.pod_selector.match_labels["app"] = "app-" + std::to_string(pick(kApps));
            break;
          case 1:  // other ports
            p.ingress_rules[0].ports[1].end_port = static_cast<uint16_t>(9000 + pick(200));
            break;
          case 2:  // another peer
            p.ingress_rules[0].peers[0].pod_selector->match_labels["app"] =
                "app-" + std::to_string(pick(kApps));
            break;
        }
      } else {
        s.namespaces.at("ns-" + std::to_string(pick(kNamespaces))).labels["team"] =
            "team-" + std::to_string(pick(10));
      }
      const double cpu0 = ThreadCpuMs();
      t0 = std::chrono::steady_clock::now();
      const nodeplane::dp::PolicySpec spec = CompilePolicy(s, &cache);
      kinds[kind].compile_ms.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e3);
      kinds[kind].compile_cpu_ms.push_back(ThreadCpuMs() - cpu0);
      if (tables != 0) kinds[kind].table_ms.push_back(build_table(spec));
    }
  }

  std::printf("pods %d (local %d), policies %d: identities %zu, allow-sets %zu, allow rows %zu\n",
              pods, local, policies, identities, sets, rows);
  std::printf("full compile from scratch: %.3f s (best of %d)\n", best_full, runs);
  std::printf("first incremental compile (empty state): %.3f s\n", first_incremental);
  if (tables != 0) std::printf("policy table build: %.2f ms\n", table_full_ms);
  std::string json = "{\"pods\": " + std::to_string(pods) + ", \"local_pods\": " +
                     std::to_string(local) + ", \"policies\": " + std::to_string(policies) +
                     ", \"identities\": " + std::to_string(identities) + ", \"allow_sets\": " +
                     std::to_string(sets) + ", \"allow_rows\": " + std::to_string(rows) +
                     ", \"compile_s\": " + std::to_string(best_full) +
                     ", \"first_incremental_s\": " + std::to_string(first_incremental) +
                     ", \"changes\": " + std::to_string(changes);
  const char* keys[] = {"pod_label", "policy", "namespace_label"};
  for (int kind = 0; kind < 3; ++kind) {
    const Figures c = Percentiles(kinds[kind].compile_ms);
    const Figures cpu = Percentiles(kinds[kind].compile_cpu_ms);
    std::printf("%s: compile p50 %.2f ms, p99 %.2f ms, max %.2f ms (CPU p50 %.2f ms, p99 %.2f ms)",
                kinds[kind].name, c.p50, c.p99, c.max, cpu.p50, cpu.p99);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  ", \"%s_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"cpu_p50\": %.3f, "
                  "\"cpu_p99\": %.3f}",
                  keys[kind], c.p50, c.p99, c.max, cpu.p50, cpu.p99);
    json += buf;
    if (tables != 0) {
      const Figures t = Percentiles(kinds[kind].table_ms);
      std::printf("; table build p50 %.2f ms, p99 %.2f ms", t.p50, t.p99);
      std::snprintf(buf, sizeof buf, ", \"%s_table_ms\": {\"p50\": %.3f, \"p99\": %.3f}",
                    keys[kind], t.p50, t.p99);
      json += buf;
    }
    std::printf("\n");
  }
  if (tables != 0) {
    json += ", \"table_build_ms\": " + std::to_string(table_full_ms);
    rte_eal_cleanup();
  }
  std::printf("%s}\n", json.c_str());
  return 0;
}
