// The pending-resolution queue, through the real pipeline on loopback ports: packets to a remote
// node whose underlay MAC is unknown are held (within both bounds), sent in VXLAN once a snapshot
// has the MAC, and dropped as neighbor_unresolved past their deadline or when the node is gone.
#include "dataplane/core/pending_resolution.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/pipeline.h"
#include "dataplane/stages/overlay_testing.h"
#include "dataplane/testing/ring_ports.h"

namespace nodeplane::dp {
namespace {

using testing::Bytes;
using testing::Overlay;
using testing::Pkt;
using testing::Topo;

struct PendingNet {
  PendingNet() {
    ids.uplink = ports.Add();
    ids.host = ports.Add();
    ids.pod_a = ports.Add();
    ids.pod_b = ports.Add();
    world = std::make_unique<testing::OverlayWorld>(testing::OverlayTopologySpec(ids));
    w = std::make_unique<WorkerState>();
    w->now_tsc = 1000;
  }
  // Node C (unresolved in the base spec) with its next hop's MAC known.
  std::unique_ptr<Snapshot> WithCResolved() {
    SnapshotSpec spec = testing::OverlayTopologySpec(ids);
    spec.remote_nodes[1].next_hop_mac = kCMac;
    std::string error;
    auto snap = BuildSnapshot(spec, &world->fib, &error);
    EXPECT_NE(snap, nullptr) << error;
    return snap;
  }
  void SendToC(uint16_t count, uint16_t first_sport) {
    Burst b;
    for (uint16_t i = 0; i < count; ++i) {
      const Bytes f = Pkt()
                          .Eth(Topo::PodAMac(), Topo::GatewayMac())
                          .Ip4(Topo::PodAIp(), Overlay::PodOnC())
                          .Udp(static_cast<uint16_t>(first_sport + i), 53);
      b.pkts[b.n++] = testing::ToMbuf(f, ids.pod_a);
    }
    RunPipeline(*world->snap, *w, b);
  }
  uint64_t drops(DropReason r) const { return w->counters.drops[static_cast<uint8_t>(r)]; }
  uint64_t held() const {
    return w->counters.events[static_cast<uint8_t>(Counter::kPendingResolution)];
  }

  const Mac kCMac{{0x02, 0, 0, 0, 0, 0x30}};
  testing::RingPorts ports;
  testing::TopoPorts ids;
  std::unique_ptr<testing::OverlayWorld> world;
  std::unique_ptr<WorkerState> w;
};

TEST(PendingResolution, HeldPacketsLeaveInVxlanOnceTheNextHopResolves) {
  PendingNet net;
  net.SendToC(PendingResolution::kPerNode + 2, 4000);
  EXPECT_EQ(net.held(), PendingResolution::kPerNode);
  EXPECT_EQ(net.w->pending.size(), PendingResolution::kPerNode);
  EXPECT_EQ(net.drops(DropReason::kNeighborUnresolved), 2u) << "past the per-node bound";
  EXPECT_TRUE(net.ports.Drain(net.ids.uplink).empty());

  ReleasePending(*net.world->snap, *net.w);  // still unresolved, not yet due: kept
  EXPECT_EQ(net.w->pending.size(), PendingResolution::kPerNode);

  const auto resolved = net.WithCResolved();
  ReleasePending(*resolved, *net.w);
  EXPECT_EQ(net.w->pending.size(), 0u);
  const std::vector<Bytes> sent = net.ports.Drain(net.ids.uplink);
  ASSERT_EQ(sent.size(), PendingResolution::kPerNode);
  for (size_t i = 0; i < sent.size(); ++i) {
    const Bytes& f = sent[i];
    ASSERT_GE(f.size(), 50u + 14 + 20 + 8);
    EXPECT_EQ(Mac({f[0], f[1], f[2], f[3], f[4], f[5]}), net.kCMac) << "to C's next hop";
    const uint32_t outer_dst = (uint32_t{f[30]} << 24) | (f[31] << 16) | (f[32] << 8) | f[33];
    EXPECT_EQ(Ip4::FromHost(outer_dst), Overlay::NodeCIp()) << "outer destination: C's VTEP";
    // The inner UDP source ports, in the order the packets were sent.
    const size_t inner_udp = 50 + 14 + 20;
    EXPECT_EQ((f[inner_udp] << 8) | f[inner_udp + 1], 4000 + static_cast<int>(i));
  }
  EXPECT_EQ(net.drops(DropReason::kNeighborUnresolved), 2u);
}

TEST(PendingResolution, HeldPacketsExpireAsNeighborUnresolved) {
  PendingNet net;
  net.SendToC(3, 5000);
  ASSERT_EQ(net.w->pending.size(), 3u);
  net.w->now_tsc += PendingResolution::kHoldSeconds * rte_get_tsc_hz() - 1;
  ReleasePending(*net.world->snap, *net.w);
  EXPECT_EQ(net.w->pending.size(), 3u) << "not yet due";
  net.w->now_tsc += 2;
  ReleasePending(*net.world->snap, *net.w);
  EXPECT_EQ(net.w->pending.size(), 0u);
  EXPECT_EQ(net.drops(DropReason::kNeighborUnresolved), 3u);
  EXPECT_TRUE(net.ports.Drain(net.ids.uplink).empty());
}

TEST(PendingResolution, TheWorkerBoundHoldsAcrossNodes) {
  PendingResolution q;
  std::vector<rte_mbuf*> mbufs;
  uint32_t parked = 0;
  for (uint32_t slot = 1; parked < PendingResolution::kCapacity; ++slot) {
    for (uint16_t i = 0; i < PendingResolution::kPerNode; ++i) {
      rte_mbuf* m = rte_pktmbuf_alloc(testing::Eal().pool);
      ASSERT_NE(m, nullptr);
      ASSERT_TRUE(q.Park(m, slot, 0));
      ++parked;
    }
  }
  rte_mbuf* extra = rte_pktmbuf_alloc(testing::Eal().pool);
  EXPECT_FALSE(q.Park(extra, 999, 0)) << "a new node cannot take more than the worker holds";
  rte_pktmbuf_free(extra);
  const unsigned before = testing::MbufsInUse();
  q.Release([](rte_mbuf* m, uint32_t, uint64_t) {
    rte_pktmbuf_free(m);
    return true;
  });
  EXPECT_EQ(testing::MbufsInUse(), before - PendingResolution::kCapacity);
}

}  // namespace
}  // namespace nodeplane::dp
