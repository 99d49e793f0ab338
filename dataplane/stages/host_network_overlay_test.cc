// The host (its kernel and every hostNetwork pod) across the overlay: a remote node's VXLAN
// packet for one of this node's addresses is delivered to the host port with the Ethernet header
// the host interface accepts; the host's packets to a remote pod CIDR leave encapsulated like a
// pod's, while those to a remote node's own underlay address stay on the underlay; the host's ARP
// for a remote pod is answered. And the Service cases on two nodes whose only endpoint is node B's
// address (a hostNetwork pod): a NodePort on node A from a client outside the cluster, there and
// back, and the host's ClusterIP connection, both plain IP on the underlay; a pod's, over VXLAN.
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

// (d) Node A (this node) with a NodePort and a ClusterIP whose only endpoint is node B's address
// (a hostNetwork pod there; control marks such a backend: control/compile/service_node_backends.h),
// and node B with its own tables; frames pass from one harness to the other as they would over
// the wire. The connection is plain host-to-host IP on the underlay both ways, as kube-proxy's.
const Ip4 kClusterIp = A("10.96.0.18");
constexpr uint16_t kClusterPort = 80;

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
    s.backends.push_back({Overlay::NodeBIp().be, Be16(kHostPort), false, 1, true});
    s.cluster_table.assign(7, 0);
    EXPECT_TRUE(services.Set(ServiceTableKey{Topo::NodeIp().be, Be16(kNodePort), IPPROTO_TCP, 0},
                             s, &error))
        << error;
    s.kind = ServiceAddressKind::kClusterIp;
    EXPECT_TRUE(services.Set(ServiceTableKey{kClusterIp.be, Be16(kClusterPort), IPPROTO_TCP, 0},
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

// A frame from our uplink straight to B's (no VXLAN): what B's uplink receives.
Pkt OnUnderlayToB() { return Pkt().Eth(Topo::UplinkMac(), Overlay::NodeBMac()); }
// B's kernel's frame to us on the underlay, as B's host port sends it (B's tap has B's uplink MAC
// as its own in the lab; here NodeBSpec's tap MAC, and the underlay MAC it resolved for us).
Pkt FromBsHost() { return Pkt().Eth(kNodeBKernelMac, Topo::UplinkMac()); }
// The same frame once B's host_exception let it out of B's uplink, untouched.
Pkt OnUnderlayFromB() { return FromBsHost(); }

TEST(HostNetworkOverlay, ANodePortWhoseEndpointIsAnotherNodesHostStaysOnTheUnderlayThereAndBack) {
  NodeA a;
  NodeB b;
  ASSERT_NE(b.snap, nullptr);
  StageHarness<HostExceptionStage> on_a(*a.overlay.snap);
  StageHarness<HostExceptionStage> on_b(*b.snap);

  // A: the client's SYN, DNATed to B's address and SNATed to our underlay address (not the
  // overlay one: B's kernel answers it over the underlay), out of the uplink to B's MAC, plain IP.
  const auto syn = on_a.Run(Pkt().Eth(kClientMac, Topo::UplinkMac())
                                .Ip4(kClient, Topo::NodeIp())
                                .Tcp(kClientPort, kNodePort, testing::kTcpSyn),
                            Topo::kUplink);
  ASSERT_EQ(syn.edge, Edge::kNext) << DropReasonName(syn.meta.drop) << " by " << syn.decided_by;
  EXPECT_EQ(syn.meta.out_port, Topo::kUplink);
  EXPECT_EQ(syn.meta.remote, kNoRemote);
  EXPECT_FALSE(syn.meta.punt);
  ASSERT_TRUE(SameFrame(OnUnderlayToB()
                            .Ip4(Topo::NodeIp(), Overlay::NodeBIp())
                            .Ttl(63)
                            .Tcp(kClientPort, kHostPort, testing::kTcpSyn),
                        syn.bytes));
  EXPECT_EQ(on_a.events(Counter::kVxlanEncapsulated), 0u);
  EXPECT_EQ(on_a.events(Counter::kRouted), 1u);

  // B: plain IP for its own address from the underlay goes to its host, untouched.
  const auto at_b = on_b.Run(syn.bytes, Topo::kUplink);
  ASSERT_EQ(at_b.edge, Edge::kNext) << DropReasonName(at_b.meta.drop) << " by " << at_b.decided_by;
  EXPECT_TRUE(at_b.meta.punt);
  EXPECT_EQ(at_b.meta.out_port, Topo::kHost);
  EXPECT_TRUE(SameFrame(syn.bytes, at_b.bytes));

  // B: the host's reply to our underlay address leaves B's uplink as it is (host to host).
  const Bytes synack = FromBsHost()
                           .Ip4(Overlay::NodeBIp(), Topo::NodeIp())
                           .Tcp(kHostPort, kClientPort, testing::kTcpSyn | testing::kTcpAck);
  const auto reply = on_b.Run(synack, Topo::kHost);
  ASSERT_EQ(reply.edge, Edge::kNext) << DropReasonName(reply.meta.drop) << " by "
                                     << reply.decided_by;
  EXPECT_TRUE(reply.meta.punt);
  EXPECT_EQ(reply.meta.out_port, Topo::kUplink);
  EXPECT_TRUE(SameFrame(synack, reply.bytes));
  EXPECT_EQ(on_b.events(Counter::kVxlanEncapsulated), 0u);

  // A: reverse-translated, out of the uplink to the client.
  const auto back = on_a.Run(reply.bytes, Topo::kUplink);
  ASSERT_EQ(back.edge, Edge::kNext) << DropReasonName(back.meta.drop) << " by " << back.decided_by;
  EXPECT_EQ(back.meta.ct_state, CtState::kReply);
  EXPECT_EQ(back.meta.out_port, Topo::kUplink);
  EXPECT_EQ(back.meta.remote, kNoRemote);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::UplinkMac(), kClientMac)
                            .Ip4(Topo::NodeIp(), kClient)
                            .Ttl(63)
                            .Tcp(kNodePort, kClientPort, testing::kTcpSyn | testing::kTcpAck),
                        back.bytes));

  // A: the client's next packets leave the way the SYN did (ct_fastpath does not take them: its
  // route word would mean VXLAN).
  for (int i = 0; i < 2; ++i) {
    const auto ack = on_a.Run(Pkt().Eth(kClientMac, Topo::UplinkMac())
                                  .Ip4(kClient, Topo::NodeIp())
                                  .Tcp(kClientPort, kNodePort, testing::kTcpAck),
                              Topo::kUplink);
    ASSERT_EQ(ack.edge, Edge::kNext) << DropReasonName(ack.meta.drop) << " by " << ack.decided_by;
    EXPECT_EQ(ack.meta.ct_state, CtState::kEstablished);
    EXPECT_EQ(ack.meta.remote, kNoRemote);
    EXPECT_TRUE(SameFrame(OnUnderlayToB()
                              .Ip4(Topo::NodeIp(), Overlay::NodeBIp())
                              .Ttl(63)
                              .Tcp(kClientPort, kHostPort, testing::kTcpAck),
                          ack.bytes))
        << "packet " << i + 2;
  }
  EXPECT_EQ(on_a.events(Counter::kVxlanEncapsulated), 0u);
  EXPECT_EQ(on_a.leaked_mbufs(), 0);
  EXPECT_EQ(on_b.leaked_mbufs(), 0);
}

