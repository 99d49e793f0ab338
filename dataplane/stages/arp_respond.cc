#include "dataplane/stages/arp_respond.h"

#include <rte_arp.h>
#include <rte_ether.h>

#include <cstring>

#include "dataplane/core/neighbor_events.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

// Turns the request into its reply in place: we (mac, ip) answer the asker.
inline void MakeReply(rte_mbuf* pkt, const PortEntry& port, uint32_t answered_ip) noexcept {
  auto* eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  rte_ether_addr ours;
  std::memcpy(ours.addr_bytes, port.mac.data(), RTE_ETHER_ADDR_LEN);
  eth->dst_addr = arp->arp_data.arp_sha;
  eth->src_addr = ours;
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = arp->arp_data.arp_sip;
  arp->arp_data.arp_sha = ours;
  arp->arp_data.arp_sip = answered_ip;
  // Requests may carry Ethernet padding; the reply is exactly a minimal ARP frame.
  const uint32_t len = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr);
  if (rte_pktmbuf_pkt_len(pkt) > len) rte_pktmbuf_trim(pkt, rte_pktmbuf_pkt_len(pkt) - len);
}

// One of this node's addresses on the underlay: the uplink's, the VTEP, or an address routed to the
// host (the node's own addresses).
inline bool IsOurs(const Snapshot& snap, const PortEntry& uplink, uint32_t ip) noexcept {
  if (ip == 0) return false;
  if (ip == uplink.gateway_ip || (snap.overlay.enabled && ip == snap.overlay.vtep_ip)) return true;
  const uint16_t to = snap.routes.Lookup(ip);
  return to != LocalRouteTable::kMiss && snap.port(to).kind == PortKind::kHost;
}

// An address of another node's pod CIDRs (the Fib), not that node's own underlay address: the
// host routes those into the exception port too (ip4_lookup carries them over the overlay).
inline bool IsRemotePod(const Snapshot& snap, uint32_t ip) noexcept {
  if (!snap.overlay.enabled || snap.fib == nullptr) return false;
  const uint32_t slot = snap.fib->Lookup(ip);
  if (slot == Fib::kMiss) return false;
  const RemoteNodeEntry* node = snap.remotes.Find(slot);
  return node != nullptr && node->underlay_ip() != ip;
}

// A wanted next hop (a remote node's underlay neighbour) showed its MAC: tell control. Never
// blocks: a full ring loses the event, counted.
inline void ReportNeighbor(StageContext& ctx, const rte_arp_hdr& arp) noexcept {
  NeighborEvents* events = ctx.snap.neighbor_events;
  const rte_ether_addr& sha = arp.arp_data.arp_sha;
  if (events == nullptr || !rte_is_valid_assigned_ether_addr(&sha) ||
      !ctx.snap.IsWantedNeighbor(arp.arp_data.arp_sip)) {
    return;
  }
  NeighborEvent e;
  e.ip = arp.arp_data.arp_sip;
  std::memcpy(e.mac.data(), sha.addr_bytes, RTE_ETHER_ADDR_LEN);
  ctx.counters.Count(events->Offer(e) ? Counter::kNeighborEventsReported
                                      : Counter::kNeighborEventsLost);
}

inline Edge HandleOne(StageContext& ctx, rte_mbuf* pkt) noexcept {
  PacketMeta& m = Meta(pkt);
  if (m.cls != PacketClass::kArp || m.punt) return Edge::kNext;
  const PortEntry& port = ctx.snap.port(m.in_port);
  if (rte_pktmbuf_data_len(pkt) < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) {
    return Drop(m, DropReason::kArpMalformed);
  }
  const auto* arp = rte_pktmbuf_mtod_offset(pkt, const rte_arp_hdr*, sizeof(rte_ether_hdr));
  if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != sizeof(uint32_t)) {
    return Drop(m, DropReason::kArpMalformed);
  }
  const bool request = arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST);
  if (port.kind == PortKind::kUplink) {
    ReportNeighbor(ctx, *arp);
    if (request && !IsOurs(ctx.snap, port, arp->arp_data.arp_tip)) {
      return Drop(m, DropReason::kArpNotForUs);
    }
    m.punt = true;  // the host kernel answers for the node's addresses (with the uplink's MAC)
    ctx.burst_has |= kHasPunt;
    return Edge::kNext;
  }
  const uint32_t target = arp->arp_data.arp_tip;
  if (port.kind == PortKind::kPod) {
    if (!request || target != port.gateway_ip) return Drop(m, DropReason::kArpNotGateway);
  } else {  // host exception port: answer for pods (ours, other nodes'), pass the rest to the wire
    const uint16_t to = request ? ctx.snap.routes.Lookup(target) : LocalRouteTable::kMiss;
    const bool local_pod = to != LocalRouteTable::kMiss && ctx.snap.port(to).kind == PortKind::kPod;
    if (!local_pod && !(request && IsRemotePod(ctx.snap, target))) {
      m.punt = true;
      ctx.burst_has |= kHasPunt;
      return Edge::kNext;
    }
  }
  MakeReply(pkt, port, target);
  m.out_port = m.in_port;
  ctx.counters.Count(Counter::kArpRepliesSent);
  return Edge::kTx;
}

}  // namespace

void ArpRespondStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  if ((ctx.burst_has & kHasArp) == 0) {
    PassAll(out, b.n);
    return;
  }
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = HandleOne(ctx, b.pkts[i]);
}

}  // namespace nodeplane::dp
