// The host (its kernel and every hostNetwork pod) across the overlay: a remote node's VXLAN
// packet for one of this node's addresses is delivered to the host port with the Ethernet header
// the host interface accepts; the host's packets to a remote pod CIDR leave encapsulated like a
// pod's, while those to a remote node's own underlay address stay on the underlay; the host's ARP
// for a remote pod is answered. And the whole Service case on two nodes: a NodePort on node A whose
// only endpoint is node B's address (a hostNetwork pod), from a client outside the cluster, there
// and back.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "dataplane/stages/arp_respond.h"
#include "dataplane/stages/host_exception.h"
#include "dataplane/stages/overlay_testing.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/service_table.h"
#include "dataplane/tables/uplink_peers.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::Bytes;
using testing::OuterFields;
using testing::Overlay;
using testing::OverlayTopologySpec;
using testing::OverlayWorld;
using testing::Pkt;
using testing::SameFrame;
using testing::StageHarness;
using testing::Topo;
using testing::VxlanFrame;

const Mac kClientMac{{0x02, 0x99, 0, 0, 0, 0x01}};
const Mac kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
const Mac kNodeBKernelMac{{0x02, 0, 0, 0, 0, 0x21}};  // NodeBSpec's host tap
const Ip4 kClient = A("198.51.100.7");
const Ip4 kOverlaySnat = A("10.244.1.0");  // this node's pod CIDR's network address
constexpr uint16_t kNodePort = 30080;
constexpr uint16_t kHostPort = 8080;  // the hostNetwork server on B
constexpr uint16_t kClientPort = 40000;

uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

// What B's vxlan_encap puts around `inner` for us.
Bytes FromBToUs(const Bytes& inner, const Bytes& got) {
  OuterFields o;  // defaults: B's uplink → our uplink, B's VTEP → ours
  o.sport = testing::OuterSourcePort(got);
  return VxlanFrame(inner, o);
}

// (a) B's pod calls our node address (a hostNetwork server here).
TEST(HostNetworkOverlay, VxlanForOurNodeAddressGoesToTheHostWithItsMacs) {
  OverlayWorld w;
  StageHarness<HostExceptionStage> h(*w.snap);
  const Bytes inner = Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                          .Ip4(Overlay::PodOnB(), Topo::NodeIp())
                          .Tcp(kClientPort, kHostPort, testing::kTcpSyn);
  const auto out = h.Run(VxlanFrame(inner), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_TRUE(out.meta.punt);
  EXPECT_EQ(out.meta.out_port, Topo::kHost);
  // Delivered, not forwarded: TTL as B sent it; the host tap's MAC, from ours on the host port.
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::GatewayMac(), Topo::HostMac())
                            .Ip4(Overlay::PodOnB(), Topo::NodeIp())
                            .Tcp(kClientPort, kHostPort, testing::kTcpSyn),
                        out.bytes));
  EXPECT_EQ(h.events(Counter::kPuntedToHost), 1u);
  EXPECT_EQ(h.drops(DropReason::kVxlanInnerNoPod), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST(HostNetworkOverlay, VxlanForAnAddressOfOursThatIsNoPodNorTheHostsIsStillNoTransit) {
  OverlayWorld w;
  StageHarness<HostExceptionStage> h(*w.snap);
  const auto out = h.Run(VxlanFrame(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                        .Ip4(Overlay::PodOnB(), A("10.244.1.99"))
                                        .Tcp(kClientPort, kHostPort)),
                         Topo::kUplink);
  EXPECT_EQ(out.edge, Edge::kDrop);
  EXPECT_EQ(out.meta.drop, DropReason::kVxlanInnerNoPod);
  EXPECT_EQ(h.events(Counter::kPuntedToHost), 0u);
}

// (b) The host calls a pod of B.
TEST(HostNetworkOverlay, TheHostsPacketToARemotePodLeavesEncapsulatedToItsNode) {
  OverlayWorld w;
  StageHarness<HostExceptionStage> h(*w.snap);
  const auto out = h.Run(Pkt().Eth(Topo::HostMac(), Topo::GatewayMac())
                             .Ip4(Topo::NodeIp(), Overlay::PodOnB())
                             .Udp(5353, 53),
                         Topo::kHost);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_FALSE(out.meta.punt);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
  const Bytes inner = Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                          .Ip4(Topo::NodeIp(), Overlay::PodOnB())
                          .Ttl(63)
                          .Udp(5353, 53);
  EXPECT_TRUE(SameFrame(testing::VxlanToB(inner, out.bytes), out.bytes));
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 1u);
  EXPECT_EQ(h.events(Counter::kHostToUplink), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

// (c) The host calls node B itself: host to host stays on the underlay.
TEST(HostNetworkOverlay, TheHostsPacketToARemoteNodesAddressStaysOnTheUnderlay) {
  OverlayWorld w;
  std::string error;
  ASSERT_TRUE(w.fib.Add(Ip4Prefix{Overlay::NodeBIp(), 32}, Overlay::kSlotB, &error)) << error;
  StageHarness<HostExceptionStage> h(*w.snap);
  const Bytes frame = Pkt().Eth(Topo::HostMac(), Overlay::NodeBMac())
                          .Ip4(Topo::NodeIp(), Overlay::NodeBIp())
                          .Tcp(kClientPort, 22, testing::kTcpSyn);
  const auto out = h.Run(frame, Topo::kHost);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_TRUE(out.meta.punt);
  EXPECT_EQ(out.meta.remote, kNoRemote);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  EXPECT_TRUE(SameFrame(frame, out.bytes)) << "untouched";
  EXPECT_EQ(h.events(Counter::kHostToUplink), 1u);
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
}

// The host resolves a remote pod on its exception interface (its route to B's pod CIDR points
// there); a remote node's own address is the underlay's to answer.
TEST(HostNetworkOverlay, TheHostsArpForARemotePodIsAnsweredButNotForARemoteNode) {
  OverlayWorld w;
  std::string error;
  ASSERT_TRUE(w.fib.Add(Ip4Prefix{Overlay::NodeBIp(), 32}, Overlay::kSlotB, &error)) << error;
  StageHarness<ArpRespondStage> h(*w.snap);
  const auto pod = h.Run(Pkt().Eth(Topo::HostMac(), kBroadcast)
                             .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Overlay::PodOnB()),
                         Topo::kHost);
  ASSERT_EQ(pod.edge, Edge::kTx) << DropReasonName(pod.meta.drop) << " by " << pod.decided_by;
  EXPECT_EQ(pod.meta.out_port, Topo::kHost);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::GatewayMac(), Topo::HostMac())
                            .ArpReply(Topo::GatewayMac(), Overlay::PodOnB(), Topo::HostMac(),
                                      Topo::NodeIp()),
                        pod.bytes));
  const auto node = h.Run(Pkt().Eth(Topo::HostMac(), kBroadcast)
                              .ArpRequest(Topo::HostMac(), Topo::NodeIp(), Overlay::NodeBIp()),
                          Topo::kHost);
  EXPECT_EQ(node.edge, Edge::kNext);
  EXPECT_TRUE(node.meta.punt);
}