// The host of A (a process, through the exception port) connects to the ClusterIP: DNAT to B's
// address, its own source kept — the request goes the way B's reply comes, on the underlay.
TEST(HostNetworkOverlay, TheHostsClusterIpConnectionToAnotherNodesHostStaysOnTheUnderlay) {
  NodeA a;
  StageHarness<HostExceptionStage> h(*a.overlay.snap);
  constexpr uint16_t kSport = 41000;
  const auto syn = h.Run(Pkt().Eth(Topo::HostMac(), Topo::GatewayMac())
                             .Ip4(Topo::NodeIp(), kClusterIp)
                             .Tcp(kSport, kClusterPort, testing::kTcpSyn),
                         Topo::kHost);
  ASSERT_EQ(syn.edge, Edge::kNext) << DropReasonName(syn.meta.drop) << " by " << syn.decided_by;
  EXPECT_EQ(syn.meta.out_port, Topo::kUplink);
  EXPECT_EQ(syn.meta.remote, kNoRemote);
  EXPECT_FALSE(syn.meta.punt);
  EXPECT_TRUE(SameFrame(OnUnderlayToB()
                            .Ip4(Topo::NodeIp(), Overlay::NodeBIp())
                            .Ttl(63)
                            .Tcp(kSport, kHostPort, testing::kTcpSyn),
                        syn.bytes));
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
  EXPECT_EQ(h.events(Counter::kHostToUplink), 0u) << "routed, not passed through untouched";

  // B's kernel answers on the underlay: reverse-translated, to the host.
  const auto back = h.Run(OnUnderlayFromB()
                              .Ip4(Overlay::NodeBIp(), Topo::NodeIp())
                              .Tcp(kHostPort, kSport, testing::kTcpSyn | testing::kTcpAck),
                          Topo::kUplink);
  ASSERT_EQ(back.edge, Edge::kNext) << DropReasonName(back.meta.drop) << " by " << back.decided_by;
  EXPECT_EQ(back.meta.ct_state, CtState::kReply);
  EXPECT_TRUE(back.meta.punt);
  EXPECT_EQ(back.meta.out_port, Topo::kHost);
  EXPECT_TRUE(SameFrame(OnUnderlayFromB()
                            .Ip4(kClusterIp, Topo::NodeIp())
                            .Tcp(kClusterPort, kSport, testing::kTcpSyn | testing::kTcpAck),
                        back.bytes));

  // The host's next packets (established: ct_fastpath's turn first) leave the same way.
  for (int i = 0; i < 2; ++i) {
    const auto ack = h.Run(Pkt().Eth(Topo::HostMac(), Topo::GatewayMac())
                               .Ip4(Topo::NodeIp(), kClusterIp)
                               .Tcp(kSport, kClusterPort, testing::kTcpAck),
                           Topo::kHost);
    ASSERT_EQ(ack.edge, Edge::kNext) << DropReasonName(ack.meta.drop) << " by " << ack.decided_by;
    EXPECT_EQ(ack.meta.ct_state, CtState::kEstablished);
    EXPECT_EQ(ack.meta.out_port, Topo::kUplink);
    EXPECT_EQ(ack.meta.remote, kNoRemote);
    EXPECT_TRUE(SameFrame(OnUnderlayToB()
                              .Ip4(Topo::NodeIp(), Overlay::NodeBIp())
                              .Ttl(63)
                              .Tcp(kSport, kHostPort, testing::kTcpAck),
                          ack.bytes))
        << "packet " << i + 2;
  }
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
  EXPECT_EQ(h.events(Counter::kCtFastpath), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

// A pod's connection to the same ClusterIP keeps the pod's address: B answers a pod address through
// its overlay routes, so the request goes over VXLAN too (and its next packets by ct_fastpath).
TEST(HostNetworkOverlay, APodsClusterIpConnectionToAnotherNodesHostStaysOnTheOverlay) {
  NodeA a;
  StageHarness<HostExceptionStage> h(*a.overlay.snap);
  constexpr uint16_t kSport = 42000;
  const auto syn = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodAIp(), kClusterIp)
                             .Tcp(kSport, kClusterPort, testing::kTcpSyn),
                         Topo::kPodA);
  ASSERT_EQ(syn.edge, Edge::kNext) << DropReasonName(syn.meta.drop) << " by " << syn.decided_by;
  EXPECT_EQ(syn.meta.remote, Overlay::kSlotB);
  EXPECT_TRUE(SameFrame(testing::VxlanToB(Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                                              .Ip4(Topo::PodAIp(), Overlay::NodeBIp())
                                              .Ttl(63)
                                              .Tcp(kSport, kHostPort, testing::kTcpSyn),
                                          syn.bytes),
                        syn.bytes));
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 1u);

  // B's reply comes back over VXLAN; then the pod's next packet goes the way the first did.
  OuterFields o;
  o.sport = 50001;
  const auto back = h.Run(VxlanFrame(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                         .Ip4(Overlay::NodeBIp(), Topo::PodAIp())
                                         .Ttl(63)
                                         .Tcp(kHostPort, kSport,
                                              testing::kTcpSyn | testing::kTcpAck),
                                     o),
                          Topo::kUplink);
  ASSERT_EQ(back.edge, Edge::kNext) << DropReasonName(back.meta.drop) << " by " << back.decided_by;
  EXPECT_EQ(back.meta.out_port, Topo::kPodA);
  const auto ack = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodAIp(), kClusterIp)
                             .Tcp(kSport, kClusterPort, testing::kTcpAck),
                         Topo::kPodA);
  ASSERT_NE(ack.edge, Edge::kDrop) << DropReasonName(ack.meta.drop) << " by " << ack.decided_by;
  EXPECT_EQ(ack.meta.remote, Overlay::kSlotB);
  EXPECT_TRUE(SameFrame(testing::VxlanToB(Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                                              .Ip4(Topo::PodAIp(), Overlay::NodeBIp())
                                              .Ttl(63)
                                              .Tcp(kSport, kHostPort, testing::kTcpAck),
                                          ack.bytes),
                        ack.bytes));
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 2u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

