// nodeplane-bench: the pipeline benchmark (DESIGN §9). Replays a pcap from memory into one pod port
// (net_pcap rx_pcap=FILE,infinite_rx=1), sinks every other port (net_null no-rx=1), runs one
// dp::Worker on one lcore for a fixed time and reports from the worker's own counters: Mpps,
// cycles per packet, drops by reason. The last line of output is one JSON object.
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "dataplane/core/eal.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker.h"
#include "nodeplane/counter.h"
#include "nodeplane/drop_reason.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/fib.h"
#include "dataplane/tables/service_table.h"
#include "perf/scenario/scenario.h"

namespace nodeplane::perf {
namespace {

struct Options {
  std::string pcap;
  std::string state;
  std::string name = "custom";
  double duration_s = 5.0;
  double warmup_s = 1.0;
  std::string lcore = "1";
  uint32_t mbufs = 0;  // 0: from the pcap (PoolFor)
  uint32_t memory_mb = 256;
  bool no_huge = false;
  std::string file_prefix;
};

void Usage() {
  std::fputs(
      "usage: nodeplane-bench --pcap FILE --state FILE [options]\n"
      "  --pcap FILE       packets to replay (from memory, in a loop) into the input port\n"
      "  --state FILE      scenario file: State + ports (perf/scenario/scenario.h)\n"
      "  --name NAME       scenario name to report (default: custom)\n"
      "  --duration SEC    measured time (default 5)\n"
      "  --warmup SEC      unmeasured time first (default 1)\n"
      "  --lcore N         the one EAL lcore to run on (default 1)\n"
      "  --mbufs N         mbuf pool size (default: the pcap's frames + 16383)\n"
      "  --no-huge         do not use hugepages even if reserved\n"
      "  --file-prefix P   EAL --file-prefix (default np-bench-<pid>)\n",
      stderr);
}

bool ParseOptions(int argc, char** argv, Options* o) {
  enum { kPcap = 1, kState, kName, kDuration, kWarmup, kLcore, kMbufs, kNoHuge, kPrefix, kHelp };
  static const option kLong[] = {{"pcap", required_argument, nullptr, kPcap},
                                 {"state", required_argument, nullptr, kState},
                                 {"name", required_argument, nullptr, kName},
                                 {"duration", required_argument, nullptr, kDuration},
                                 {"warmup", required_argument, nullptr, kWarmup},
                                 {"lcore", required_argument, nullptr, kLcore},
                                 {"mbufs", required_argument, nullptr, kMbufs},
                                 {"no-huge", no_argument, nullptr, kNoHuge},
                                 {"file-prefix", required_argument, nullptr, kPrefix},
                                 {"help", no_argument, nullptr, kHelp},
                                 {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (c) {
      case kPcap:
        o->pcap = optarg;
        break;
      case kState:
        o->state = optarg;
        break;
      case kName:
        o->name = optarg;
        break;
      case kDuration:
        o->duration_s = std::atof(optarg);
        break;
      case kWarmup:
        o->warmup_s = std::atof(optarg);
        break;
      case kLcore:
        o->lcore = optarg;
        break;
      case kMbufs:
        o->mbufs = static_cast<uint32_t>(std::atol(optarg));
        break;
      case kNoHuge:
        o->no_huge = true;
        break;
      case kPrefix:
        o->file_prefix = optarg;
        break;
      default:
        return false;
    }
  }
  return !o->pcap.empty() && !o->state.empty() && o->duration_s > 0 && o->warmup_s >= 0;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "nodeplane-bench: %s\n", what.c_str());
  return 1;
}

// Polls until `seconds` of TSC time have passed; checks the clock every 256 polls.
void PollFor(dp::Worker& w, double seconds) {
  const uint64_t end = rte_rdtsc() + static_cast<uint64_t>(seconds * rte_get_tsc_hz());
  for (;;) {
    for (int i = 0; i < 256; ++i) w.PollOnce();
    if (rte_rdtsc() >= end) return;
  }
}

// Removes every connection each time `Flushing::every` more packets were received (scenario
// `conntrack_flush`: one replay of the pcap, whose bursts of 64 line up with the replays), so that
// every packet of every replay opens a new connection. The clock stops during a flush: the worker
// goes offline (Conntrack::Flush waits for a grace period on this very thread), the table is
// emptied, the worker comes back; that time is not part of the measurement.
struct Flushing {
  dp::Conntrack* conntrack = nullptr;
  uint64_t every = 0;
  uint64_t received = 0;  // since the last flush
  uint64_t flushes = 0;
  uint64_t removed = 0;
};

// Polls for `seconds` of polling time, flushing as above; returns the TSC cycles spent polling.
uint64_t PollFlushingFor(dp::Worker& w, double seconds, Flushing& f) {
  const uint64_t budget = static_cast<uint64_t>(seconds * rte_get_tsc_hz());
  uint64_t polled = 0;
  uint64_t start = rte_rdtsc();
  while (polled + (rte_rdtsc() - start) < budget) {
    f.received += w.PollOnce();
    if (f.received < f.every) continue;
    polled += rte_rdtsc() - start;
    w.Detach();
    f.removed += f.conntrack->Flush(dp::CtFilter{});
    ++f.flushes;
    f.received -= f.every;
    w.Attach();
    start = rte_rdtsc();
  }
  return polled + (rte_rdtsc() - start);
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

int Run(const Options& o, const scenario::Scenario& sc, rte_mempool* pool, const dp::EalInfo& info);

// Frames in a pcap file and the longest (0 if unreadable): net_pcap's infinite_rx keeps each in an
// mbuf of its own.
struct PcapSize {
  uint64_t frames = 0;
  uint32_t longest = 0;
};

PcapSize PcapFrames(const std::string& path) {
  PcapSize out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  uint32_t rec[4];  // ts_sec, ts_usec, incl_len, orig_len (native byte order, as make.py writes)
  if (std::fseek(f, 24, SEEK_SET) == 0) {
    while (std::fread(rec, sizeof(rec), 1, f) == 1 && std::fseek(f, rec[2], SEEK_CUR) == 0) {
      ++out.frames;
      out.longest = std::max(out.longest, rec[2]);
    }
  }
  std::fclose(f);
  return out;
}

// The packet pool: the replayed frames (held by net_pcap) plus room for the bursts in flight.
// Up to 65,536 mbufs they are the daemon's (dp::CreatePacketPool, 2 KiB of data); a larger pool
// (the million-flow scenarios) has mbufs with just the headroom (where VXLAN headers are
// prepended) and the longest frame rounded up to a cache line, so that a million of them fit.
struct PoolPlan {
  uint32_t mbufs;
  uint16_t data_room;
  uint32_t memory_mb;  // EAL memory: the pool, conntrack and the rest (256 MB at least)
};

PoolPlan PoolFor(const Options& o, PcapSize pcap, uint32_t conntrack_entries) {
  PoolPlan p;
  p.mbufs = o.mbufs != 0 ? o.mbufs : static_cast<uint32_t>(pcap.frames + 16383);
  p.data_room = p.mbufs <= 65536 || pcap.longest > 1024
                    ? RTE_MBUF_DEFAULT_BUF_SIZE
                    : static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + (pcap.longest + 63) / 64 * 64);
  const uint64_t pool_mb =
      uint64_t{p.mbufs} * (sizeof(rte_mbuf) + sizeof(dp::PacketMeta) + p.data_room + 64) >> 20;
  const uint64_t ct_mb = uint64_t{conntrack_entries} * dp::Conntrack::kMaxBytesPerConnection >> 20;
  p.memory_mb = static_cast<uint32_t>(std::max<uint64_t>(o.memory_mb, pool_mb + ct_mb + 128));
  return p;
}

double MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o)) {
    Usage();
    return 2;
  }
  const auto load_start = std::chrono::steady_clock::now();
  auto sc = scenario::LoadScenario(o.state);
  if (!sc.ok()) return Fail(sc.status().ToString());
  std::printf("scenario file parsed in %.0f ms\n", MsSince(load_start));
  if (!std::filesystem::exists(o.pcap)) return Fail("no such pcap: " + o.pcap);
  const std::string prefix =
      o.file_prefix.empty() ? "np-bench-" + std::to_string(getpid()) : o.file_prefix;

  const PoolPlan plan = PoolFor(o, PcapFrames(o.pcap), sc->conntrack_entries);
  dp::EalConfig eal{
      .program = "nodeplane-bench",
      .lcores = o.lcore,
      .file_prefix = prefix,
      .memory_mb = plan.memory_mb,
      .force_no_huge = o.no_huge,
      .extra = {"--no-telemetry", "--log-level=lib.eal:error", "--log-level=pmd.net.*:error"}};
  dp::EalInfo info;
  std::string error;
  if (!dp::StartEal(eal, &info, &error)) return Fail(error);
  const std::string runtime_dir = rte_eal_get_runtime_dir();

  rte_mempool* pool =
      plan.data_room == RTE_MBUF_DEFAULT_BUF_SIZE
          ? dp::CreatePacketPool(plan.mbufs, &error)
          : rte_pktmbuf_pool_create("np_pkts", plan.mbufs, 256, sizeof(dp::PacketMeta),
                                    plan.data_room, static_cast<int>(rte_socket_id()));
  if (pool == nullptr && error.empty()) {
    error = std::string("mbuf pool: ") + rte_strerror(rte_errno);
  }
  std::printf("eal: %u MB; pool: %u mbufs of %u bytes of data\n", plan.memory_mb, plan.mbufs,
              plan.data_room);
  const int rc = pool == nullptr ? Fail(error) : Run(o, *sc, pool, info);
  dp::StopEal();
  std::error_code ec;
  std::filesystem::remove_all(runtime_dir, ec);
  return rc;
}

