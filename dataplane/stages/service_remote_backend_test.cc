// A client outside the cluster reaches a NodePort of this node whose backend runs on another node
// (externalTrafficPolicy Cluster): svc_lb DNATs to the backend and SNATs to this node's overlay
// address (inside its pod CIDR), ip4_lookup routes the translated packet by the Fib and it leaves
// encapsulated to the backend's node; the backend's reply comes back over VXLAN, conntrack reverses
// both translations and it leaves the uplink to the client's MAC. The other half: the backend's
// node accepts that source from our VTEP and routes its pod's reply back to us. A pod of another
// node calling our NodePort over VXLAN, and remote nodes' own addresses. And what must not
// change: without a translation, nothing from the uplink or the overlay transits this node.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "dataplane/stages/ip4_forward.h"
#include "dataplane/stages/ip4_lookup.h"
#include "dataplane/stages/overlay_testing.h"
#include "dataplane/stages/svc_lb.h"
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
const Ip4 kClient = A("198.51.100.7");
const Ip4 kOverlaySnat = A("10.244.1.0");  // our pod CIDR's network address
const Ip4 kBOverlaySnat = A("10.244.2.0");  // node B's
constexpr uint16_t kNodePort = 30080;
constexpr uint16_t kTargetPort = 8080;
constexpr uint16_t kClientPort = 40000;

uint16_t Be16(uint16_t v) { return __builtin_bswap16(v); }

SnapshotSpec Spec(bool overlay_snat) {
  SnapshotSpec spec = OverlayTopologySpec();
  if (overlay_snat) spec.overlay.snat_ip = kOverlaySnat;
  return spec;
}

// This node with the overlay, a conntrack table, the uplink peers and one NodePort (eTP Cluster)
// on its address whose only backend is `backend`.
struct World {
  explicit World(Ip4 backend, bool overlay_snat = true) : overlay(Spec(overlay_snat)) {
    std::string error;
    EXPECT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "svc_remote_ct"))
        << error;
    EXPECT_TRUE(peers.Init(64, &error)) << error;
    EXPECT_TRUE(services.Init(16, nullptr, &error)) << error;
    ServiceEntrySpec s;
    s.service_id = 1;
    s.kind = ServiceAddressKind::kNodePort;
    s.snat_ip_be = Topo::NodeIp().be;
    s.has_any_endpoint = true;
    s.backends.push_back({backend.be, Be16(kTargetPort), false, 1});
    s.cluster_table.assign(7, 0);
    EXPECT_TRUE(services.Set(ServiceTableKey{Topo::NodeIp().be, Be16(kNodePort), IPPROTO_TCP, 0},
                             s, &error))
        << error;
    Snapshot& snap = *overlay.snap;
    snap.conntrack = &ct;
    snap.uplink_peers = &peers;
    snap.services = &services;
  }
  OverlayWorld overlay;
  Conntrack ct;
  UplinkPeers peers;
  ServiceTable services;
};

Bytes ClientSyn() {
  return Pkt().Eth(kClientMac, Topo::UplinkMac()).Ip4(kClient, Topo::NodeIp())
      .Tcp(kClientPort, kNodePort, testing::kTcpSyn);
}

// What B's backend sends back, inside B's VXLAN frame.
Bytes BackendReplyOverVxlan() {
  const Bytes inner = Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                          .Ip4(Overlay::PodOnB(), kOverlaySnat)
                          .Tcp(kTargetPort, kClientPort, testing::kTcpSyn | testing::kTcpAck);
  return VxlanFrame(inner);
}

TEST(ServiceRemoteBackend, SvcLbSnatsToTheOverlayAddressForTrafficFromOutside) {
  World w(Overlay::PodOnB());
  StageHarness<SvcLbStage> h(*w.overlay.snap);
  const auto out = h.Run(ClientSyn(), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop);
  EXPECT_EQ(out.meta.xlate_dst_ip, Overlay::PodOnB().be);
  EXPECT_EQ(out.meta.xlate_src_ip, kOverlaySnat.be)
      << "the node address would fail B's inner-source check and B would not route it back";
}

TEST(ServiceRemoteBackend, WithoutAnOverlayAddressTheNodeAddressIsUsed) {
  World w(Overlay::PodOnB(), /*overlay_snat=*/false);
  StageHarness<SvcLbStage> h(*w.overlay.snap);
  EXPECT_EQ(h.Run(ClientSyn(), Topo::kUplink).meta.xlate_src_ip, Topo::NodeIp().be);
}

