// A Service with no endpoints refuses every client at once (kube-proxy's REJECT), wherever the
// client is. A pod of another node calling our NodePort arrives over VXLAN: its TCP RST / ICMP
// port unreachable goes back the way a reply to it would, routed to its node and encapsulated
// there, with correct inner and outer headers and checksums; the other node delivers it to its
// pod as the answer to the connection it saw leave. Every other client (a pod or the host of this
// node, the uplink's segment, beyond a router) gets it straight back to the MAC it came from.
// Through the stage harness and through RunPipeline on real ports (which also checks that the
// burst summary lets vxlan_encap see the reply).
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/pipeline.h"
#include "dataplane/core/worker_state.h"
#include "dataplane/stages/overlay_testing.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/service_table.h"
#include "dataplane/testing/ring_ports.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::InetChecksum;
using testing::OuterFields;
using testing::Overlay;
using testing::OverlayTopologySpec;
using testing::OverlayWorld;
using testing::Pkt;
using testing::SameFrame;
using testing::StageHarness;
using testing::Topo;
using testing::VxlanFrame;

constexpr uint16_t kNodePort = 30080;
constexpr uint16_t kClientPort = 40000;
constexpr uint32_t kClientSeq = 5000;
constexpr uint8_t kRst = 0x04;
constexpr size_t kOuterLen = 50;

uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

// This node (the overlay topology: B and C are remote) with conntrack and one NodePort, TCP and
// UDP, on its address whose Service has no endpoints at all.
struct World {
  explicit World(const SnapshotSpec& spec = OverlayTopologySpec()) : overlay(spec) {
    std::string error;
    EXPECT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "svc_reject_ct"))
        << error;
    EXPECT_TRUE(services.Init(16, nullptr, &error)) << error;
    ServiceEntrySpec s;
    s.service_id = 1;
    s.kind = ServiceAddressKind::kNodePort;
    s.snat_ip_be = Topo::NodeIp().be;
    s.has_any_endpoint = false;
    for (uint8_t proto : {uint8_t{IPPROTO_TCP}, uint8_t{IPPROTO_UDP}}) {
      EXPECT_TRUE(
          services.Set(ServiceTableKey{Topo::NodeIp().be, Be16(kNodePort), proto, 0}, s, &error))
          << error;
    }
    overlay.snap->conntrack = &ct;
    overlay.snap->services = &services;
  }
  OverlayWorld overlay;
  Conntrack ct;
  ServiceTable services;
};

// What B sends us: its pod's packet to our NodePort, inside B's VXLAN.
Pkt FromPodOnB() {
  return Pkt()
      .Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
      .Ip4(Overlay::PodOnB(), Topo::NodeIp());
}
Bytes SynOverVxlan() {
  return VxlanFrame(
      FromPodOnB().DontFragment().Tcp(kClientPort, kNodePort, testing::kTcpSyn, kClientSeq));
}
Bytes UdpInner() { return FromPodOnB().Udp(kClientPort, kNodePort).Payload("query"); }

// The RST a SYN with sequence number `seq` gets (RFC 9293 §3.10.7.1): SEQ 0, ACK seq + 1,
// RST|ACK, window 0, DF set; TTL as given. Built here with its own checksums.
Bytes ResetFrame(Mac src_mac, Mac dst_mac, Ip4 from, Ip4 to, uint16_t sport, uint16_t dport,
                 uint32_t seq, uint8_t ttl) {
  Bytes f = Pkt()
                .Eth(src_mac, dst_mac)
                .Ip4(from, to)
                .Ttl(ttl)
                .DontFragment()
                .Tcp(sport, dport, kRst | testing::kTcpAck, 0, seq + 1);
  uint8_t* tcp = f.data() + 14 + 20;
  tcp[14] = tcp[15] = 0;  // window
  tcp[16] = tcp[17] = 0;
  uint32_t pseudo = IPPROTO_TCP + 20;
  for (size_t i = 14 + 12; i < 14 + 20; i += 2) pseudo += (f[i] << 8) | f[i + 1];
  const uint16_t sum = InetChecksum(tcp, 20, pseudo);
  tcp[16] = static_cast<uint8_t>(sum >> 8);
  tcp[17] = static_cast<uint8_t>(sum);
  return f;
}

