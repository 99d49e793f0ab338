#include "dataplane/stages/vxlan_decap.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "dataplane/core/ip4_header.h"
#include "dataplane/core/l4_header.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

constexpr uint16_t kEthLen = sizeof(rte_ether_hdr);
constexpr uint16_t kUdpLen = sizeof(rte_udp_hdr);
constexpr uint16_t kVxlanLen = sizeof(rte_vxlan_hdr);
constexpr uint16_t kMinUdpLen = kUdpLen + kVxlanLen + kEthLen;  // up to the inner ethertype
constexpr rte_be32_t kFlagI = RTE_BE32(0x08000000);

enum class Verdict : uint8_t { kPass, kDrop, kDecap };

inline Verdict Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Verdict::kDrop;
}

// Is this VXLAN for us, and is it well formed? On kDecap: *inner = offset of the inner Ethernet
// header, *inner_len = the inner frame's length, *inner_src = the inner IPv4 source.
inline Verdict Classify(const Snapshot& snap, rte_mbuf* pkt, PacketMeta& m, uint16_t* inner,
                        uint16_t* inner_len, uint32_t* inner_src) noexcept {
  if (m.cls != PacketClass::kIp4 || m.punt || m.in_port != snap.uplink_port) return Verdict::kPass;
  // eth_parse read the outer UDP header: kPorts means a first (or only) fragment whose whole UDP
  // header is inside both the IPv4 total length and the segment.
  if (m.l4_proto != IPPROTO_UDP || m.l4 != L4Status::kPorts) return Verdict::kPass;
  if (m.dst_port != snap.overlay.udp_port) return Verdict::kPass;
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, m.l3_offset);
  const uint16_t ihl = static_cast<uint16_t>(m.l4_offset - m.l3_offset);
  const uint16_t ip_total = rte_be_to_cpu_16(ip->total_length);
  const uint16_t l4 = m.l4_offset;
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(reinterpret_cast<const uint8_t*>(ip) + ihl);
  if (m.dst_ip != snap.overlay.vtep_ip) {
    // Another address of this node (or a pod) on the VXLAN port is not the overlay: theirs.
    if (snap.routes.Lookup(m.dst_ip) != LocalRouteTable::kMiss) return Verdict::kPass;
    return Drop(m, DropReason::kVxlanOtherVtep);
  }
  if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG)) != 0) {
    return Drop(m, DropReason::kVxlanOuterFragment);
  }
  const uint16_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  *inner = static_cast<uint16_t>(l4 + kUdpLen + kVxlanLen);
  if (udp_len < kMinUdpLen || udp_len > ip_total - ihl ||
      rte_pktmbuf_data_len(pkt) < *inner + kEthLen) {
    return Drop(m, DropReason::kVxlanTruncated);
  }
  const auto* vx = reinterpret_cast<const rte_vxlan_hdr*>(udp + 1);
  if ((vx->vx_flags & kFlagI) == 0) return Drop(m, DropReason::kVxlanBadFlags);
  if ((rte_be_to_cpu_32(vx->vx_vni) >> 8) != snap.overlay.vni) {
    return Drop(m, DropReason::kVxlanWrongVni);
  }
  const auto* eth = rte_pktmbuf_mtod_offset(pkt, const rte_ether_hdr*, *inner);
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
    return Drop(m, DropReason::kVxlanInnerNotIp4);
  }
  const uint16_t inner_l3 = static_cast<uint16_t>(*inner + kEthLen);
  const DropReason bad = CheckIp4Header(pkt, inner_l3, l4 + udp_len, false);
  if (bad != DropReason::kUnspecified) return Drop(m, bad);
  *inner_len = static_cast<uint16_t>(udp_len - kUdpLen - kVxlanLen);
  *inner_src = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, inner_l3)->src_addr;
  return Verdict::kDecap;
}

// Strips the outer headers; the mbuf then holds exactly the inner frame.
inline void Strip(rte_mbuf* pkt, PacketMeta& m, uint16_t inner, uint16_t inner_len) noexcept {
  // Classify checked the first segment holds it: rte_pktmbuf_adj without its checks.
  pkt->data_off = static_cast<uint16_t>(pkt->data_off + inner);
  pkt->data_len = static_cast<uint16_t>(pkt->data_len - inner);
  pkt->pkt_len -= inner;
  if (rte_pktmbuf_pkt_len(pkt) > inner_len) {
    rte_pktmbuf_trim(pkt, static_cast<uint16_t>(rte_pktmbuf_pkt_len(pkt) - inner_len));
  }
  // The NIC's checksum verdicts were about the outer headers.
  pkt->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, kEthLen);
  m.l3_offset = kEthLen;
  m.src_ip = ip->src_addr;
  m.dst_ip = ip->dst_addr;
  m.from_overlay = true;
  FillL4(ip, rte_pktmbuf_data_len(pkt) - kEthLen, m);
}

}  // namespace

void VxlanDecapStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  PassAll(out, b.n);
  if (!ctx.snap.overlay.enabled || (ctx.burst_has & kHasUplink) == 0) return;
  // Pass 1: classify and validate; gather the inner sources of the packets to decapsulate.
  uint16_t idx[kBurstMax];
  uint16_t inner[kBurstMax];
  uint16_t inner_len[kBurstMax];
  uint32_t src[kBurstMax];
  uint16_t n = 0;
  for (uint16_t i = 0; i < b.n; ++i) {
    switch (Classify(ctx.snap, b.pkts[i], Meta(b.pkts[i]), &inner[n], &inner_len[n], &src[n])) {
      case Verdict::kPass:
        break;
      case Verdict::kDrop:
        out.edge[i] = Edge::kDrop;
        break;
      case Verdict::kDecap:
        idx[n++] = i;
        break;
    }
  }
  if (n == 0) return;
  // Pass 2: which remote node owns each inner source.
  uint32_t slot[kBurstMax];
  if (ctx.snap.fib != nullptr) {
    ctx.snap.fib->LookupBulk(src, n, slot);
  } else {
    for (uint16_t j = 0; j < n; ++j) slot[j] = Fib::kMiss;
  }
  // Pass 3: the owner must be the node that sent it; then strip. Bursts come from few nodes:
  // the last slot's entry is kept.
  uint32_t last_slot = Fib::kMiss;
  const RemoteNodeEntry* last = nullptr;
  uint16_t decapsulated = 0;
  for (uint16_t j = 0; j < n; ++j) {
    rte_mbuf* pkt = b.pkts[idx[j]];
    PacketMeta& m = Meta(pkt);
    if (slot[j] != last_slot) {
      last_slot = slot[j];
      last = ctx.snap.remotes.Find(slot[j]);
    }
    if (last == nullptr || last->underlay_ip() != m.src_ip) {
      m.drop = DropReason::kVxlanInnerSpoofed;
      out.edge[idx[j]] = Edge::kDrop;
      continue;
    }
    Strip(pkt, m, inner[j], inner_len[j]);
    ++decapsulated;
  }
  ctx.counters.Count(Counter::kVxlanDecapsulated, decapsulated);
}

}  // namespace nodeplane::dp
