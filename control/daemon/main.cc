// nodeplaned: the node dataplane daemon. EAL and ports, one worker per lcore (the first on the main
// lcore), the gRPC server on its own non-EAL threads, and a signal thread for clean shutdown.
#include <grpcpp/grpcpp.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <memory>
#include <thread>
#include <vector>

#include "control/daemon/applier.h"
#include "control/daemon/conntrack_flush.h"
#include "control/daemon/conntrack_ager.h"
#include "control/daemon/control_cpus.h"
#include "control/daemon/neighbor_resolver.h"
#include "control/daemon/options.h"
#include "control/daemon/pod_link_names.h"
#include "control/server/nodeplane_service.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/neighbor_events.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/worker.h"
#include "dataplane/tables/affinity_table.h"
#include "dataplane/tables/service_table.h"

namespace nodeplane::ctl {
namespace {

std::atomic<bool> g_stop{false};

int RunWorker(void* arg) {
  static_cast<dp::Worker*>(arg)->Run(g_stop);
  return 0;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "nodeplaned: %s\n", what.c_str());
  return 1;
}

std::unique_ptr<grpc::Server> StartServer(const std::string& path, grpc::Service* service,
                                          std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  ::unlink(path.c_str());  // a stale socket from a crashed run
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  const mode_t old = ::umask(0177);  // the socket is born 0600: root only
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ::umask(old);
  if (server == nullptr) {
    *error = "cannot listen on unix:" + path;
    return nullptr;
  }
  ::chmod(path.c_str(), 0600);
  return server;
}

// Adds the uplink and the exception port; the host tap takes the uplink's MAC so the node keeps
// one identity on the wire whichever way its packets go.
bool AddNodePorts(const DaemonOptions& opts, dp::Ports& ports, RuntimePorts& rt,
                  std::string* error) {
  dp::PortInfo info;
  if (!opts.uplink.empty()) {
    if (!ports.Add(opts.uplink, &info, error, /*control_tx=*/true)) return false;
    rt.uplink = RuntimePort{info.port_id, info.mac, info.rx_queues, info.tx_queues, info.mtu};
  }
  if (opts.host_iface != "none") {
    std::string devargs = "net_tap_host,iface=" + opts.host_iface;
    if (rt.uplink) devargs += ",mac=" + rt.uplink->mac.ToString();
    if (!ports.Add(devargs, &info, error)) return false;
    rt.host = RuntimePort{info.port_id, info.mac, info.rx_queues, info.tx_queues};
  }
  return true;
}

// Everything that holds EAL memory (pool, RCU, snapshots, ports) lives and dies in here, so all of
// it is released before the EAL is cleaned up.
int Serve(const DaemonOptions& opts, const dp::EalInfo& eal_info, sigset_t signals,
          const cpu_set_t& process_cpus) {
  // Every thread started from here on (gRPC, health checks, resolver, ager) runs off the workers'
  // CPUs; this thread goes back to its lcore before it becomes worker 0.
  std::optional<ControlCpus> control_cpus;
  control_cpus.emplace(process_cpus, eal_info.worker_lcores);
  std::string error;
  const auto workers = static_cast<uint16_t>(eal_info.worker_lcores.size());
  rte_mempool* pool = dp::CreatePacketPool(opts.mbufs, &error);
  if (pool == nullptr) return Fail(error);
  dp::Rcu rcu(workers);
  // Remote pod CIDRs: one long-lived table, updated per route (dataplane/tables/fib.h). Declared
  // before `published` so that it outlives every snapshot referring to it.
  dp::Fib fib;
  if (!fib.Init(dp::Fib::Limits{}, rcu.qsbr(), &error)) return Fail(error);
  // Connections: one long-lived table written by workers (dataplane/tables/conntrack.h), also
  // declared before `published`; its ager removes expired connections in slices.
  dp::Conntrack conntrack;
  if (!conntrack.Init(dp::Conntrack::Limits{.entries = opts.conntrack_entries}, rcu.qsbr(),
                      &error))
    return Fail(error);
  // Services: long-lived like the Fib (dataplane/tables/service_table.h), outliving the snapshots.
  dp::ServiceTable service_table;
  if (!service_table.Init(opts.max_service_addresses, rcu.qsbr(), &error)) return Fail(error);
  dp::AffinityTable affinity;
  if (!affinity.Init(opts.affinity_slots, &error)) return Fail(error);
  dp::Published<dp::Snapshot> published(rcu);
  dp::Ports ports(pool, workers);
  RuntimePorts rt{.worker_count = workers};
  if (!AddNodePorts(opts, ports, rt, &error)) return Fail(error);

  if (const int stale = RemoveStalePodLinks(); stale > 0) {
    std::fprintf(stderr, "nodeplaned: removed %d pod link(s) left by an earlier run\n", stale);
  }
  // Workers report ARP from the underlay next hops here; the resolver drains it.
  std::unique_ptr<dp::NeighborEvents> neighbor_events =
      dp::NeighborEvents::Create("np_neigh_ev", 1024, static_cast<int>(rte_socket_id()), &error);
  if (neighbor_events == nullptr) return Fail(error);
  // Control frames (ARP requests) go out through worker 0's own tx queue.
  std::unique_ptr<dp::ControlTx> control_tx =
      dp::ControlTx::Create("np_ctl_tx", 64, static_cast<int>(rte_socket_id()), &error);
  if (control_tx == nullptr) return Fail(error);
  Applier applier(ports, published, rt, opts.host_iface, opts.pod_port, &fib);
  applier.SetNeighborEvents(neighbor_events.get());
  applier.SetConntrack(&conntrack);
  // Clients outside the cluster: the MAC their connections came from, for the replies.
  dp::UplinkPeers uplink_peers;
  if (!uplink_peers.Init(65536, &error)) return Fail(error);
  applier.SetUplinkPeers(&uplink_peers);
  ConntrackTableFlusher udp_flusher(conntrack);  // UDP entries to removed Service backends
  applier.SetConntrackFlusher(&udp_flusher);
  for (const auto& [ip, mac] : opts.neighbors) (void)applier.AddStaticNeighbor(ip, mac);
  applier.SetServiceTables(&service_table, &affinity);
  HealthCheckServer health_checks;
  applier.SetHealthCheckServer(&health_checks);
  if (absl::Status s = applier.Start(); !s.ok()) return Fail(std::string(s.message()));
  if (!opts.node_name.empty()) {
    NodeModel node{.name = opts.node_name, .pod_gateway = *Ip4::Parse(kDefaultPodGateway)};
    if (auto s = applier.SetNode(node); !s.ok()) return Fail(std::string(s.status().message()));
  }

  std::vector<std::unique_ptr<dp::Worker>> pool_of_workers;
  DaemonInfo info{.version = NP_VERSION, .hugepages = eal_info.hugepages, .uplink = opts.uplink,
                  .host_interface = opts.host_iface == "none" ? "" : opts.host_iface,
                  .node_port_range = opts.node_port_range, .conntrack = &conntrack};
  const dp::IdlePolicy idle{.max_sleep_us = opts.idle_sleep_us};
  for (uint16_t i = 0; i < workers; ++i) {
    pool_of_workers.push_back(std::make_unique<dp::Worker>(i, rcu, published, idle));
    info.workers.push_back(WorkerRef{pool_of_workers.back().get(), eal_info.worker_lcores[i]});
  }
  pool_of_workers[0]->SetControlTx(control_tx.get());
  // A write's reply waits until every worker has echoed its generation: after the grace period a
  // polling worker echoes it on its next iteration, a sleeping one within --idle-sleep-us.
  applier.SetWorkerAck([&pool_of_workers](uint64_t generation) {
    for (const auto& w : pool_of_workers) {
      while (w->generation() < generation && !g_stop.load()) std::this_thread::yield();
    }
  });
  NodeplaneService service(applier, info);
  std::unique_ptr<grpc::Server> server = StartServer(opts.socket, &service, &error);
  if (server == nullptr) return Fail(error);

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "nodeplaned: signal %d, shutting down\n", sig);
    g_stop.store(true);
    server->Shutdown();
  });
  for (uint16_t i = 1; i < workers; ++i) {
    rte_eal_remote_launch(RunWorker, pool_of_workers[i].get(), eal_info.worker_lcores[i]);
  }
  std::fprintf(stderr, "nodeplaned: ready: socket %s, %u worker(s), %s, idle sleep %s\n",
               opts.socket.c_str(), workers,
               eal_info.hugepages ? "hugepages" : "no hugepages",
               opts.idle_sleep_us == 0 ? "off (full-speed polling)"
                                       : ("up to " + std::to_string(opts.idle_sleep_us) + " us").c_str());
  // Underlay next hops: learned from what workers report, asked on the uplink (a spare tx queue,
  // else through worker 0's).
  NeighborResolver::Config rcfg;
  if (rt.uplink) {
    rcfg.port = rt.uplink->port_id;
    rcfg.mac = rt.uplink->mac;
    if (rt.uplink->tx_queues > workers) rcfg.tx_queue = workers;
    rcfg.control_tx = control_tx.get();
  }
  rcfg.pool = pool;
  NeighborResolver resolver(applier, *neighbor_events, rcfg);
  if (rt.uplink) resolver.Start();
  ConntrackAger ager(conntrack, ConntrackAger::Config{});
  ager.Start();
  control_cpus.reset();
  pool_of_workers[0]->Run(g_stop);  // the main lcore's worker
  ager.Stop();
  resolver.Stop();
  rte_eal_mp_wait_lcore();
  signal_thread.join();
  server->Wait();

  applier.DetachAll();
  if (rt.host) ports.Remove(rt.host->port_id, &error);
  if (rt.uplink) ports.Remove(rt.uplink->port_id, &error);
  ::unlink(opts.socket.c_str());
  control_tx.reset();  // returns unsent frames to the pool first
  rte_mempool_free(pool);
  std::fprintf(stderr, "nodeplaned: stopped\n");
  return 0;
}