// svc_lb's part: the reply continues, and its meta describes the reply (what ip4_lookup routes,
// what policy and conntrack must leave alone).
TEST(ServiceRejectOverlay, SvcLbHandsOnTheReplyDescribedAsAReply) {
  World w;
  StageHarness<SvcLbStage> h(*w.overlay.snap);
  const auto burst =
      h.RunBurst({{SynOverVxlan(), Topo::kUplink}, {VxlanFrame(UdpInner()), Topo::kUplink}});
  for (const auto& out : burst) {
    ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
    EXPECT_TRUE(out.meta.own_reply);
    EXPECT_TRUE(out.meta.from_overlay);
    EXPECT_EQ(out.meta.ct_state, CtState::kNone) << "no connection is kept for a refusal";
    EXPECT_EQ(out.meta.ct, nullptr);
    EXPECT_EQ(out.meta.src_ip, Topo::NodeIp().be);
    EXPECT_EQ(out.meta.dst_ip, Overlay::PodOnB().be);
    EXPECT_EQ(out.meta.xlate_dst_ip, 0u);
    EXPECT_EQ(out.meta.xlate_src_ip, 0u);
  }
  const PacketMeta& rst = burst[0].meta;
  EXPECT_EQ(rst.l4_proto, IPPROTO_TCP);
  EXPECT_EQ(rst.src_port, Be16(kNodePort));
  EXPECT_EQ(rst.dst_port, Be16(kClientPort));
  EXPECT_EQ(rst.tcp_flags, kRst | testing::kTcpAck);
  const PacketMeta& icmp = burst[1].meta;
  EXPECT_EQ(icmp.l4_proto, IPPROTO_ICMP);
  EXPECT_EQ(icmp.l4_offset, icmp.l3_offset + 20);
  EXPECT_EQ(burst[1].bytes[icmp.l4_offset], 3) << "destination unreachable at meta.l4_offset";
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), 2u);
}

TEST(ServiceRejectOverlay, ATcpClientBehindVxlanGetsAResetEncapsulatedToItsNode) {
  World w;
  StageHarness<VxlanEncapStage> h(*w.overlay.snap);
  const auto out = h.Run(SynOverVxlan(), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
  // From the address and port the pod called, routed here once (TTL 63), for B's VTEP.
  const Bytes rst = ResetFrame(Overlay::VtepMac(), Overlay::NodeBVtepMac(), Topo::NodeIp(),
                               Overlay::PodOnB(), kNodePort, kClientPort, kClientSeq, 63);
  EXPECT_TRUE(SameFrame(testing::VxlanToB(rst, out.bytes), out.bytes));
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), 1u) << "still counted as refused";
  EXPECT_EQ(h.drops(DropReason::kVxlanInnerNoPod), 0u);
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 1u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST(ServiceRejectOverlay, AUdpClientBehindVxlanGetsPortUnreachableQuotingItsPacket) {
  World w;
  StageHarness<VxlanEncapStage> h(*w.overlay.snap);
  const Bytes request = UdpInner();
  const auto out = h.Run(VxlanFrame(request), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
  // RFC 792/1812: type 3 code 3 from the address called, quoting the request's IPv4 header as
  // the pod sent it and the first 8 bytes after it (the UDP header, with its checksum).
  const Bytes quote(request.begin() + 14, request.begin() + 14 + 20 + 8);
  const Bytes icmp = Pkt()
                         .Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                         .Ip4(Topo::NodeIp(), Overlay::PodOnB())
                         .Tos(0xc0)
                         .Ttl(63)
                         .Icmp(3, 3)
                         .Payload(quote);
  EXPECT_TRUE(SameFrame(testing::VxlanToB(icmp, out.bytes), out.bytes));
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), 1u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST(ServiceRejectOverlay, EveryRetryIsRefusedAndNoConnectionIsKept) {
  World w;
  StageHarness<VxlanEncapStage> h(*w.overlay.snap);
  const auto burst = h.RunBurst({{SynOverVxlan(), Topo::kUplink},
                                 {VxlanFrame(UdpInner()), Topo::kUplink},
                                 {SynOverVxlan(), Topo::kUplink}});
  for (const auto& out : burst) {
    EXPECT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
    EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
    EXPECT_EQ(out.meta.ct, nullptr);
  }
  // The retried SYN is refused the same way, not taken for part of a connection.
  EXPECT_EQ(burst[0].bytes, burst[2].bytes);
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), 3u);
  EXPECT_EQ(h.events(Counter::kCtCreated), 0u);
}

