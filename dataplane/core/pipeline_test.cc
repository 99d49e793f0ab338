// Unit tests of the whole pipeline on real ports (net_ring loopback vdevs): a mixed burst leaves by
// the right ports with the right bytes and counters, the stage harness's order agrees with
// RunPipeline's, and a Worker polls, runs, transmits and echoes the generation it ran.
#include "dataplane/core/pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/worker.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/ring_ports.h"
#include "dataplane/testing/stage_harness.h"
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

const Mac kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

// The standard topology on four loopback ports. The pipeline is called directly (nothing polls),
// so what a port transmits waits in its ring for the test.
struct Net {
  Net() {
    ids.uplink = ports.Add();
    ids.host = ports.Add();
    ids.pod_a = ports.Add();
    ids.pod_b = ports.Add();
    snap = testing::StandardTopology(ids).Build();
    w = std::make_unique<WorkerState>();
  }
  std::vector<uint16_t> all() const { return {ids.uplink, ids.host, ids.pod_a, ids.pod_b}; }
  uint64_t drops(DropReason r) const { return w->counters.drops[static_cast<uint8_t>(r)]; }
  uint64_t events(Counter c) const { return w->counters.events[static_cast<uint8_t>(c)]; }

  void Run(const std::vector<std::pair<Bytes, uint16_t>>& frames) {
    Burst b;
    for (const auto& [frame, port] : frames) b.pkts[b.n++] = testing::ToMbuf(frame, port);
    RunPipeline(*snap, *w, b);
    EXPECT_EQ(b.n, 0) << "RunPipeline must leave the burst empty";
  }

  RingPorts ports;
  testing::TopoPorts ids;
  std::unique_ptr<Snapshot> snap;
  std::unique_ptr<WorkerState> w;
};