// Everything that holds EAL memory lives in here, so it is gone before the EAL stops.
int Run(const Options& o, const scenario::Scenario& sc, rte_mempool* pool,
        const dp::EalInfo& info) {
  std::string error;
  dp::Ports ports(pool, 1);
  scenario::PortIds ids;
  std::vector<uint16_t> added;
  for (const scenario::PortDecl& p : sc.ports) {
    const bool input = p.name == sc.input;
    const std::string devargs = input
                                    ? "net_pcap_" + p.name + ",rx_pcap=" + o.pcap + ",infinite_rx=1"
                                    : "net_null_" + p.name + ",no-rx=1";
    dp::PortInfo port;
    if (!ports.Add(devargs, &port, &error)) return Fail(error);
    ids[p.name] = port.port_id;
    added.push_back(port.port_id);
  }
  const auto compile_start = std::chrono::steady_clock::now();
  std::map<Ip4Prefix, uint32_t> routes;
  scenario::ServiceEntries service_entries;
  auto spec = scenario::Compile(sc, ids, 1, 1, &routes, &service_entries);
  if (!spec.ok()) return Fail(spec.status().ToString());
  dp::Rcu rcu(1);
  dp::Fib fib;
  if (!fib.Init(dp::Fib::Limits{}, rcu.qsbr(), &error)) return Fail(error);
  auto snap = dp::BuildSnapshot(*spec, &fib, &error);
  if (snap == nullptr) return Fail(error);
  // Like the Fib: outlives every snapshot that refers to it.
  dp::Conntrack conntrack;
  if (sc.conntrack_entries != 0) {
    if (!conntrack.Init(dp::Conntrack::Limits{.entries = sc.conntrack_entries}, rcu.qsbr(),
                        &error))
      return Fail(error);
    snap->conntrack = &conntrack;
  }
  // Services: the daemon's long-lived table, filled once (no ClientIP affinity table: the
  // scenarios' Services have no affinity).
  dp::ServiceTable services;
  if (!service_entries.empty()) {
    const auto capacity = static_cast<uint32_t>(std::max<size_t>(64, service_entries.size()));
    if (!services.Init(capacity, rcu.qsbr(), &error)) return Fail(error);
    for (const auto& [key, entry] : service_entries) {
      if (!services.Set(key, entry, &error)) return Fail(error);
    }
    snap->services = &services;
  }
  dp::Published<dp::Snapshot> published(rcu);
  published.Publish(std::move(snap));
  for (const auto& [p, slot] : routes) {
    if (!fib.Add(p, slot, &error)) return Fail(error);
  }
  std::printf("state compiled, tables built and published in %.0f ms\n", MsSince(compile_start));
  dp::Worker worker(0, rcu, published, dp::IdlePolicy{});
  worker.Attach();

  Flushing flushing{.conntrack = &conntrack, .every = sc.conntrack_flush};
  if (flushing.every != 0) {
    PollFlushingFor(worker, o.warmup_s, flushing);
  } else {
    PollFor(worker, o.warmup_s);
  }
  const dp::WorkerCounters before = worker.counters();
  const uint64_t flushes_before = flushing.flushes, removed_before = flushing.removed;
  for (uint16_t id : added) rte_eth_stats_reset(id);
  uint64_t cycles = 0;
  if (flushing.every != 0) {
    cycles = PollFlushingFor(worker, o.duration_s, flushing);
  } else {
    const uint64_t t0 = rte_rdtsc();
    PollFor(worker, o.duration_s);
    cycles = rte_rdtsc() - t0;
  }
  const dp::WorkerCounters after = worker.counters();
  worker.Detach();

  const double hz = static_cast<double>(rte_get_tsc_hz());
  const double seconds = static_cast<double>(cycles) / hz;
  const uint64_t rx = after.rx_packets - before.rx_packets;
  const uint64_t tx = after.tx_packets - before.tx_packets;
  const uint64_t busy = after.busy_cycles - before.busy_cycles;
  const uint64_t busy_polls = after.busy_polls - before.busy_polls;
  const uint64_t idle_polls = after.idle_polls - before.idle_polls;
  const double mpps = static_cast<double>(rx) / seconds / 1e6;
  const double cpp_busy = rx ? static_cast<double>(busy) / static_cast<double>(rx) : 0;
  const double cpp_total = rx ? static_cast<double>(cycles) / static_cast<double>(rx) : 0;
  uint64_t dropped = 0;
  std::string drops_json;
  std::string drops_text;
  for (uint8_t r = 0; r < kDropReasonCount; ++r) {
    const uint64_t n = after.drops[r] - before.drops[r];
    if (n == 0) continue;
    dropped += n;
    const std::string name(DropReasonName(static_cast<DropReason>(r)));
    drops_json += (drops_json.empty() ? "" : ", ") + ("\"" + name + "\": " + std::to_string(n));
    drops_text += "  " + name + ": " + std::to_string(n) + "\n";
  }
  std::string out_ports;
  for (const scenario::PortDecl& p : sc.ports) {
    rte_eth_stats st{};
    rte_eth_stats_get(ids[p.name], &st);
    out_ports += "  " + p.name + (p.name == sc.input ? " (input)" : "") + ": rx " +
                 std::to_string(st.ipackets) + ", tx " + std::to_string(st.opackets) + "\n";
  }

  std::printf("scenario %s: %s\n", o.name.c_str(), sc.description.c_str());
  std::printf("eal: lcore %s, %s\n", o.lcore.c_str(),
              info.hugepages ? "hugepages" : "no hugepages (--no-huge)");
  std::printf("measured %.2f s after %.2f s warm-up, TSC %.3f GHz\n", seconds, o.warmup_s,
              hz / 1e9);
  if (sc.conntrack_entries != 0) {
    std::printf("conntrack: %u connections in a table of %u\n", conntrack.connections(),
                conntrack.capacity());
  }
  if (!service_entries.empty()) std::printf("services: %zu service table keys\n", services.size());
  if (flushing.every != 0) {
    const uint64_t n = flushing.flushes - flushes_before;
    const uint64_t removed = flushing.removed - removed_before;
    std::printf("conntrack flushed every %" PRIu64 " packets: %" PRIu64 " flushes removed %" PRIu64
                " connections (%.1f per flush), outside the measured time\n",
                flushing.every, n, removed,
                n ? static_cast<double>(removed) / static_cast<double>(n) : 0.0);
  }
  std::printf("packets: rx %" PRIu64 ", tx %" PRIu64 ", dropped %" PRIu64 "\n", rx, tx, dropped);
  std::printf("%s", drops_text.c_str());
  std::printf("ports:\n%s", out_ports.c_str());
  std::printf("polls: %" PRIu64 " busy, %" PRIu64 " idle (%.1f packets per busy poll)\n",
              busy_polls, idle_polls,
              busy_polls ? static_cast<double>(rx) / static_cast<double>(busy_polls) : 0.0);
  std::printf("throughput: %.3f Mpps on one core\n", mpps);
  std::printf("cycles/packet: %.1f in the pipeline (busy_cycles/rx), %.1f all in (TSC/rx)\n",
              cpp_busy, cpp_total);
  std::printf(
      "{\"scenario\": \"%s\", \"mpps\": %.4f, \"cycles_per_packet\": %.2f, "
      "\"cycles_per_packet_total\": %.2f, \"rx_packets\": %" PRIu64 ", \"tx_packets\": %" PRIu64
      ", \"dropped\": %" PRIu64
      ", \"drops\": {%s}, \"seconds\": %.3f, \"tsc_hz\": %.0f, "
      "\"hugepages\": %s}\n",
      JsonEscape(o.name).c_str(), mpps, cpp_busy, cpp_total, rx, tx, dropped, drops_json.c_str(),
      seconds, hz, info.hugepages ? "true" : "false");
  std::fflush(stdout);

  published.Publish(nullptr);
  for (uint16_t id : added) ports.Remove(id, &error);
  return 0;
}

}  // namespace
}  // namespace nodeplane::perf

int main(int argc, char** argv) { return nodeplane::perf::Main(argc, argv); }