// Every other client needs no route of ours: the reply goes back out of the port the request came
// in by, to the MAC it came from — a pod here, the host, a host on the uplink's segment, one beyond
// a router, or a pod of a node that routes to our address without VXLAN (a plain Linux node).
struct LocalClient {
  const char* name;
  uint16_t port;
  Mac mac;      // the request's Ethernet source: where the reply must go
  Mac our_mac;  // ours on that port
  Ip4 ip;
};

TEST(ServiceRejectOverlay, OtherClientsGetTheResetBackOutOfTheirPortToTheMacTheyCameFrom) {
  World w;
  const std::vector<LocalClient> clients = {
      {"pod here", Topo::kPodA, Topo::PodAMac(), Topo::GatewayMac(), Topo::PodAIp()},
      {"host", Topo::kHost, Topo::HostMac(), Topo::GatewayMac(), Topo::NodeIp()},
      {"uplink segment", Topo::kUplink, Overlay::NodeBMac(), Topo::UplinkMac(), Topo::RemoteIp()},
      {"beyond a router", Topo::kUplink, Topo::RouterMac(), Topo::UplinkMac(), A("198.51.100.9")},
      {"pod of a node without VXLAN to us", Topo::kUplink, testing::M("02:00:00:00:00:30"),
       Topo::UplinkMac(), Overlay::PodOnC()},
  };
  StageHarness<VxlanEncapStage> h(*w.overlay.snap);
  for (const LocalClient& c : clients) {
    SCOPED_TRACE(c.name);
    const auto out = h.Run(Pkt()
                               .Eth(c.mac, c.our_mac)
                               .Ip4(c.ip, Topo::NodeIp())
                               .DontFragment()
                               .Tcp(kClientPort, kNodePort, testing::kTcpSyn, kClientSeq),
                           c.port);
    ASSERT_EQ(out.edge, Edge::kTx) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
    EXPECT_EQ(out.decided_by, "svc_lb");
    EXPECT_EQ(out.meta.out_port, c.port);
    EXPECT_TRUE(SameFrame(
        ResetFrame(c.our_mac, c.mac, Topo::NodeIp(), c.ip, kNodePort, kClientPort, kClientSeq, 64),
        out.bytes));
  }
  EXPECT_EQ(h.drops(DropReason::kSvcNoEndpoints), clients.size());
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

// Node B's side: its pod 10.244.2.7 on port 2, our address routed to us (slot 1) so that B both
// sends its pod's packet to our NodePort over VXLAN and accepts our address as the inner source.
constexpr uint16_t kPodOnBPort = testing::kNodeBPodPort;
Mac PodOnBMac() { return testing::NodeBPodMac(); }

struct NodeB {
  NodeB() {
    const SnapshotSpec spec = testing::NodeBSpec();
    std::string error;
    if (!fib.Init(Fib::Limits{.max_routes = 64, .tbl8_groups = 8}, nullptr, &error) ||
        !fib.Add(*Ip4Prefix::Parse("10.244.1.0/24"), 1, &error) ||
        !fib.Add(Ip4Prefix{Topo::NodeIp(), 32}, 1, &error) ||
        !ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "svc_reject_ct_b")) {
      ADD_FAILURE() << error;
    }
    snap = BuildSnapshot(spec, &fib, &error);
    if (snap == nullptr) ADD_FAILURE() << error;
    snap->conntrack = &ct;
  }
  Fib fib;
  Conntrack ct;
  std::unique_ptr<Snapshot> snap;
};