std::vector<Bytes> Sorted(std::vector<Bytes> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Pipeline, MixedBurstLeavesByTheRightPorts) {
  Net net;
  const unsigned baseline = MbufsInUse();
  const Bytes a_to_b = Pkt()
                           .Eth(Topo::PodAMac(), Topo::GatewayMac())
                           .Ip4(Topo::PodAIp(), Topo::PodBIp())
                           .Udp(1000, 2000)
                           .Payload("hello");
  const Bytes a_arp = Pkt()
                          .Eth(Topo::PodAMac(), kBroadcast)
                          .ArpRequest(Topo::PodAMac(), Topo::PodAIp(), Topo::PodGateway());
  const Bytes a_ttl1 = Pkt()
                           .Eth(Topo::PodAMac(), Topo::GatewayMac())
                           .Ip4(Topo::PodAIp(), Topo::PodBIp())
                           .Ttl(1)
                           .Udp(1000, 2000)
                           .Payload("12345678");
  const Bytes a_bad_sum = Pkt()
                              .Eth(Topo::PodAMac(), Topo::GatewayMac())
                              .Ip4(Topo::PodAIp(), Topo::PodBIp())
                              .Udp(1, 2)
                              .BadIp4Checksum();
  const Bytes a_spoofed =
      Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodBIp(), Topo::PodBIp()).Udp(1, 2);
  const Bytes a_to_node = Pkt()
                              .Eth(Topo::PodAMac(), Topo::GatewayMac())
                              .Ip4(Topo::PodAIp(), Topo::NodeIp())
                              .Tcp(40000, 22);
  const Bytes up_ip6 = Pkt()
                           .Eth(Topo::RouterMac(), Topo::UplinkMac())
                           .EthType(testing::kEthTypeIp6)
                           .Payload(Bytes(60, 6));
  const Bytes up_arp = Pkt()
                           .Eth(Topo::RouterMac(), kBroadcast)
                           .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp());
  const Bytes up_to_b = Pkt()
                            .Eth(Topo::RouterMac(), Topo::UplinkMac())
                            .Ip4(Topo::RemoteIp(), Topo::PodBIp())
                            .Udp(53, 5000);
  const Bytes host_out = Pkt()
                             .Eth(Topo::HostMac(), Topo::RouterMac())
                             .Ip4(Topo::NodeIp(), Topo::RemoteIp())
                             .Tcp(22, 40000, testing::kTcpAck);
  net.Run({{a_to_b, net.ids.pod_a},
           {a_arp, net.ids.pod_a},
           {a_ttl1, net.ids.pod_a},
           {a_bad_sum, net.ids.pod_a},
           {a_spoofed, net.ids.pod_a},
           {a_to_node, net.ids.pod_a},
           {up_ip6, net.ids.uplink},
           {up_arp, net.ids.uplink},
           {up_to_b, net.ids.uplink},
           {host_out, net.ids.host}});

  // Expected frames, built from the rules (not from the program's output).
  const Bytes routed_a_to_b = Pkt()
                                  .Eth(Topo::GatewayMac(), Topo::PodBMac())
                                  .Ip4(Topo::PodAIp(), Topo::PodBIp())
                                  .Ttl(63)
                                  .Udp(1000, 2000)
                                  .Payload("hello");
  const Bytes routed_up_to_b = Pkt()
                                   .Eth(Topo::GatewayMac(), Topo::PodBMac())
                                   .Ip4(Topo::RemoteIp(), Topo::PodBIp())
                                   .Ttl(63)
                                   .Udp(53, 5000);
  const Bytes routed_a_to_node = Pkt()
                                     .Eth(Topo::GatewayMac(), Topo::HostMac())
                                     .Ip4(Topo::PodAIp(), Topo::NodeIp())
                                     .Ttl(63)
                                     .Tcp(40000, 22);
  const Bytes arp_reply =
      Pkt()
          .Eth(Topo::GatewayMac(), Topo::PodAMac())
          .ArpReply(Topo::GatewayMac(), Topo::PodGateway(), Topo::PodAMac(), Topo::PodAIp());
  const Bytes quote(a_ttl1.begin() + 14, a_ttl1.begin() + 14 + 28);
  const Bytes time_exceeded = Pkt()
                                  .Eth(Topo::GatewayMac(), Topo::PodAMac())
                                  .Ip4(Topo::PodGateway(), Topo::PodAIp())
                                  .Tos(0xc0)
                                  .Icmp(11, 0)
                                  .Payload(quote);

  EXPECT_EQ(Sorted(net.ports.Drain(net.ids.pod_b)), Sorted({routed_a_to_b, routed_up_to_b}));
  EXPECT_EQ(Sorted(net.ports.Drain(net.ids.pod_a)), Sorted({arp_reply, time_exceeded}));
  EXPECT_EQ(Sorted(net.ports.Drain(net.ids.host)), Sorted({routed_a_to_node, up_ip6, up_arp}));
  EXPECT_EQ(Sorted(net.ports.Drain(net.ids.uplink)), Sorted({host_out}));

  const WorkerCounters& c = net.w->counters;
  EXPECT_EQ(c.rx_packets, 10u);
  EXPECT_EQ(c.tx_packets, 8u);
  EXPECT_EQ(net.drops(DropReason::kIp4BadChecksum), 1u);
  EXPECT_EQ(net.drops(DropReason::kSourceSpoofed), 1u);
  EXPECT_EQ(net.drops(DropReason::kIp4TtlExceeded), 1u);
  uint64_t all_drops = 0;
  for (uint64_t d : c.drops) all_drops += d;
  EXPECT_EQ(all_drops, 3u);
  EXPECT_EQ(net.events(Counter::kArpRepliesSent), 1u);
  EXPECT_EQ(net.events(Counter::kIcmpTimeExceededSent), 1u);
  EXPECT_EQ(net.events(Counter::kPuntedToHost), 2u);
  EXPECT_EQ(net.events(Counter::kHostToUplink), 1u);
  EXPECT_EQ(net.events(Counter::kRouted), 3u);
  EXPECT_EQ(net.w->drop_n, 0) << "the drop list is freed at the end of the burst";
  EXPECT_EQ(MbufsInUse(), baseline) << "every mbuf was sent or freed";
}