// (d) Node A (this node) with a NodePort whose only endpoint is B's address, and node B with its
// own tables; frames pass from one harness to the other as they would over the wire.
struct NodeA {
  NodeA() : overlay(Spec()) {
    std::string error;
    EXPECT_TRUE(overlay.fib.Add(Ip4Prefix{Overlay::NodeBIp(), 32}, Overlay::kSlotB, &error))
        << error;
    EXPECT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "hostnet_a_ct"))
        << error;
    EXPECT_TRUE(peers.Init(64, &error)) << error;
    EXPECT_TRUE(services.Init(16, nullptr, &error)) << error;
    ServiceEntrySpec s;
    s.service_id = 1;
    s.kind = ServiceAddressKind::kNodePort;
    s.snat_ip_be = Topo::NodeIp().be;
    s.has_any_endpoint = true;
    s.backends.push_back({Overlay::NodeBIp().be, Be16(kHostPort), false, 1});
    s.cluster_table.assign(7, 0);
    EXPECT_TRUE(services.Set(ServiceTableKey{Topo::NodeIp().be, Be16(kNodePort), IPPROTO_TCP, 0},
                             s, &error))
        << error;
    Snapshot& snap = *overlay.snap;
    snap.conntrack = &ct;
    snap.uplink_peers = &peers;
    snap.services = &services;
  }
  static SnapshotSpec Spec() {
    SnapshotSpec spec = OverlayTopologySpec();
    spec.overlay.snat_ip = kOverlaySnat;
    return spec;
  }
  OverlayWorld overlay;
  Conntrack ct;
  UplinkPeers peers;
  ServiceTable services;
};

// B's Fib: our pod CIDR and our address, both to us (slot 1 in NodeBSpec).
struct NodeB {
  NodeB() {
    std::string error;
    EXPECT_TRUE(fib.Init(Fib::Limits{.max_routes = 16, .tbl8_groups = 4}, nullptr, &error))
        << error;
    EXPECT_TRUE(fib.Add(*Ip4Prefix::Parse("10.244.1.0/24"), 1, &error)) << error;
    EXPECT_TRUE(fib.Add(Ip4Prefix{Topo::NodeIp(), 32}, 1, &error)) << error;
    EXPECT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "hostnet_b_ct"))
        << error;
    snap = BuildSnapshot(testing::NodeBSpec(), &fib, &error);
    EXPECT_NE(snap, nullptr) << error;
    if (snap != nullptr) snap->conntrack = &ct;
  }
  Fib fib;
  Conntrack ct;
  std::unique_ptr<Snapshot> snap;
};