TEST(ServiceRemoteBackend, TheTranslatedPacketLeavesForTheBackendsNode) {
  World w(Overlay::PodOnB());
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  const auto out = h.Run(ClientSyn(), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_FALSE(out.meta.punt);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
  const Bytes want = Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                         .Ip4(kOverlaySnat, Overlay::PodOnB())
                         .Ttl(63)
                         .Tcp(kClientPort, kTargetPort, testing::kTcpSyn);
  EXPECT_TRUE(SameFrame(want, out.bytes));
  EXPECT_EQ(h.leaked_mbufs(), 0);
}

TEST(ServiceRemoteBackend, TheBackendsReplyOverVxlanLeavesTheUplinkToTheClient) {
  World w(Overlay::PodOnB());
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  ASSERT_EQ(h.Run(ClientSyn(), Topo::kUplink).meta.remote, Overlay::kSlotB);
  const auto out = h.Run(BackendReplyOverVxlan(), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop) << " by " << out.decided_by;
  EXPECT_TRUE(out.meta.from_overlay);
  EXPECT_EQ(out.meta.ct_state, CtState::kReply);
  EXPECT_EQ(out.meta.out_port, Topo::kUplink);
  EXPECT_EQ(out.meta.remote, kNoRemote);
  const Bytes want = Pkt().Eth(Topo::UplinkMac(), kClientMac)
                         .Ip4(Topo::NodeIp(), kClient)
                         .Ttl(63)
                         .Tcp(kNodePort, kClientPort, testing::kTcpSyn | testing::kTcpAck);
  EXPECT_TRUE(SameFrame(want, out.bytes));
}

TEST(ServiceRemoteBackend, LaterPacketsOfTheConnectionTakeTheSamePath) {
  World w(Overlay::PodOnB());
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  h.Run(ClientSyn(), Topo::kUplink);
  h.Run(BackendReplyOverVxlan(), Topo::kUplink);
  const auto ack = h.Run(Pkt().Eth(kClientMac, Topo::UplinkMac()).Ip4(kClient, Topo::NodeIp())
                             .Tcp(kClientPort, kNodePort, testing::kTcpAck),
                         Topo::kUplink);
  ASSERT_EQ(ack.edge, Edge::kNext) << DropReasonName(ack.meta.drop);
  EXPECT_EQ(ack.meta.ct_state, CtState::kEstablished);
  EXPECT_EQ(ack.meta.remote, Overlay::kSlotB);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                            .Ip4(kOverlaySnat, Overlay::PodOnB())
                            .Ttl(63)
                            .Tcp(kClientPort, kTargetPort, testing::kTcpAck),
                        ack.bytes));
}

TEST(ServiceRemoteBackend, ALocalBackendIsStillDeliveredHere) {
  World w(Topo::PodAIp());
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  const auto out = h.Run(ClientSyn(), Topo::kUplink);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop);
  EXPECT_EQ(out.meta.out_port, Topo::kPodA);
  EXPECT_EQ(out.meta.remote, kNoRemote);
  const auto reply = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                               .Ip4(Topo::PodAIp(), kOverlaySnat)
                               .Tcp(kTargetPort, kClientPort, testing::kTcpSyn | testing::kTcpAck),
                           Topo::kPodA);
  ASSERT_EQ(reply.edge, Edge::kNext) << DropReasonName(reply.meta.drop);
  EXPECT_EQ(reply.meta.out_port, Topo::kUplink);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Topo::UplinkMac(), kClientMac)
                            .Ip4(Topo::NodeIp(), kClient)
                            .Ttl(63)
                            .Tcp(kNodePort, kClientPort, testing::kTcpSyn | testing::kTcpAck),
                        reply.bytes));
}

// The backend's node (here: this node, with B as the client's node): B's overlay address is
// inside B's pod CIDR, so its VXLAN is accepted and our pod's reply goes back to B.
TEST(ServiceRemoteBackend, TheBackendsNodeAcceptsTheOverlayAddressAndRoutesTheReplyBack) {
  World w(Overlay::PodOnB());
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  const Bytes inner = Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                          .Ip4(kBOverlaySnat, Topo::PodAIp())
                          .Tcp(kClientPort, kTargetPort, testing::kTcpSyn);
  const auto in = h.Run(VxlanFrame(inner), Topo::kUplink);
  ASSERT_EQ(in.edge, Edge::kNext) << DropReasonName(in.meta.drop) << " by " << in.decided_by;
  EXPECT_EQ(in.meta.out_port, Topo::kPodA);
  const auto reply = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                               .Ip4(Topo::PodAIp(), kBOverlaySnat)
                               .Tcp(kTargetPort, kClientPort, testing::kTcpSyn | testing::kTcpAck),
                           Topo::kPodA);
  ASSERT_EQ(reply.edge, Edge::kNext) << DropReasonName(reply.meta.drop);
  EXPECT_EQ(reply.meta.out_port, Topo::kUplink);
  EXPECT_EQ(reply.meta.remote, Overlay::kSlotB);
}