// ct_fastpath finishes whole bursts and tells port_tx when they all leave by one port; a burst of
// established packets of two connections going opposite ways must still leave by both ports.
TEST(Pipeline, EstablishedPacketsOfOneBurstLeaveByTheirOwnPorts) {
  Net net;
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "pipeline_ct")) << error;
  net.snap->conntrack = &ct;
  ASSERT_NE(net.snap->epoch, 0u);
  const unsigned baseline = MbufsInUse();
  // One UDP datagram between pod A's port 1000 and pod B's port 2000, as sent by the pod
  // (`routed` false) or as routed one hop to the other (gateway MAC to the pod's, TTL 63).
  const auto udp = [](bool a_to_b, const std::string& payload, bool routed) {
    const Mac from = a_to_b ? Topo::PodAMac() : Topo::PodBMac();
    const Mac to = a_to_b ? Topo::PodBMac() : Topo::PodAMac();
    const Ip4 src = a_to_b ? Topo::PodAIp() : Topo::PodBIp();
    const Ip4 dst = a_to_b ? Topo::PodBIp() : Topo::PodAIp();
    return Pkt()
        .Eth(routed ? Topo::GatewayMac() : from, routed ? to : Topo::GatewayMac())
        .Ip4(src, dst)
        .Ttl(routed ? 63 : 64)
        .Udp(a_to_b ? 1000 : 2000, a_to_b ? 2000 : 1000)
        .Payload(payload)
        .Build();
  };
  const auto a_to_b = [&](const std::string& p) { return udp(true, p, false); };
  const auto b_to_a = [&](const std::string& p) { return udp(false, p, false); };
  const auto routed_to_b = [&](const std::string& p) { return udp(true, p, true); };
  const auto routed_to_a = [&](const std::string& p) { return udp(false, p, true); };
  // The slow path: the first packet, the reply, then the first established packet each way
  // (each leaves its direction's route).
  net.Run({{a_to_b("1"), net.ids.pod_a}});
  net.Run({{b_to_a("2"), net.ids.pod_b}});
  net.Run({{a_to_b("3"), net.ids.pod_a}});
  net.ports.Drain(net.ids.pod_a);
  net.ports.Drain(net.ids.pod_b);
  const uint64_t fast_before = net.events(Counter::kCtFastpath);

  net.Run({{a_to_b("4"), net.ids.pod_a},
           {b_to_a("5"), net.ids.pod_b},
           {a_to_b("6"), net.ids.pod_a},
           {b_to_a("7"), net.ids.pod_b}});
  EXPECT_EQ(net.events(Counter::kCtFastpath), fast_before + 4) << "all four took the fast path";
  EXPECT_EQ(net.ports.Drain(net.ids.pod_b),
            (std::vector<Bytes>{routed_to_b("4"), routed_to_b("6")}));
  EXPECT_EQ(net.ports.Drain(net.ids.pod_a),
            (std::vector<Bytes>{routed_to_a("5"), routed_to_a("7")}));
  EXPECT_EQ(MbufsInUse(), baseline);
}

// Stages that act on few packets skip bursts with none of theirs (StageContext::burst_has): a
// burst whose packets only a later stage marks must still reach the stage that acts on the mark.
TEST(Pipeline, BurstsOfOneKindReachTheStagesThatActOnThem) {
  Net net;
  const unsigned baseline = MbufsInUse();
  const Bytes up_to_node = Pkt()
                               .Eth(Topo::RouterMac(), Topo::UplinkMac())
                               .Ip4(Topo::RemoteIp(), Topo::NodeIp())
                               .Tcp(40000, 22);
  net.Run({{up_to_node, net.ids.uplink}, {up_to_node, net.ids.uplink}});  // punted by ip4_lookup
  EXPECT_EQ(net.ports.Drain(net.ids.host), (std::vector<Bytes>{up_to_node, up_to_node}));

  const Bytes up_arp = Pkt()
                           .Eth(Topo::RouterMac(), kBroadcast)
                           .ArpRequest(Topo::RouterMac(), Topo::RemoteIp(), Topo::NodeIp());
  net.Run({{up_arp, net.ids.uplink}});  // punted by arp_respond
  EXPECT_EQ(net.ports.Drain(net.ids.host), (std::vector<Bytes>{up_arp}));

  const Bytes a_arp = Pkt()
                          .Eth(Topo::PodAMac(), kBroadcast)
                          .ArpRequest(Topo::PodAMac(), Topo::PodAIp(), Topo::PodGateway());
  net.Run({{a_arp, net.ids.pod_a}});  // answered by arp_respond
  EXPECT_EQ(net.ports.Drain(net.ids.pod_a).size(), 1u);

  EXPECT_EQ(net.drops(DropReason::kPortUnavailable), 0u);
  EXPECT_EQ(net.events(Counter::kPuntedToHost), 3u);
  EXPECT_EQ(net.events(Counter::kArpRepliesSent), 1u);
  EXPECT_EQ(MbufsInUse(), baseline);
}