TEST(HostNetworkOverlay, ANodePortWhoseEndpointIsAnotherNodesHostGoesThereAndBack) {
  NodeA a;
  NodeB b;
  ASSERT_NE(b.snap, nullptr);
  StageHarness<HostExceptionStage> on_a(*a.overlay.snap);
  StageHarness<HostExceptionStage> on_b(*b.snap);

  // A: the client's SYN, DNATed to B's address and SNATed to our overlay address, to B.
  const auto syn = on_a.Run(Pkt().Eth(kClientMac, Topo::UplinkMac())
                                .Ip4(kClient, Topo::NodeIp())
                                .Tcp(kClientPort, kNodePort, testing::kTcpSyn),
                            Topo::kUplink);
  ASSERT_EQ(syn.edge, Edge::kNext) << DropReasonName(syn.meta.drop) << " by " << syn.decided_by;
  EXPECT_EQ(syn.meta.remote, Overlay::kSlotB);
  const Bytes syn_inner = Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                              .Ip4(kOverlaySnat, Overlay::NodeBIp())
                              .Ttl(63)
                              .Tcp(kClientPort, kHostPort, testing::kTcpSyn);
  ASSERT_TRUE(SameFrame(testing::VxlanToB(syn_inner, syn.bytes), syn.bytes));

  // B: that frame reaches B's host port.
  const auto at_b = on_b.Run(syn.bytes, Topo::kUplink);
  ASSERT_EQ(at_b.edge, Edge::kNext) << DropReasonName(at_b.meta.drop) << " by " << at_b.decided_by;
  EXPECT_EQ(at_b.meta.out_port, Topo::kHost);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::GatewayMac(), kNodeBKernelMac)
                            .Ip4(kOverlaySnat, Overlay::NodeBIp())
                            .Ttl(63)
                            .Tcp(kClientPort, kHostPort, testing::kTcpSyn),
                        at_b.bytes));

  // B: the host's reply to our overlay address leaves B's uplink encapsulated to us.
  const auto reply = on_b.Run(Pkt().Eth(kNodeBKernelMac, Topo::GatewayMac())
                                  .Ip4(Overlay::NodeBIp(), kOverlaySnat)
                                  .Tcp(kHostPort, kClientPort,
                                       testing::kTcpSyn | testing::kTcpAck),
                              Topo::kHost);
  ASSERT_EQ(reply.edge, Edge::kNext) << DropReasonName(reply.meta.drop) << " by "
                                     << reply.decided_by;
  EXPECT_EQ(reply.meta.ct_state, CtState::kReply);
  EXPECT_EQ(reply.meta.out_port, Topo::kUplink);
  EXPECT_EQ(reply.meta.remote, 1u);
  const Bytes reply_inner = Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                .Ip4(Overlay::NodeBIp(), kOverlaySnat)
                                .Ttl(63)
                                .Tcp(kHostPort, kClientPort, testing::kTcpSyn | testing::kTcpAck);
  ASSERT_TRUE(SameFrame(FromBToUs(reply_inner, reply.bytes), reply.bytes));

  // B: the host's next packet of the connection leaves the same way (ct_fastpath repeats the
  // route the first one took from the host port).
  const auto ack = on_b.Run(Pkt().Eth(kNodeBKernelMac, Topo::GatewayMac())
                                .Ip4(Overlay::NodeBIp(), kOverlaySnat)
                                .Tcp(kHostPort, kClientPort, testing::kTcpAck),
                            Topo::kHost);
  EXPECT_EQ(ack.edge, Edge::kTx);
  EXPECT_EQ(ack.decided_by, "ct_fastpath");
  EXPECT_EQ(ack.meta.remote, 1u);
  EXPECT_TRUE(SameFrame(FromBToUs(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                      .Ip4(Overlay::NodeBIp(), kOverlaySnat)
                                      .Ttl(63)
                                      .Tcp(kHostPort, kClientPort, testing::kTcpAck),
                                  ack.bytes),
                        ack.bytes));

  // A: reverse-translated, out of the uplink to the client.
  const auto back = on_a.Run(reply.bytes, Topo::kUplink);
  ASSERT_EQ(back.edge, Edge::kNext) << DropReasonName(back.meta.drop) << " by " << back.decided_by;
  EXPECT_EQ(back.meta.ct_state, CtState::kReply);
  EXPECT_EQ(back.meta.out_port, Topo::kUplink);
  EXPECT_EQ(back.meta.remote, kNoRemote);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::UplinkMac(), kClientMac)
                            .Ip4(Topo::NodeIp(), kClient)
                            .Ttl(62)
                            .Tcp(kNodePort, kClientPort, testing::kTcpSyn | testing::kTcpAck),
                        back.bytes));
  EXPECT_EQ(on_a.leaked_mbufs(), 0);
  EXPECT_EQ(on_b.leaked_mbufs(), 0);
}

}  // namespace
}  // namespace nodeplane::dp
