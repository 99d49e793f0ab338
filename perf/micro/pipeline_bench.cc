// Micro-benchmarks (Google Benchmark): cycles per packet of each l3fwd stage on a burst of 64
// synthetic packets, of the route table's bulk lookup, and of the whole RunPipeline into a
// net_null port. Complements perf/bench (which measures the worker end to end on real ports).
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/ports.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/stages/ip4_forward.h"
#include "dataplane/stages/ip4_lookup.h"
#include "dataplane/stages/policy.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::Pkt;
using testing::Topo;

// 64 UDP packets from pod A to pod B, distinct source ports (like perf/scenarios/l3fwd).
std::vector<testing::Bytes> Frames() {
  std::vector<testing::Bytes> out;
  for (uint16_t i = 0; i < kBurstMax; ++i) {
    out.push_back(Pkt()
                      .Eth(Topo::PodAMac(), Topo::GatewayMac())
                      .Ip4(Topo::PodAIp(), Topo::PodBIp())
                      .Udp(static_cast<uint16_t>(10000 + i), 5001)
                      .PadTo(64));
  }
  return out;
}

struct Fixture {
  Fixture() : snap(testing::StandardTopology().Build()) {
    for (const auto& f : Frames()) burst.pkts[burst.n++] = testing::ToMbuf(f, Topo::kPodA);
  }
  ~Fixture() { rte_pktmbuf_free_bulk(burst.pkts, burst.n); }
  std::unique_ptr<Snapshot> snap;
  WorkerCounters counters;
  Burst burst;
};

// Reports cycles per packet from the TSC over the timed loop.
class CyclesPerPacket {
 public:
  explicit CyclesPerPacket(benchmark::State& s) : s_(s), start_(rte_rdtsc()) {}
  ~CyclesPerPacket() {
    const double packets = static_cast<double>(s_.iterations()) * kBurstMax;
    s_.counters["cycles_per_packet"] = static_cast<double>(rte_rdtsc() - start_) / packets;
    s_.SetItemsProcessed(static_cast<int64_t>(packets));
  }

 private:
  benchmark::State& s_;
  uint64_t start_;
};

void BM_EthParse(benchmark::State& state) {
  Fixture f;
  StageContext ctx{*f.snap, f.counters, 0};
  Verdicts v;
  {
    CyclesPerPacket cpp(state);
    for (auto _ : state) {
      EthParseStage::Process(ctx, f.burst, v);
      benchmark::DoNotOptimize(v);
    }
  }
}
BENCHMARK(BM_EthParse);

void BM_Ip4Lookup(benchmark::State& state) {
  Fixture f;
  StageContext ctx{*f.snap, f.counters, 0};
  Verdicts v;
  EthParseStage::Process(ctx, f.burst, v);
  {
    CyclesPerPacket cpp(state);
    for (auto _ : state) {
      Ip4LookupStage::Process(ctx, f.burst, v);
      benchmark::DoNotOptimize(v);
    }
  }
}
BENCHMARK(BM_Ip4Lookup);

