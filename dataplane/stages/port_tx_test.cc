// Unit tests of port_tx on real (net_ring loopback) ports: buffering per port, one transmit per
// port and burst on the worker's own queue, PORT_UNAVAILABLE for a port missing from the snapshot,
// TX_FULL when the queue refuses, and no mbuf leaked on any path.
#include "dataplane/stages/port_tx.h"

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dataplane/core/packet_meta.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/ring_ports.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::MbufsInUse;
using testing::Pkt;
using testing::RingPorts;
using testing::SameFrame;
using testing::Topo;

Bytes Numbered(uint16_t n) {
  return Pkt()
      .Eth(Topo::GatewayMac(), Topo::PodBMac())
      .Ip4(Topo::PodAIp(), Topo::PodBIp())
      .Udp(n, 9);
}

rte_mbuf* To(uint16_t out_port, const Bytes& frame) {
  rte_mbuf* m = testing::ToMbuf(frame, 0);
  Meta(m) = PacketMeta{};
  Meta(m).out_port = out_port;
  return m;
}

struct Fixture {
  explicit Fixture(uint16_t workers = 1) : ports(workers) {
    p = ports.Add();
    q = ports.Add();
    unlisted = ports.Add();  // exists as a device, but no snapshot lists it
    snap = testing::SpecBuilder()
               .Workers(workers)
               .TxQueues(workers)
               .Pod(p, Topo::PodAIp(), Topo::PodAMac(), Topo::GatewayMac(), Topo::PodGateway())
               .Pod(q, Topo::PodBIp(), Topo::PodBMac(), Topo::GatewayMac(), Topo::PodGateway())
               .Build();
    w = std::make_unique<WorkerState>();
    baseline = MbufsInUse();
  }
  StageContext ctx() { return StageContext{*snap, w->counters, w->index}; }
  uint64_t drops(DropReason r) const { return w->counters.drops[static_cast<uint8_t>(r)]; }

  RingPorts ports;
  uint16_t p, q, unlisted;
  std::unique_ptr<Snapshot> snap;
  std::unique_ptr<WorkerState> w;
  unsigned baseline;
};

TEST(PortTx, BuffersPerPortUntilFlushThenSendsInOrder) {
  Fixture f;
  auto ctx = f.ctx();
  PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(1)));
  PortTx::Enqueue(ctx, *f.w, To(f.q, Numbered(2)));
  PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(3)));
  PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(4)));
  PortTx::Enqueue(ctx, *f.w, To(f.q, Numbered(5)));
  EXPECT_TRUE(f.ports.Drain(f.p).empty()) << "nothing leaves before Flush";
  PortTx::Flush(ctx, *f.w);
  const auto on_p = f.ports.Drain(f.p);
  const auto on_q = f.ports.Drain(f.q);
  ASSERT_EQ(on_p.size(), 3u);
  ASSERT_EQ(on_q.size(), 2u);
  EXPECT_TRUE(SameFrame(Numbered(1), on_p[0]));
  EXPECT_TRUE(SameFrame(Numbered(3), on_p[1]));
  EXPECT_TRUE(SameFrame(Numbered(4), on_p[2]));
  EXPECT_TRUE(SameFrame(Numbered(2), on_q[0]));
  EXPECT_TRUE(SameFrame(Numbered(5), on_q[1]));
  EXPECT_EQ(f.w->counters.tx_packets, 5u);
  EXPECT_EQ(f.w->dirty_n, 0);
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

TEST(PortTx, BurstToOnePortIsSentWholeAndInOrder) {
  Fixture f;
  auto ctx = f.ctx();
  Burst b;
  for (uint16_t i = 0; i < kBurstMax; ++i) b.pkts[b.n++] = To(f.p, Numbered(i));
  PortTx::EnqueueBurst(ctx, *f.w, b);
  EXPECT_EQ(b.n, 0);
  PortTx::Flush(ctx, *f.w);
  const auto on_p = f.ports.Drain(f.p);
  ASSERT_EQ(on_p.size(), kBurstMax);
  for (uint16_t i = 0; i < kBurstMax; ++i) EXPECT_TRUE(SameFrame(Numbered(i), on_p[i])) << i;
  EXPECT_EQ(f.w->counters.tx_packets, kBurstMax);
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

TEST(PortTx, BurstAfterABufferedPacketForThePortKeepsTheirOrder) {
  Fixture f;
  auto ctx = f.ctx();
  PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(100)));  // e.g. a kTx packet earlier in the burst
  Burst b;
  for (uint16_t i = 0; i < 3; ++i) b.pkts[b.n++] = To(f.p, Numbered(i));
  PortTx::EnqueueBurst(ctx, *f.w, b);
  PortTx::Flush(ctx, *f.w);
  const auto on_p = f.ports.Drain(f.p);
  ASSERT_EQ(on_p.size(), 4u);
  EXPECT_TRUE(SameFrame(Numbered(100), on_p[0]));
  for (uint16_t i = 0; i < 3; ++i) EXPECT_TRUE(SameFrame(Numbered(i), on_p[i + 1])) << i;
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

