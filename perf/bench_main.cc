// nodeplane-bench: the pipeline benchmark (DESIGN §9). Replays a pcap from memory into one pod port
// (net_pcap rx_pcap=FILE,infinite_rx=1), sinks every other port (net_null no-rx=1), runs one
// dp::Worker on one lcore for a fixed time and reports from the worker's own counters: Mpps,
// cycles per packet, drops by reason. The last line of output is one JSON object.
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/eal.h"
#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker.h"
#include "nodeplane/counter.h"
#include "nodeplane/drop_reason.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/fib.h"
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
  uint32_t mbufs = 16383;
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
      "  --mbufs N         mbuf pool size (default 16383)\n"
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

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

int Run(const Options& o, const scenario::Scenario& sc, rte_mempool* pool, const dp::EalInfo& info);

int Main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o)) {
    Usage();
    return 2;
  }
  auto sc = scenario::LoadScenario(o.state);
  if (!sc.ok()) return Fail(sc.status().ToString());
  if (!std::filesystem::exists(o.pcap)) return Fail("no such pcap: " + o.pcap);
  const std::string prefix =
      o.file_prefix.empty() ? "np-bench-" + std::to_string(getpid()) : o.file_prefix;

  dp::EalConfig eal{
      .program = "nodeplane-bench",
      .lcores = o.lcore,
      .file_prefix = prefix,
      .memory_mb = o.memory_mb,
      .force_no_huge = o.no_huge,
      .extra = {"--no-telemetry", "--log-level=lib.eal:error", "--log-level=pmd.net.*:error"}};
  dp::EalInfo info;
  std::string error;
  if (!dp::StartEal(eal, &info, &error)) return Fail(error);
  const std::string runtime_dir = rte_eal_get_runtime_dir();

  rte_mempool* pool = dp::CreatePacketPool(o.mbufs, &error);
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
  std::map<Ip4Prefix, uint32_t> routes;
  auto spec = scenario::Compile(sc, ids, 1, 1, &routes);
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
  dp::Published<dp::Snapshot> published(rcu);
  published.Publish(std::move(snap));
  for (const auto& [p, slot] : routes) {
    if (!fib.Add(p, slot, &error)) return Fail(error);
  }
  dp::Worker worker(0, rcu, published, dp::IdlePolicy{});
  worker.Attach();

  PollFor(worker, o.warmup_s);
  const dp::WorkerCounters before = worker.counters();
  for (uint16_t id : added) rte_eth_stats_reset(id);
  const uint64_t t0 = rte_rdtsc();
  PollFor(worker, o.duration_s);
  const uint64_t cycles = rte_rdtsc() - t0;
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
  std::printf("eal: lcore %s, %s, pool %u mbufs\n", o.lcore.c_str(),
              info.hugepages ? "hugepages" : "no hugepages (--no-huge)", o.mbufs);
  std::printf("measured %.2f s after %.2f s warm-up, TSC %.3f GHz\n", seconds, o.warmup_s,
              hz / 1e9);
  if (sc.conntrack_entries != 0) {
    std::printf("conntrack: %u connections in a table of %u\n", conntrack.connections(),
                conntrack.capacity());
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
