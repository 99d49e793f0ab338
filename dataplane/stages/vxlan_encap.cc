#include "dataplane/stages/vxlan_encap.h"

#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/pending_resolution.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

constexpr uint16_t kSourcePortBase = 49152;   // RFC 7348 §5: the dynamic/private range
constexpr uint16_t kSourcePortMask = 0x3fff;  // 16384 ports
constexpr uint16_t kOuterIpUdpVxlan = kVxlanEncapLen - kVxlanOuterIp4Offset;  // 36

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

// The inner flow: addresses and protocol, plus the ports of an unfragmented TCP/UDP/SCTP packet.
inline uint32_t InnerFlowHash(const rte_mbuf* pkt, const rte_ipv4_hdr* ip,
                              uint16_t l3_offset) noexcept {
  uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->next_proto_id);
  h = rte_hash_crc_4byte(ip->dst_addr, h);
  const uint8_t proto = ip->next_proto_id;
  const uint16_t l4 = static_cast<uint16_t>(l3_offset + (ip->version_ihl & 0xf) * 4);
  if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
      (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) == 0 &&
      rte_pktmbuf_data_len(pkt) >= l4 + 4) {
    uint32_t ports;
    std::memcpy(&ports, rte_pktmbuf_mtod_offset(pkt, const uint8_t*, l4), sizeof(ports));
    h = rte_hash_crc_4byte(ports, h);
  }
  return h;
}

// A tracked packet's connection (its conntrack record, fixed for the connection's life and shared
// by both directions) stands for its inner flow: a multiply of the record's address instead of
// hashing the headers again.
inline uint32_t ConnectionHash(const void* ct) noexcept {
  const auto record = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(ct) >> 6);
  return (record * 0x9e3779b1u) >> 16;
}

// Bursts go to few nodes: the last one looked up.
struct LastNode {
  uint32_t slot = kNoRemote;
  const RemoteNodeEntry* node = nullptr;
};

inline Edge EncapOne(StageContext& ctx, rte_mbuf* pkt, LastNode& last) noexcept {
  PacketMeta& m = Meta(pkt);
  if (m.remote == kNoRemote || m.punt) return Edge::kNext;
  if (m.remote != last.slot) {
    last.slot = m.remote;
    last.node = ctx.snap.remotes.Find(m.remote);
  }
  const RemoteNodeEntry* node = last.node;
  if (node == nullptr) [[unlikely]]
    return Drop(m, DropReason::kNoRoute);
  if (!node->resolved) [[unlikely]] {
    if (ctx.pending != nullptr &&
        ctx.pending->Park(pkt, m.remote,
                          ctx.now_tsc + PendingResolution::kHoldSeconds * rte_get_tsc_hz())) {
      ctx.counters.Count(Counter::kPendingResolution);
      return Edge::kHold;
    }
    return Drop(m, DropReason::kNeighborUnresolved);
  }

  const auto* inner_ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, m.l3_offset);
  const uint32_t hash = (pkt->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0 ? pkt->hash.rss
                        : m.ct != nullptr                             ? ConnectionHash(m.ct)
                                          : InnerFlowHash(pkt, inner_ip, m.l3_offset);
  const uint32_t inner_len = m.l3_offset + rte_be_to_cpu_16(inner_ip->total_length);
  if (rte_pktmbuf_pkt_len(pkt) > inner_len) {
    rte_pktmbuf_trim(pkt, static_cast<uint16_t>(rte_pktmbuf_pkt_len(pkt) - inner_len));
  }
  auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(pkt, kVxlanEncapLen));
  if (outer == nullptr) [[unlikely]]
    return Drop(m, DropReason::kEncapNoHeadroom);
  std::memcpy(outer, node->outer, kVxlanEncapLen);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(outer + kVxlanOuterIp4Offset);
  const uint16_t total = static_cast<uint16_t>(inner_len + kOuterIpUdpVxlan);
  ip->total_length = rte_cpu_to_be_16(total);
  // RFC 1624 eqn. 3 with m = 0 (the template's length): HC' = ~(~HC + m').
  uint32_t sum = static_cast<uint16_t>(~ip->hdr_checksum) + uint32_t{ip->total_length};
  sum = (sum & 0xffff) + (sum >> 16);
  ip->hdr_checksum = static_cast<uint16_t>(~sum);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(outer + kVxlanOuterUdpOffset);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(total - sizeof(rte_ipv4_hdr)));
  udp->src_port =
      rte_cpu_to_be_16(static_cast<uint16_t>(kSourcePortBase | (hash & kSourcePortMask)));

  // From the node, not read back from the headers just copied (a load spanning two of the copy's
  // stores cannot be forwarded and stalls).
  m.l3_offset = kVxlanOuterIp4Offset;
  m.src_ip = ctx.snap.overlay.vtep_ip;
  m.dst_ip = node->underlay_ip;
  ctx.counters.Count(Counter::kVxlanEncapsulated);
  return Edge::kNext;
}

}  // namespace

void VxlanEncapStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  if ((ctx.burst_has & kHasRemote) == 0) {
    PassAll(out, b.n);
    return;
  }
  LastNode last;
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = EncapOne(ctx, b.pkts[i], last);
}

}  // namespace nodeplane::dp