TEST(PortTx, MixedBurstGoesToEachPortInOrderAndDropsTheUnavailable) {
  Fixture f;
  auto ctx = f.ctx();
  Burst b;
  b.pkts[b.n++] = To(f.p, Numbered(1));
  b.pkts[b.n++] = To(f.q, Numbered(2));
  b.pkts[b.n++] = To(kNoPort, Numbered(3));
  b.pkts[b.n++] = To(f.p, Numbered(4));
  PortTx::EnqueueBurst(ctx, *f.w, b);
  PortTx::Flush(ctx, *f.w);
  const auto on_p = f.ports.Drain(f.p);
  const auto on_q = f.ports.Drain(f.q);
  ASSERT_EQ(on_p.size(), 2u);
  ASSERT_EQ(on_q.size(), 1u);
  EXPECT_TRUE(SameFrame(Numbered(1), on_p[0]));
  EXPECT_TRUE(SameFrame(Numbered(4), on_p[1]));
  EXPECT_TRUE(SameFrame(Numbered(2), on_q[0]));
  EXPECT_EQ(f.drops(DropReason::kPortUnavailable), 1u);
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

TEST(PortTx, WholeBurstToAnUnavailablePortIsDroppedAndFreed) {
  Fixture f;
  auto ctx = f.ctx();
  Burst b;
  for (uint16_t i = 0; i < 5; ++i) b.pkts[b.n++] = To(f.unlisted, Numbered(i));
  PortTx::EnqueueBurst(ctx, *f.w, b);
  PortTx::Flush(ctx, *f.w);
  EXPECT_EQ(f.drops(DropReason::kPortUnavailable), 5u);
  EXPECT_TRUE(f.ports.Drain(f.unlisted).empty());
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

TEST(PortTx, FlushWithNothingBufferedSendsNothing) {
  Fixture f;
  auto ctx = f.ctx();
  PortTx::Flush(ctx, *f.w);
  EXPECT_EQ(f.w->counters.tx_packets, 0u);
  EXPECT_TRUE(f.ports.Drain(f.p).empty());
}

struct UnavailableCase {
  std::string name;
  friend void PrintTo(const UnavailableCase& c, std::ostream* os) { *os << c.name; }
  int which;  // 0: a device no snapshot lists, 1: kNoPort, 2: beyond RTE_MAX_ETHPORTS
};

class PortTxUnavailable : public ::testing::TestWithParam<UnavailableCase> {};

TEST_P(PortTxUnavailable, IsDroppedAndFreed) {
  Fixture f;
  auto ctx = f.ctx();
  const uint16_t port = GetParam().which == 0   ? f.unlisted
                        : GetParam().which == 1 ? kNoPort
                                                : static_cast<uint16_t>(RTE_MAX_ETHPORTS + 3);
  PortTx::Enqueue(ctx, *f.w, To(port, Numbered(1)));
  PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(2)));
  PortTx::Flush(ctx, *f.w);
  EXPECT_EQ(f.drops(DropReason::kPortUnavailable), 1u);
  EXPECT_EQ(f.w->counters.tx_packets, 1u);
  EXPECT_TRUE(f.ports.Drain(f.unlisted).empty()) << "nothing may reach an unlisted port";
  EXPECT_EQ(f.ports.Drain(f.p).size(), 1u) << "the rest of the burst is unaffected";
  EXPECT_EQ(MbufsInUse(), f.baseline) << "the dropped mbuf must be freed";
}

INSTANTIATE_TEST_SUITE_P(PortTx, PortTxUnavailable,
                         ::testing::Values(UnavailableCase{"PortMissingFromSnapshot", 0},
                                           UnavailableCase{"NoPortSet", 1},
                                           UnavailableCase{"PortIdOutOfRange", 2}),
                         [](const ::testing::TestParamInfo<UnavailableCase>& info) {
                           return info.param.name;
                         });

TEST(PortTx, FullBufferIsSentAtOnceAndLaterPacketsStillGoOut) {
  Fixture f;
  auto ctx = f.ctx();
  for (uint16_t i = 0; i < kBurstMax; ++i) PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(i)));
  EXPECT_EQ(f.w->counters.tx_packets, kBurstMax) << "a full buffer goes out without waiting";
  for (uint16_t i = kBurstMax; i < kBurstMax + 6; ++i) {
    PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(i)));
  }
  PortTx::Flush(ctx, *f.w);
  const auto sent = f.ports.Drain(f.p);
  ASSERT_EQ(sent.size(), kBurstMax + 6u);
  for (uint16_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(SameFrame(Numbered(i), sent[i])) << "packet " << i;
  }
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

TEST(PortTx, EachWorkerSendsOnItsOwnQueue) {
  Fixture f(2);
  f.w->index = 1;
  auto ctx = f.ctx();
  PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(1)));
  PortTx::Flush(ctx, *f.w);
  EXPECT_TRUE(f.ports.DrainQueue(f.p, 0).empty()) << "queue 0 belongs to worker 0";
  EXPECT_EQ(f.ports.DrainQueue(f.p, 1).size(), 1u);
}

TEST(PortTx, QueueThatRefusesCountsTxFullAndFreesTheRest) {
  Fixture f;
  auto ctx = f.ctx();
  uint64_t enqueued = 0;
  for (int burst = 0; burst < 200 && f.drops(DropReason::kTxFull) == 0; ++burst) {
    for (uint16_t i = 0; i < kBurstMax; ++i) {
      PortTx::Enqueue(ctx, *f.w, To(f.p, Numbered(i)));
      ++enqueued;
    }
    PortTx::Flush(ctx, *f.w);
  }
  const uint64_t full = f.drops(DropReason::kTxFull);
  ASSERT_GT(full, 0u) << "the loopback ring never filled up";
  EXPECT_EQ(f.w->counters.tx_packets + full, enqueued);
  EXPECT_EQ(MbufsInUse(), f.baseline + f.w->counters.tx_packets)
      << "only the packets the queue took may still be in use";
  EXPECT_EQ(f.ports.Drain(f.p).size(), f.w->counters.tx_packets);
  EXPECT_EQ(MbufsInUse(), f.baseline);
}

}  // namespace
}  // namespace nodeplane::dp