// A pod of B calls our NodePort (it came over VXLAN: B routes our address to us) and the backend
// is another pod of B: the connection goes back over VXLAN, and so does the reverse-translated
// reply — the only transit this node does.
TEST(ServiceRemoteBackend, APodOfAnotherNodeCallingOurNodePortIsCarriedBackToItsNode) {
  const Ip4 backend = A("10.244.2.8");
  World w(backend);
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  const auto in = h.Run(VxlanFrame(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                       .Ip4(Overlay::PodOnB(), Topo::NodeIp())
                                       .Tcp(kClientPort, kNodePort, testing::kTcpSyn)),
                        Topo::kUplink);
  ASSERT_EQ(in.edge, Edge::kNext) << DropReasonName(in.meta.drop) << " by " << in.decided_by;
  EXPECT_EQ(in.meta.remote, Overlay::kSlotB);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                            .Ip4(kOverlaySnat, backend)
                            .Ttl(63)
                            .Tcp(kClientPort, kTargetPort, testing::kTcpSyn),
                        in.bytes));
  const auto back = h.Run(VxlanFrame(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                         .Ip4(backend, kOverlaySnat)
                                         .Tcp(kTargetPort, kClientPort,
                                              testing::kTcpSyn | testing::kTcpAck)),
                          Topo::kUplink);
  ASSERT_EQ(back.edge, Edge::kNext) << DropReasonName(back.meta.drop) << " by " << back.decided_by;
  EXPECT_EQ(back.meta.ct_state, CtState::kReply);
  EXPECT_EQ(back.meta.remote, Overlay::kSlotB);
  EXPECT_TRUE(SameFrame(Pkt().Eth(Overlay::VtepMac(), Overlay::NodeBVtepMac())
                            .Ip4(Topo::NodeIp(), Overlay::PodOnB())
                            .Ttl(63)
                            .Tcp(kNodePort, kClientPort, testing::kTcpSyn | testing::kTcpAck),
                        back.bytes));
}

// Control routes every remote node's own address to it (control/compile/fib_plan.h): a pod's
// packet to B's address goes to B, and B's VXLAN may carry B's address as its inner source.
TEST(ServiceRemoteBackend, ARemoteNodesAddressIsReachedAndAcceptedOverVxlan) {
  World w(Overlay::PodOnB());
  std::string error;
  ASSERT_TRUE(w.overlay.fib.Add(Ip4Prefix{Overlay::NodeBIp(), 32}, Overlay::kSlotB, &error))
      << error;
  ASSERT_TRUE(w.overlay.fib.Add(Ip4Prefix{Overlay::NodeCIp(), 32}, Overlay::kSlotC, &error))
      << error;
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  const auto out = h.Run(Pkt().Eth(Topo::PodAMac(), Topo::GatewayMac())
                             .Ip4(Topo::PodAIp(), Overlay::NodeBIp())
                             .Tcp(kClientPort, kNodePort, testing::kTcpSyn),
                         Topo::kPodA);
  ASSERT_EQ(out.edge, Edge::kNext) << DropReasonName(out.meta.drop);
  EXPECT_EQ(out.meta.remote, Overlay::kSlotB);
  const auto in = h.Run(VxlanFrame(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                       .Ip4(Overlay::NodeBIp(), Topo::PodAIp())
                                       .Tcp(kNodePort, kClientPort,
                                            testing::kTcpSyn | testing::kTcpAck)),
                        Topo::kUplink);
  ASSERT_EQ(in.edge, Edge::kNext) << DropReasonName(in.meta.drop) << " by " << in.decided_by;
  EXPECT_EQ(in.meta.out_port, Topo::kPodA);
  // C's address is C's: refused as the inner source of B's VXLAN.
  const auto spoofed = h.Run(VxlanFrame(Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                                            .Ip4(Overlay::NodeCIp(), Topo::PodAIp())
                                            .Tcp(kNodePort, kClientPort)),
                             Topo::kUplink);
  EXPECT_EQ(spoofed.edge, Edge::kDrop);
  EXPECT_EQ(spoofed.meta.drop, DropReason::kVxlanInnerSpoofed);
}

TEST(ServiceRemoteBackend, UntranslatedTrafficStillDoesNotTransit) {
  World w(Overlay::PodOnB());
  StageHarness<Ip4ForwardStage> h(*w.overlay.snap);
  // From the uplink to B's pods directly: the host's business, never encapsulated.
  const auto up = h.Run(Pkt().Eth(kClientMac, Topo::UplinkMac()).Ip4(kClient, Overlay::PodOnB())
                            .Tcp(kClientPort, kTargetPort),
                        Topo::kUplink);
  EXPECT_TRUE(up.meta.punt);
  EXPECT_EQ(up.meta.remote, kNoRemote);
  // From B through us to C: no transit.
  const Bytes inner = Pkt().Eth(Overlay::NodeBVtepMac(), Overlay::VtepMac())
                          .Ip4(Overlay::PodOnB(), Overlay::PodOnC())
                          .Tcp(kClientPort, kTargetPort);
  const auto over = h.Run(VxlanFrame(inner), Topo::kUplink);
  EXPECT_EQ(over.edge, Edge::kDrop);
  EXPECT_EQ(over.meta.drop, DropReason::kVxlanInnerNoPod);
}

}  // namespace
}  // namespace nodeplane::dp
