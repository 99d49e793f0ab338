#include "dataplane/stages/ip4_forward.h"

#include <rte_ether.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/core/ct_route.h"
#include "dataplane/core/hop_macs.h"
#include "dataplane/core/icmp_error.h"
#include "dataplane/core/ip4_header.h"
#include "dataplane/core/nat_apply.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/tables/uplink_peers.h"

namespace nodeplane::dp {
namespace {

constexpr uint8_t kIcmpDestUnreachable = 3;
constexpr uint8_t kFragmentationNeeded = 4;
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kTtlExceededInTransit = 0;

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

// Turns the packet into an ICMP error back out of its input port. The original is gone (counted
// as drop `reason`); its mbuf now carries the error.
inline Edge SendError(StageContext& ctx, rte_mbuf* pkt, PacketMeta& m, uint8_t type, uint8_t code,
                      uint32_t rest_be, DropReason reason, Counter sent) noexcept {
  const PortEntry& in = ctx.snap.port(m.in_port);
  const IcmpErrorFrom from{in.mac, in.gateway_ip};
  if (m.from_overlay || !MakeIcmp4Error(pkt, m.l3_offset, type, code, rest_be, from)) {
    return Drop(m, reason);
  }
  ctx.counters.Drop(reason);
  ctx.counters.Count(sent);
  m.out_port = m.in_port;
  m.remote = kNoRemote;
  return Edge::kTx;
}

// Too big for the uplink once encapsulated. DF set: tell the pod the MTU that fits (RFC 1191).
// DF clear: drop — fragmenting the inner or the outer packet is not done (dataplane/README.md).
[[gnu::cold]] Edge TooBig(StageContext& ctx, rte_mbuf* pkt, PacketMeta& m,
                          const rte_ipv4_hdr* ip) noexcept {
  if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) == 0) {
    return Drop(m, DropReason::kEncapTooBig);
  }
  const uint32_t mtu = ctx.snap.overlay.uplink_mtu - kVxlanEncapLen;
  return SendError(ctx, pkt, m, kIcmpDestUnreachable, kFragmentationNeeded, rte_cpu_to_be_32(mtu),
                   DropReason::kEncapTooBig, Counter::kIcmpFragNeededSent);
}

// Where an established TCP/UDP connection's packets in this direction went, for ct_fastpath
// (core/ct_route.h): only what it can repeat exactly (a local pod's port, or a remote node). With
// the route go the checksum deltas of the connection's NAT and one hop (core/nat_apply.h), written
// first; ct_fastpath writes the other direction's tuple reversed, so a connection whose NAT is not
// exactly that (none is, by construction; this makes sure) is never remembered.
inline void RememberRoute(const Snapshot& snap, const PacketMeta& m, bool to_remote) noexcept {
  if (m.ct == nullptr || snap.epoch == 0 || snap.conntrack == nullptr || m.own_reply ||
      (m.ct_state != CtState::kEstablished && m.ct_state != CtState::kReply) ||
      m.l4 != L4Status::kPorts || (m.l4_proto != IPPROTO_TCP && m.l4_proto != IPPROTO_UDP)) {
    return;
  }
  if (!to_remote && snap.port(m.out_port).kind != PortKind::kPod) return;
  if (!CtRouteFits(m.in_port, m.out_port, m.remote)) return;
  const auto* e = static_cast<const CtEntry*>(m.ct);
  const bool reply = m.ct_state == CtState::kReply;
  const uint64_t word =
      CtRouteWord(snap.epoch, m.in_port, m.from_overlay, CtRoute{m.out_port, m.remote});
  CtFastpathSlot& slot = snap.conntrack->Fastpath(e);
  if (slot.route[reply].load(std::memory_order_relaxed) == word) return;
  const nat::Tuple arrived = nat::TupleOf(Conntrack::Key(e, reply));
  const nat::Tuple leaves = nat::EstablishedTuple(arrived, *e, reply);
  if (!(leaves == nat::Reversed(nat::TupleOf(Conntrack::Key(e, !reply))))) return;
  slot.deltas[reply].store(nat::NatHopDeltas(arrived, leaves), std::memory_order_relaxed);
  slot.route[reply].store(word, std::memory_order_release);
}