TEST(ServiceRejectOverlay, ThePodOnTheOtherNodeReceivesTheResetForItsConnection) {
  World a;
  NodeB b;
  StageHarness<VxlanEncapStage> node_b(*b.snap);
  StageHarness<VxlanEncapStage> node_a(*a.overlay.snap);
  const auto syn = node_b.Run(Pkt()
                                  .Eth(PodOnBMac(), Topo::GatewayMac())
                                  .Ip4(Overlay::PodOnB(), Topo::NodeIp())
                                  .DontFragment()
                                  .Tcp(kClientPort, kNodePort, testing::kTcpSyn, kClientSeq),
                              kPodOnBPort);
  ASSERT_EQ(syn.edge, Edge::kNext) << DropReasonName(syn.meta.drop) << " by " << syn.decided_by;
  ASSERT_EQ(syn.meta.remote, 1u) << "B sends its pod's packet for our address to us";
  const auto rst = node_a.Run(syn.bytes, Topo::kUplink);
  ASSERT_EQ(rst.edge, Edge::kNext) << DropReasonName(rst.meta.drop) << " by " << rst.decided_by;
  ASSERT_EQ(rst.meta.remote, Overlay::kSlotB);
  const auto delivered = node_b.Run(rst.bytes, Topo::kUplink);
  ASSERT_EQ(delivered.edge, Edge::kNext)
      << DropReasonName(delivered.meta.drop) << " by " << delivered.decided_by;
  EXPECT_EQ(delivered.meta.ct_state, CtState::kReply) << "the answer to the SYN B let out";
  EXPECT_EQ(delivered.meta.out_port, kPodOnBPort);
  EXPECT_TRUE(SameFrame(ResetFrame(Topo::GatewayMac(), PodOnBMac(), Topo::NodeIp(),
                                   Overlay::PodOnB(), kNodePort, kClientPort, kClientSeq, 62),
                        delivered.bytes));
  EXPECT_EQ(node_b.leaked_mbufs() + node_a.leaked_mbufs(), 0);
}

// RunPipeline on loopback ports: the reply is a packet for a remote node that vxlan_decap's burst
// did not announce (eth_parse saw only the uplink); the pipeline must still encapsulate it.
TEST(ServiceRejectOverlay, ThroughThePipelineTheReplyLeavesTheUplinkEncapsulated) {
  testing::RingPorts ports;
  testing::TopoPorts ids;
  ids.uplink = ports.Add();
  ids.host = ports.Add();
  ids.pod_a = ports.Add();
  ids.pod_b = ports.Add();
  World w(OverlayTopologySpec(ids));
  auto worker = std::make_unique<WorkerState>();
  const unsigned baseline = testing::MbufsInUse();
  Burst burst;
  burst.pkts[burst.n++] = testing::ToMbuf(SynOverVxlan(), ids.uplink);
  burst.pkts[burst.n++] = testing::ToMbuf(VxlanFrame(UdpInner()), ids.uplink);
  RunPipeline(*w.overlay.snap, *worker, burst);
  const std::vector<Bytes> sent = ports.Drain(ids.uplink);
  ASSERT_EQ(sent.size(), 2u);
  const Bytes rst = ResetFrame(Overlay::VtepMac(), Overlay::NodeBVtepMac(), Topo::NodeIp(),
                               Overlay::PodOnB(), kNodePort, kClientPort, kClientSeq, 63);
  EXPECT_TRUE(SameFrame(testing::VxlanToB(rst, sent[0]), sent[0]));
  EXPECT_EQ(sent[1].size(), kOuterLen + 14 + 20 + 8 + 28);
  EXPECT_EQ(sent[1][kOuterLen + 14 + 9], IPPROTO_ICMP);
  EXPECT_EQ(worker->counters.drops[static_cast<uint8_t>(DropReason::kSvcNoEndpoints)], 2u);
  EXPECT_EQ(worker->counters.events[static_cast<uint8_t>(Counter::kVxlanEncapsulated)], 2u);
  for (uint16_t p : {ids.host, ids.pod_a, ids.pod_b}) EXPECT_TRUE(ports.Drain(p).empty());
  EXPECT_EQ(testing::MbufsInUse(), baseline);
}

}  // namespace
}  // namespace nodeplane::dp