// The other way round: B's host calls our NodePort (a pod backend here; SNAT to our overlay
// address, as for any client from outside). B sent it on the underlay, and the pod's reply,
// reverse-translated to our address → B's address, goes back there the same way.
TEST(HostNetworkOverlay, TheReplyToAnotherNodesHostCallingOurNodePortLeavesOnTheUnderlay) {
  NodeA a;
  constexpr uint16_t kPodNodePort = 30081;
  constexpr uint16_t kPodPort = 8080;
  constexpr uint16_t kSport = 43000;
  ServiceEntrySpec s;
  s.service_id = 3;
  s.kind = ServiceAddressKind::kNodePort;
  s.snat_ip_be = Topo::NodeIp().be;
  s.has_any_endpoint = true;
  s.backends.push_back({Topo::PodAIp().be, Be16(kPodPort), true, 1});
  s.cluster_table.assign(7, 0);
  std::string error;
  ASSERT_TRUE(a.services.Set(ServiceTableKey{Topo::NodeIp().be, Be16(kPodNodePort), IPPROTO_TCP, 0},
                             s, &error))
      << error;
  StageHarness<HostExceptionStage> h(*a.overlay.snap);
  const auto syn = h.Run(OnUnderlayFromB()
                             .Ip4(Overlay::NodeBIp(), Topo::NodeIp())
                             .Tcp(kSport, kPodNodePort, testing::kTcpSyn),
                         Topo::kUplink);
  ASSERT_EQ(syn.edge, Edge::kNext) << DropReasonName(syn.meta.drop) << " by " << syn.decided_by;
  EXPECT_EQ(syn.meta.out_port, Topo::kPodA);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::GatewayMac(), Topo::PodAMac())
                            .Ip4(kOverlaySnat, Topo::PodAIp())
                            .Ttl(63)
                            .Tcp(kSport, kPodPort, testing::kTcpSyn),
                        syn.bytes));
  const auto reply = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                               .Ip4(Topo::PodAIp(), kOverlaySnat)
                               .Tcp(kPodPort, kSport, testing::kTcpSyn | testing::kTcpAck),
                           Topo::kPodA);
  ASSERT_EQ(reply.edge, Edge::kNext) << DropReasonName(reply.meta.drop) << " by "
                                     << reply.decided_by;
  EXPECT_EQ(reply.meta.ct_state, CtState::kReply);
  EXPECT_EQ(reply.meta.out_port, Topo::kUplink);
  EXPECT_EQ(reply.meta.remote, kNoRemote);
  EXPECT_TRUE(SameFrame(OnUnderlayToB()
                            .Ip4(Topo::NodeIp(), Overlay::NodeBIp())
                            .Ttl(63)
                            .Tcp(kPodNodePort, kSport, testing::kTcpSyn | testing::kTcpAck),
                        reply.bytes));
  EXPECT_EQ(h.events(Counter::kVxlanEncapsulated), 0u);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