TEST(Pipeline, StageHarnessRunsTheStagesInThePipelinesOrder) {
  // For each frame, the harness (all stages, in testing::PipelineStages order) predicts the output
  // port and bytes; RunPipeline must agree. If pipeline.cc's order changes, this fails.
  Net net;
  const std::vector<std::pair<Bytes, uint16_t>> frames = {
      {Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), Topo::PodBIp()).Udp(1, 2),
       net.ids.pod_a},
      {Pkt()
           .Eth(Topo::PodAMac(), Topo::GatewayMac())
           .Ip4(Topo::PodAIp(), Topo::PodBIp())
           .Ttl(1)
           .Udp(1, 2),
       net.ids.pod_a},
      {Pkt()
           .Eth(Topo::PodAMac(), kBroadcast)
           .ArpRequest(Topo::PodAMac(), Topo::PodAIp(), Topo::PodGateway()),
       net.ids.pod_a},
      {Pkt()
           .Eth(Topo::HostMac(), kBroadcast)
           .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Topo::PodBIp()),
       net.ids.host},
      {Pkt()
           .Eth(Topo::HostMac(), kBroadcast)
           .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Topo::RemoteIp()),
       net.ids.host},
      {Pkt()
           .Eth(Topo::RouterMac(), Topo::UplinkMac())
           .Ip4(Topo::RemoteIp(), Topo::NodeIp())
           .Ttl(1)
           .Udp(1, 2),
       net.ids.uplink},
      {Pkt()
           .Eth(Topo::RouterMac(), Topo::UplinkMac())
           .Ip4(Topo::RemoteIp(), Topo::PodAIp())
           .Ttl(1)
           .Udp(1, 2),
       net.ids.uplink},
      {Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac()).Ip4(Topo::PodAIp(), A("8.8.8.8")).Udp(1, 2),
       net.ids.pod_a},
  };
  for (size_t i = 0; i < frames.size(); ++i) {
    testing::StageHarness<HostExceptionStage> h(*net.snap);
    const auto predicted = h.Run(frames[i].first, frames[i].second);
    net.Run({frames[i]});
    for (uint16_t port : net.all()) {
      const auto sent = net.ports.Drain(port);
      const bool should_send = predicted.edge != Edge::kDrop && predicted.meta.out_port == port;
      ASSERT_EQ(sent.size(), should_send ? 1u : 0u) << "frame " << i << ", port " << port;
      if (should_send) {
        EXPECT_TRUE(SameFrame(predicted.bytes, sent[0])) << "frame " << i;
      }
    }
  }
}

TEST(Pipeline, EmptyBurstSendsNothing) {
  Net net;
  net.Run({});
  EXPECT_EQ(net.w->counters.rx_packets, 0u);
  EXPECT_EQ(net.w->counters.tx_packets, 0u);
}

