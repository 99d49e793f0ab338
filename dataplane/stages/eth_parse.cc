#include "dataplane/stages/eth_parse.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

#include "dataplane/core/ip4_header.h"
#include "dataplane/core/l4_header.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

constexpr uint16_t kPrefetchAhead = 4;
constexpr uint16_t kEthLen = sizeof(rte_ether_hdr);

// Two loads and compares, where std::equal over 6 bytes became a call to memcmp.
inline bool SameMac(const uint8_t* a, const uint8_t* b) noexcept {
  uint32_t a4, b4;
  uint16_t a2, b2;
  std::memcpy(&a4, a, 4);
  std::memcpy(&b4, b, 4);
  std::memcpy(&a2, a + 4, 2);
  std::memcpy(&b2, b + 4, 2);
  return a4 == b4 && a2 == b2;
}

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

[[gnu::always_inline]] inline Edge ParseIp4(rte_mbuf* pkt, PacketMeta& m) noexcept {
  const bool hw_checked = (pkt->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  const DropReason bad = CheckIp4Header(pkt, kEthLen, rte_pktmbuf_pkt_len(pkt), hw_checked);
  if (bad != DropReason::kUnspecified) return Drop(m, bad);
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, kEthLen);
  m.cls = PacketClass::kIp4;
  m.src_ip = ip->src_addr;
  m.dst_ip = ip->dst_addr;
  FillL4(ip, rte_pktmbuf_data_len(pkt) - kEthLen, m);
  return Edge::kNext;
}

// What every packet starts as: nothing known, going nowhere (one cache line, copied whole).
constexpr PacketMeta kFreshMeta = [] {
  PacketMeta m{};
  m.out_port = kNoPort;
  m.l3_offset = kEthLen;
  return m;
}();
static_assert(PacketClass{} == PacketClass::kOther && DropReason{} == DropReason::kUnspecified &&
              L4Status{} == L4Status::kNone && CtState{} == CtState::kNone && kNoRemote == 0);

inline Edge ParseOne(const Snapshot& snap, rte_mbuf* pkt, uint8_t& has) noexcept {
  PacketMeta& m = Meta(pkt);
  m = kFreshMeta;
  m.in_port = pkt->port;
  const PortEntry& port = snap.port(pkt->port);
  if (port.kind == PortKind::kNone) return Drop(m, DropReason::kPortUnavailable);
  if (port.kind == PortKind::kUplink) has |= kHasUplink;
  if (rte_pktmbuf_data_len(pkt) < kEthLen) return Drop(m, DropReason::kEthTruncated);
  const auto* eth = rte_pktmbuf_mtod(pkt, const rte_ether_hdr*);
  if (port.kind == PortKind::kUplink && rte_is_unicast_ether_addr(&eth->dst_addr) &&
      !SameMac(port.mac.data(), eth->dst_addr.addr_bytes)) {
    return Drop(m, DropReason::kEthOtherHost);
  }
  switch (eth->ether_type) {
    case RTE_BE16(RTE_ETHER_TYPE_IPV4):
      return ParseIp4(pkt, m);
    case RTE_BE16(RTE_ETHER_TYPE_ARP):
      m.cls = PacketClass::kArp;
      has |= kHasArp;
      return Edge::kNext;
    default:
      // Pods speak IPv4 and ARP here; anything else between host and uplink is the host's.
      if (port.kind == PortKind::kPod) return Drop(m, DropReason::kEthertypeUnsupported);
      m.punt = true;
      has |= kHasPunt;
      return Edge::kNext;
  }
}

}  // namespace

void EthParseStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  for (uint16_t i = 0; i < std::min(kPrefetchAhead, b.n); ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i], void*));
  }
  uint8_t has = 0;
  uint16_t i = 0;
  for (; i + kPrefetchAhead < b.n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + kPrefetchAhead], void*));
    out.edge[i] = ParseOne(ctx.snap, b.pkts[i], has);
  }
  for (; i < b.n; ++i) out.edge[i] = ParseOne(ctx.snap, b.pkts[i], has);
  ctx.burst_has = has;
}

}  // namespace nodeplane::dp