// Until B's underlay MAC is known the same connection takes the VXLAN path, whose pending queue
// holds it for the MAC (node C: unresolved in the test overlay).
TEST(HostNetworkOverlay, TheHostsClusterIpConnectionToAnUnresolvedNodeIsHeldLikeVxlan) {
  NodeA a;
  std::string error;
  ASSERT_TRUE(a.overlay.fib.Add(Ip4Prefix{Overlay::NodeCIp(), 32}, Overlay::kSlotC, &error))
      << error;
  ServiceEntrySpec s;
  s.service_id = 2;
  s.kind = ServiceAddressKind::kClusterIp;
  s.snat_ip_be = Topo::NodeIp().be;
  s.has_any_endpoint = true;
  s.backends.push_back({Overlay::NodeCIp().be, Be16(kHostPort), false, 1, true});
  s.cluster_table.assign(7, 0);
  const Ip4 vip = A("10.96.0.19");
  ASSERT_TRUE(a.services.Set(ServiceTableKey{vip.be, Be16(kClusterPort), IPPROTO_TCP, 0}, s,
                             &error))
      << error;
  StageHarness<HostExceptionStage> h(*a.overlay.snap);
  const auto syn = h.Run(Pkt().Eth(Topo::HostMac(), Topo::GatewayMac())
                             .Ip4(Topo::NodeIp(), vip)
                             .Tcp(41001, kClusterPort, testing::kTcpSyn),
                         Topo::kHost);
  EXPECT_EQ(syn.meta.remote, Overlay::kSlotC);
  EXPECT_EQ(syn.edge, Edge::kDrop) << "no pending queue in the harness";
  EXPECT_EQ(syn.meta.drop, DropReason::kNeighborUnresolved);
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

}  // namespace
}  // namespace nodeplane::dp