TEST(Worker, PollOnceReceivesRunsTransmitsAndEchoesTheGeneration) {
  RingPorts ports;
  testing::TopoPorts ids;
  ids.uplink = ports.Add();
  ids.host = ports.Add();
  ids.pod_a = ports.Add();
  ids.pod_b = ports.Add();
  testing::SpecBuilder spec = testing::StandardTopology(ids).Generation(7);
  // Only pod A is polled: the loopback rings of the others hold what they send for the test.
  for (PortSpec& p : spec.mutable_spec().ports) p.rx_queues = p.port_id == ids.pod_a ? 1 : 0;

  Rcu rcu(1);
  Published<Snapshot> published(rcu);
  Worker worker(0, rcu, published, IdlePolicy{});
  worker.Attach();
  EXPECT_EQ(worker.PollOnce(), 0u) << "nothing published yet: nothing polled";
  // This thread is both worker and control: an online worker would wait for itself forever.
  worker.Detach();
  published.Publish(spec.Build());
  worker.Attach();

  const Bytes in = Pkt()
                       .Eth(Topo::PodAMac(), Topo::GatewayMac())
                       .Ip4(Topo::PodAIp(), Topo::PodBIp())
                       .IcmpEcho(1, 1)
                       .Payload("ping");
  ports.Inject(ids.pod_a, {in, in, in});
  EXPECT_EQ(worker.PollOnce(), 3u);
  EXPECT_EQ(worker.generation(), 7u);
  const Bytes routed = Pkt()
                           .Eth(Topo::GatewayMac(), Topo::PodBMac())
                           .Ip4(Topo::PodAIp(), Topo::PodBIp())
                           .Ttl(63)
                           .IcmpEcho(1, 1)
                           .Payload("ping");
  EXPECT_EQ(ports.Drain(ids.pod_b), (std::vector<Bytes>{routed, routed, routed}));
  EXPECT_EQ(worker.PollOnce(), 0u);

  const WorkerCounters& c = worker.counters();
  EXPECT_EQ(c.rx_packets, 3u);
  EXPECT_EQ(c.tx_packets, 3u);
  EXPECT_EQ(c.busy_polls, 1u);
  EXPECT_EQ(c.idle_polls, 2u);
  EXPECT_GT(c.busy_cycles, 0u);
  worker.Detach();
}

TEST(Worker, SendsControlFramesOnItsOwnQueueBoundedPerIteration) {
  RingPorts ports(2);
  testing::TopoPorts ids;
  ids.uplink = ports.Add();
  ids.host = ports.Add();
  ids.pod_a = ports.Add();
  ids.pod_b = ports.Add();
  testing::SpecBuilder spec = testing::StandardTopology(ids).Generation(3);
  for (PortSpec& p : spec.mutable_spec().ports) {
    p.rx_queues = 0;
    p.tx_queues = 2;
  }
  std::string error;
  auto control_tx = ControlTx::Create("np_test_ctl_tx", 64, 0, &error);
  ASSERT_NE(control_tx, nullptr) << error;

  Rcu rcu(2);
  Published<Snapshot> published(rcu);
  published.Publish(spec.Build());
  Worker worker(1, rcu, published, IdlePolicy{});
  worker.SetControlTx(control_tx.get());
  worker.Attach();
  const Bytes arp = Pkt().Eth(Topo::UplinkMac(), Mac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})
                        .ArpRequest(Topo::UplinkMac(), Topo::NodeIp(), Topo::PodBIp());
  const unsigned offered = ControlTx::kDrainMax + 3;
  for (unsigned i = 0; i < offered; ++i) {
    ASSERT_TRUE(control_tx->Offer(testing::ToMbuf(arp, ids.uplink), ids.uplink));
  }
  EXPECT_EQ(worker.PollOnce(), ControlTx::kDrainMax) << "at most kDrainMax per iteration";
  EXPECT_EQ(worker.PollOnce(), 3u);
  EXPECT_EQ(worker.PollOnce(), 0u);
  // Worker 1 sends on its own queue (1 of 2), never on worker 0's.
  EXPECT_TRUE(ports.DrainQueue(ids.uplink, 0).empty());
  EXPECT_EQ(ports.DrainQueue(ids.uplink, 1), std::vector<Bytes>(offered, arp));
  EXPECT_EQ(worker.counters().tx_packets, offered);
  worker.Detach();
}

}  // namespace
}  // namespace nodeplane::dp