// A connection this node translated (a Service's DNAT, maybe SNAT), between this node's underlay
// address and a remote node's own (a hostNetwork endpoint there: the host's ClusterIP connection,
// a NodePort from outside SNATed to us): plain host-to-host IP, as kube-proxy sends it. The other
// node's kernel answers our address over the underlay, so the request goes that way too, to the
// node's underlay MAC. While that MAC is unknown, or the packet would not fit the uplink, it takes
// the VXLAN path (vxlan_encap holds it until the MAC is known; the MTU check answers).
inline bool ToNodeOnUnderlay(const Snapshot& snap, const PacketMeta& m, const rte_ipv4_hdr* ip,
                             const RemoteNodeEntry& node) noexcept {
  if (m.ct == nullptr || m.own_reply || ip->dst_addr != node.underlay_ip() ||
      ip->src_addr != snap.overlay.vtep_ip || !node.resolved ||
      rte_be_to_cpu_16(ip->total_length) > snap.overlay.uplink_mtu) {
    return false;
  }
  return static_cast<const CtEntry*>(m.ct)->translated();
}

inline Edge ForwardOne(StageContext& ctx, rte_mbuf* pkt, uint16_t& routed) noexcept {
  PacketMeta& m = Meta(pkt);
  if (m.cls != PacketClass::kIp4 || m.punt) return Edge::kNext;
  auto* eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  auto* ip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, m.l3_offset);
  if (ip->time_to_live <= 1) [[unlikely]] {
    return SendError(ctx, pkt, m, kIcmpTimeExceeded, kTtlExceededInTransit, 0,
                     DropReason::kIp4TtlExceeded, Counter::kIcmpTimeExceededSent);
  }
  const RemoteNodeEntry* remote = nullptr;
  if (m.remote != kNoRemote) {
    remote = ctx.snap.remotes.Find(m.remote);
    if (remote == nullptr) [[unlikely]]
      return Drop(m, DropReason::kNoRoute);
    if (ToNodeOnUnderlay(ctx.snap, m, ip, *remote)) [[unlikely]] {
      // Out of the uplink as it is: nothing for vxlan_encap to do, and nothing remembered for
      // ct_fastpath (a route word to a remote node means VXLAN; it has no "unencapsulated"), so
      // every packet of such a connection comes this way.
      DecrementTtl(ip);
      MacsToNodeOnUnderlay(eth, *remote);
      m.remote = kNoRemote;
      ++routed;
      return Edge::kNext;
    }
    if (rte_be_to_cpu_16(ip->total_length) + kVxlanEncapLen > ctx.snap.overlay.uplink_mtu)
        [[unlikely]] {
      return TooBig(ctx, pkt, m, ip);
    }
  }
  DecrementTtl(ip);
  if (remote != nullptr) {
    MacsToVtep(eth, *remote);
  } else if (m.out_port == ctx.snap.uplink_port) {
    // A reply to a client outside the cluster (ip4_lookup found its MAC in UplinkPeers).
    std::array<uint8_t, 6> peer;
    if (ctx.snap.uplink_peers == nullptr || !ctx.snap.uplink_peers->Find(m.dst_ip, &peer))
        [[unlikely]] {
      return Drop(m, DropReason::kNoRoute);  // its slot was just taken by another client
    }
    SetMacs(eth, peer, ctx.snap.port(m.out_port).mac);
  } else {
    MacsToPort(eth, ctx.snap.port(m.out_port));
  }
  RememberRoute(ctx.snap, m, remote != nullptr);
  ++routed;
  return Edge::kNext;
}

}  // namespace

void Ip4ForwardStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  uint16_t routed = 0;
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = ForwardOne(ctx, b.pkts[i], routed);
  ctx.counters.Count(Counter::kRouted, routed);
}

}  // namespace nodeplane::dp