// ip4_forward changes the TTL; every iteration puts TTL and checksum back (BM_Ip4ForwardReset
// measures that part alone).
void ResetTtl(Burst& b) {
  for (uint16_t i = 0; i < b.n; ++i) {
    auto* ip = rte_pktmbuf_mtod_offset(b.pkts[i], rte_ipv4_hdr*, 14);
    ip->time_to_live = 64;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
}

void BM_Ip4ForwardReset(benchmark::State& state) {
  Fixture f;
  CyclesPerPacket cpp(state);
  for (auto _ : state) {
    ResetTtl(f.burst);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Ip4ForwardReset);

void BM_Ip4Forward(benchmark::State& state) {
  Fixture f;
  StageContext ctx{*f.snap, f.counters, 0};
  Verdicts v;
  EthParseStage::Process(ctx, f.burst, v);
  Ip4LookupStage::Process(ctx, f.burst, v);
  {
    CyclesPerPacket cpp(state);
    for (auto _ : state) {
      ResetTtl(f.burst);
      Ip4ForwardStage::Process(ctx, f.burst, v);
      benchmark::DoNotOptimize(v);
    }
  }
}
BENCHMARK(BM_Ip4Forward);

void BM_RouteLookupBulk(benchmark::State& state) {
  testing::Eal();
  std::vector<std::pair<uint32_t, uint16_t>> routes;
  for (int64_t i = 0; i < state.range(0); ++i) {
    routes.emplace_back(Ip4::FromHost(0x0af40000u + static_cast<uint32_t>(i)).be, 2);
  }
  LocalRouteTable t;
  std::string error;
  if (!t.Build(routes, &error)) state.SkipWithError(error.c_str());
  uint32_t dst[kBurstMax];
  uint16_t out[kBurstMax];
  for (uint16_t i = 0; i < kBurstMax; ++i) dst[i] = routes[i % routes.size()].first;
  CyclesPerPacket cpp(state);
  for (auto _ : state) {
    t.LookupBulk(dst, kBurstMax, out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RouteLookupBulk)->Arg(2)->Arg(1000)->Arg(100000);

// The whole pipeline into a net_null port. Each iteration needs fresh mbufs (the sink frees
// them): BM_AllocCopyFree measures that part alone.
struct SinkFixture {
  SinkFixture() : ports(testing::Eal().pool, 1) {
    PortInfo a, b;
    std::string error;
    if (!ports.Add("net_null_mba,no-rx=1", &a, &error) ||
        !ports.Add("net_null_mbb,no-rx=1", &b, &error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      std::abort();
    }
    ids.pod_a = a.port_id;
    ids.pod_b = b.port_id;
    ids.uplink = 30;  // not real ports: nothing is sent there in this benchmark
    ids.host = 31;
    snap = testing::StandardTopology(ids).Build();
    frames = Frames();
    w = std::make_unique<WorkerState>();
  }
  ~SinkFixture() {
    std::string error;
    ports.Remove(ids.pod_a, &error);
    ports.Remove(ids.pod_b, &error);
  }
  void Fill(Burst& b) {
    b.n = kBurstMax;
    if (rte_pktmbuf_alloc_bulk(testing::Eal().pool, b.pkts, kBurstMax) != 0) std::abort();
    for (uint16_t i = 0; i < kBurstMax; ++i) {
      rte_mbuf* m = b.pkts[i];
      std::memcpy(rte_pktmbuf_append(m, 64), frames[i].data(), 64);
      m->port = ids.pod_a;
    }
  }
  Ports ports;
  testing::TopoPorts ids;
  std::unique_ptr<Snapshot> snap;
  std::vector<testing::Bytes> frames;
  std::unique_ptr<WorkerState> w;
};

void BM_AllocCopyFree(benchmark::State& state) {
  SinkFixture f;
  CyclesPerPacket cpp(state);
  for (auto _ : state) {
    Burst b;
    f.Fill(b);
    rte_pktmbuf_free_bulk(b.pkts, b.n);
  }
}
BENCHMARK(BM_AllocCopyFree);

void BM_RunPipeline(benchmark::State& state) {
  SinkFixture f;
  CyclesPerPacket cpp(state);
  for (auto _ : state) {
    Burst b;
    f.Fill(b);
    RunPipeline(*f.snap, *f.w, b);
  }
  if (f.w->counters.tx_packets != static_cast<uint64_t>(state.iterations()) * kBurstMax) {
    state.SkipWithError("not every packet was sent");
  }
}
BENCHMARK(BM_RunPipeline);

// The policy stage on 64 parsed packets to pod B, which is isolated for ingress. Arg 0: all from
// pod A, default deny (no rule to look up); 1: all from pod A, admitted by a rule row (one allow
// lookup); 2: from 64 different outside addresses, default deny (64 address misses).
std::unique_ptr<Snapshot> IsolatedPodB(bool with_row) {
  auto b = testing::StandardTopology();
  PolicySpec& p = b.mutable_spec().policy;
  p.hosts = {{Topo::PodAIp(), 1, kNoPolicySet, kNoPolicySet, false},
             {Topo::PodBIp(), 2, 1, kNoPolicySet, false}};
  p.ranges = {{testing::A("0.0.0.0"), 0}, {testing::A("10.0.0.0"), 3}, {testing::A("11.0.0.0"), 0}};
  p.sets.resize(1);
  if (with_row) p.allows = {{1, 1, PolicyProto::kUdp, {{5001, 5001}}}};
  p.identities = 4;
  b.mutable_spec().policy_generation = 1;
  return b.Build();
}

void BM_Policy(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  auto snap = IsolatedPodB(mode == 1);
  WorkerCounters counters;
  Burst burst;
  for (uint16_t i = 0; i < kBurstMax; ++i) {
    const bool outside = mode == 2;
    const auto frame = Pkt()
                           .Eth(outside ? Topo::RouterMac() : Topo::PodAMac(),
                                outside ? Topo::UplinkMac() : Topo::GatewayMac())
                           .Ip4(outside ? Ip4::FromHost((192u << 24) | (2u << 8) | i) : Topo::PodAIp(),
                                Topo::PodBIp())
                           .Udp(static_cast<uint16_t>(10000 + i), 5001)
                           .PadTo(64);
    burst.pkts[burst.n++] = testing::ToMbuf(frame, outside ? Topo::kUplink : Topo::kPodA);
  }
  StageContext ctx{*snap, counters, 0};
  Verdicts v;
  EthParseStage::Process(ctx, burst, v);
  {
    CyclesPerPacket cpp(state);
    for (auto _ : state) {
      PolicyStage::Process(ctx, burst, v);
      benchmark::DoNotOptimize(v);
    }
  }
  if ((v.edge[0] == Edge::kDrop) != (mode != 1)) state.SkipWithError("unexpected verdict");
  rte_pktmbuf_free_bulk(burst.pkts, burst.n);
}
BENCHMARK(BM_Policy)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace nodeplane::dp

BENCHMARK_MAIN();