int Main(int argc, char** argv) {
  DaemonOptions opts;
  bool help = false;
  std::string error;
  if (!ParseDaemonOptions(argc, argv, &opts, &help, &error)) {
    std::fprintf(stderr, "nodeplaned: %s (see --help)\n", error.c_str());
    return 2;
  }
  if (help) {
    std::fputs(DaemonUsage().c_str(), stdout);
    return 0;
  }
  // Signals go to the signal thread only: block them before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  dp::EalConfig eal{.program = "nodeplaned", .lcores = opts.lcores, .file_prefix = opts.file_prefix,
                    .memory_mb = opts.memory_mb, .force_no_huge = opts.no_huge, .extra = opts.eal};
  dp::EalInfo eal_info;
  const cpu_set_t process_cpus = ProcessCpus();  // before the EAL pins this thread
  if (!dp::StartEal(eal, &eal_info, &error)) return Fail(error);
  const auto workers = static_cast<uint16_t>(eal_info.worker_lcores.size());
  if (workers > dp::kMaxWorkers) return Fail("at most " + std::to_string(dp::kMaxWorkers) + " lcores");

  const int rc = Serve(opts, eal_info, signals, process_cpus);
  dp::StopEal();  // after Serve: everything holding EAL memory is gone by now
  return rc;
}

}  // namespace
}  // namespace nodeplane::ctl

int main(int argc, char** argv) { return nodeplane::ctl::Main(argc, argv); }
