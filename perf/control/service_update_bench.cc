// nodeplane-svc-update-bench: the control plane's cost of Services, measured through the real
// Applier with a real worker thread (a write returns only once the worker runs its generation,
// the same acknowledgement the gRPC reply waits for).
//   1. load N Services × E endpoints (requests of up to 10,000 objects, as the API allows);
//   2. then C single-endpoint changes, each to one random Service: time from the call until the
//      worker runs the generation — p50, p99, max — and the control thread's CPU time for each.
// The worker runs on a CPU of its own (the last allowed one), the control thread on the others.
// Usage: nodeplane-svc-update-bench [--services N] [--endpoints E] [--changes C] [--pods P]
//                                   [--realtime]
//   --pods: P pods in the model (on this node, none attached), which every generation's
//   snapshot is compiled from.
//   --realtime: the changes (not the load) run with both threads at SCHED_FIFO priority 1, as on a
//   node whose dataplane and control cores are its own; needs root.
// Prints a human summary and, as its last line, one JSON object.
#include <unistd.h>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "control/daemon/applier.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/worker.h"

using namespace nodeplane;
using Clock = std::chrono::steady_clock;

namespace {

Ip4 Addr(uint32_t host) { return Ip4::FromHost(host); }

ctl::ServiceModel Svc(uint32_t i) {
  ctl::ServiceModel s;
  s.key = {"bench", "svc-" + std::to_string(i)};
  s.cluster_ips = {Addr(((10u << 24) | (96u << 16)) + i)};
  s.ports = {ctl::ServicePortModel{"", ctl::L4Protocol::kTcp, 80, 8080, "", 0}};
  return s;
}

ctl::EndpointSliceModel Slice(uint32_t i, uint32_t endpoints, uint32_t variant) {
  ctl::EndpointSliceModel s;
  s.key = {"bench", "svc-" + std::to_string(i) + "-abc"};
  s.service_name = "svc-" + std::to_string(i);
  for (uint32_t e = 0; e < endpoints; ++e) {
    ctl::EndpointModel ep;
    // 10.128.0.0/9: a distinct address per Service and endpoint; `variant` moves the last one.
    ep.address = Addr((10u << 24) | (1u << 23) | (i * 16 + e + (e + 1 == endpoints ? variant : 0)));
    ep.node_name = e % 3 == 0 ? "node1" : "node2";
    s.endpoints.push_back(ep);
  }
  s.ports = {ctl::EndpointPortModel{"", ctl::L4Protocol::kTcp, 8080}};
  return s;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time this thread has run: what a change costs the control plane, without the time spent
// waiting for the worker to be scheduled (which, on a shared machine, is most of the latency).
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t services = 10000, endpoints = 10, changes = 200, pods = 0;
  bool realtime = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--realtime") {
      realtime = true;
      continue;
    }
    if (i + 1 >= argc) break;
    const uint32_t v = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    if (a == "--services") services = v;
    else if (a == "--endpoints") endpoints = v;
    else if (a == "--changes") changes = v;
    else if (a == "--pods") pods = v;
  }
  // The CPUs we may use, before the EAL pins this thread to lcore 0 (threads started from it
  // would inherit that: the worker and the control thread on one CPU, each grace period then a
  // wait for the scheduler to switch between them).
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof(allowed), &allowed);
  const std::string prefix = "np-svcbench-" + std::to_string(getpid());
  dp::EalConfig cfg{.program = "nodeplane-svc-update-bench", .lcores = "0", .file_prefix = prefix,
                    .memory_mb = 512, .force_no_huge = true,
                    .extra = {"--no-telemetry", "--log-level=lib.eal:error"}};
  dp::EalInfo info;
  std::string error;
  if (!dp::StartEal(cfg, &info, &error)) {
    std::fprintf(stderr, "EAL: %s\n", error.c_str());
    return 1;
  }
  rte_mempool* pool = dp::CreatePacketPool(1023, &error);
  int rc = 0;
  {
    dp::Rcu rcu(1);
    dp::Published<dp::Snapshot> published(rcu);
    dp::Ports ports(pool, 1);
    dp::ServiceTable table;
    dp::AffinityTable affinity;
    if (!table.Init(services * 2 + 1024, rcu.qsbr(), &error) || !affinity.Init(1024, &error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    ctl::Applier applier(ports, published, ctl::RuntimePorts{.worker_count = 1}, "none",
                         ctl::PodPortType::kTap);
    applier.SetServiceTables(&table, &affinity);
    if (!applier.Start().ok()) return 1;
    std::atomic<bool> stop{false};
    dp::Worker worker(0, rcu, published, dp::IdlePolicy{.max_sleep_us = 0});
    // As in production, the worker has a CPU of its own: the last one we may use; the control
    // thread gets the others (all of them on a single-CPU machine).
    cpu_set_t worker_cpu, control_cpus;
    CPU_ZERO(&worker_cpu);
    control_cpus = allowed;
    for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
      if (!CPU_ISSET(c, &allowed)) continue;
      CPU_SET(c, &worker_cpu);
      if (CPU_COUNT(&allowed) > 1) CPU_CLR(c, &control_cpus);
      break;
    }
    pthread_setaffinity_np(pthread_self(), sizeof(control_cpus), &control_cpus);
    std::thread loop([&] {
      pthread_setaffinity_np(pthread_self(), sizeof(worker_cpu), &worker_cpu);
      worker.Run(stop);
    });
    applier.SetWorkerAck([&](uint64_t g) {
      while (worker.generation() < g) std::this_thread::yield();
    });
    ctl::NodeModel node;
    node.name = "node1";
    node.addresses = {Ip4Prefix{Addr((192u << 24) | (168u << 16) | 10), 24}};
    node.pod_gateway = Addr((169u << 24) | (254u << 16) | (1u << 8) | 1);
    (void)applier.SetNode(node);
    // Pods in the model (not attached): what every snapshot, rebuilt per generation, is built from.
    for (uint32_t first = 0; first < pods; first += 10000) {
      std::vector<ctl::PodModel> batch;
      for (uint32_t i = first; i < std::min(pods, first + 10000); ++i) {
        ctl::PodModel p;
        p.key = {"bench", "pod-" + std::to_string(i)};
        p.ips = {Addr(((10u << 24) | (64u << 16)) + i)};
        p.labels = {{"app", "app-" + std::to_string(i % 100)}};
        p.node_name = "node1";
        batch.push_back(std::move(p));
      }
      if (!applier.UpsertPods(std::move(batch)).ok()) {
        std::fprintf(stderr, "pods failed\n");
        rc = 1;
      }
    }

    const auto t0 = Clock::now();
    for (uint32_t first = 0; first < services && rc == 0; first += 10000) {
      std::vector<ctl::ServiceModel> svcs;
      std::vector<ctl::EndpointSliceModel> slices;
      for (uint32_t i = first; i < std::min(services, first + 10000); ++i) {
        svcs.push_back(Svc(i));
        slices.push_back(Slice(i, endpoints, 0));
      }
      if (!applier.UpsertServices(std::move(svcs)).ok() ||
          !applier.UpsertEndpointSlices(std::move(slices)).ok()) {
        std::fprintf(stderr, "load failed\n");
        rc = 1;
      }
    }
    const double load_ms = Ms(Clock::now() - t0);

    // --realtime: during the changes only, both threads at real-time priority, standing in for
    // the dedicated cores of a production node; otherwise the machine's other load sets the tail.
    auto set_policy = [&](int policy) {
      sched_param p{};
      p.sched_priority = policy == SCHED_FIFO ? 1 : 0;
      return pthread_setschedparam(pthread_self(), policy, &p) == 0 &&
             pthread_setschedparam(loop.native_handle(), policy, &p) == 0;
    };
    if (realtime && !set_policy(SCHED_FIFO)) {
      std::fprintf(stderr, "--realtime: cannot set SCHED_FIFO (root needed); measuring without\n");
      realtime = false;
    }
    std::mt19937 rng(7);
    std::vector<double> lat;
    std::vector<double> cpu;  // the control thread's own CPU time per change
    for (uint32_t c = 0; c < changes && rc == 0; ++c) {
      const uint32_t i = rng() % services;
      auto slice = Slice(i, endpoints, 1 + (c % 2));  // one endpoint's address changes
      const double cpu0 = ThreadCpuMs();
      const auto s = Clock::now();
      auto gen = applier.UpsertEndpointSlices({std::move(slice)});
      lat.push_back(Ms(Clock::now() - s));
      cpu.push_back(ThreadCpuMs() - cpu0);
      if (!gen.ok() || worker.generation() < *gen) rc = 1;
    }
    if (realtime) set_policy(SCHED_OTHER);
    std::sort(lat.begin(), lat.end());
    std::sort(cpu.begin(), cpu.end());
    auto pct_of = [](const std::vector<double>& v, double p) {
      return v.empty() ? 0 : v[std::min(v.size() - 1, size_t(p * v.size()))];
    };
    auto pct = [&](double p) { return pct_of(lat, p); };
    std::printf("services %u x endpoints %u, %u pods: load %.0f ms; service table %zu keys\n",
                services, endpoints, pods, load_ms, table.size());
    std::printf("single endpoint change, until the worker runs it (%u changes%s): p50 %.3f ms, "
                "p99 %.3f ms, max %.3f ms\n",
                changes, realtime ? ", real-time priority" : "", pct(0.5), pct(0.99),
                lat.empty() ? 0 : lat.back());
    std::printf("the same changes, CPU time of the control thread (its work and its spin on the "
                "grace period, not the time it was off the CPU): p50 %.3f ms, p99 %.3f ms\n",
                pct_of(cpu, 0.5), pct_of(cpu, 0.99));
    std::printf("{\"services\": %u, \"endpoints\": %u, \"load_ms\": %.1f, \"changes\": %u, "
                "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
                "\"cpu_p50_ms\": %.3f, \"cpu_p99_ms\": %.3f, \"realtime\": %s, \"pods\": %u}\n",
                services, endpoints, load_ms, changes, pct(0.5), pct(0.99),
                lat.empty() ? 0 : lat.back(), pct_of(cpu, 0.5), pct_of(cpu, 0.99),
                realtime ? "true" : "false", pods);
    stop = true;
    loop.join();
    applier.SetWorkerAck(nullptr);
  }
  dp::StopEal();
  std::filesystem::remove_all("/var/run/dpdk/" + prefix);
  return rc;
}
