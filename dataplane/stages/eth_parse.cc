#include "dataplane/stages/eth_parse.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstddef>
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

inline bool ChecksumVerifiedByNic(const rte_mbuf* pkt) noexcept {
  return (pkt->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
}

// Any IPv4 header: options, fragments, and the frames too short for one.
[[gnu::noinline, gnu::cold]] Edge ParseAnyIp4(rte_mbuf* pkt, PacketMeta& m) noexcept {
  const DropReason bad =
      CheckIp4Header(pkt, kEthLen, rte_pktmbuf_pkt_len(pkt), ChecksumVerifiedByNic(pkt));
  if (bad != DropReason::kUnspecified) return Drop(m, bad);
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, kEthLen);
  m.cls = PacketClass::kIp4;
  m.src_ip = ip->src_addr;
  m.dst_ip = ip->dst_addr;
  FillL4(ip, rte_pktmbuf_data_len(pkt) - kEthLen, m);
  return Edge::kNext;
}

// The header's first 8 bytes as this little-endian host loads them: version_ihl is the low byte,
// the fragment field the top 16 bits. Version 4 without options and not a fragment (offset 0; DF
// and MF may be set) is nearly every packet, told apart by one mask and compare.
static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN);
constexpr uint64_t kPlainMask = 0xff | uint64_t{RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)} << 48;
constexpr uint64_t kPlain = 0x45;

// Source and destination sit side by side in both: one 8-byte copy.
static_assert(offsetof(PacketMeta, dst_ip) == offsetof(PacketMeta, src_ip) + 4 &&
              offsetof(rte_ipv4_hdr, dst_addr) == offsetof(rte_ipv4_hdr, src_addr) + 4);
inline void CopyAddresses(const rte_ipv4_hdr* ip, PacketMeta& m) noexcept {
  std::memcpy(reinterpret_cast<uint8_t*>(&m) + offsetof(PacketMeta, src_ip), &ip->src_addr, 8);
}

[[gnu::always_inline]] inline Edge ParseIp4(rte_mbuf* pkt, PacketMeta& m) noexcept {
  const uint32_t data_len = rte_pktmbuf_data_len(pkt);
  if (data_len < kEthLen + sizeof(rte_ipv4_hdr)) [[unlikely]]
    return ParseAnyIp4(pkt, m);
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, kEthLen);
  uint64_t head;
  std::memcpy(&head, ip, sizeof(head));
  if ((head & kPlainMask) != kPlain) [[unlikely]]
    return ParseAnyIp4(pkt, m);
  // What CheckIp4Header and FillL4 do for such a header, without re-deriving its length. The
  // packet ends by the frame's end (pkt_len >= data_len, so no underflow).
  const uint32_t total = __builtin_bswap16(static_cast<uint16_t>(head >> 16));
  const DropReason bad = CheckIp4HeaderWithoutOptions(ip, total, rte_pktmbuf_pkt_len(pkt) - kEthLen,
                                                      ChecksumVerifiedByNic(pkt));
  if (bad != DropReason::kUnspecified) return Drop(m, bad);
  m.cls = PacketClass::kIp4;
  CopyAddresses(ip, m);
  FillL4WithoutOptions(ip, std::min(data_len - kEthLen, total), m);
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

[[gnu::always_inline]] inline Edge ParseOne(const Snapshot& snap, rte_mbuf* pkt,
                                            uint8_t& has) noexcept {
  PacketMeta& m = Meta(pkt);
  m = kFreshMeta;
  m.in_port = pkt->port;
  const PortEntry& port = snap.port(pkt->port);
  if (port.kind == PortKind::kNone) return Drop(m, DropReason::kPortUnavailable);
  if (port.kind == PortKind::kUplink) has |= kHasUplink;
  if (rte_pktmbuf_data_len(pkt) < kEthLen) return Drop(m, DropReason::kEthTruncated);
  const auto* eth = rte_pktmbuf_mtod(pkt, const rte_ether_hdr*);
  // Our own MAC first: the usual case, and never multicast.
  if (port.kind == PortKind::kUplink && !SameMac(port.mac.data(), eth->dst_addr.addr_bytes) &&
      rte_is_unicast_ether_addr(&eth->dst_addr)) {
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
  // Locals: the meta stores could alias b.n and ctx.snap, which would then be reloaded per packet.
  const Snapshot& snap = ctx.snap;
  const uint16_t n = b.n;
  for (uint16_t i = 0; i < std::min(kPrefetchAhead, n); ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i], void*));
  }
  uint8_t has = 0;
  uint16_t i = 0;
  for (; i + kPrefetchAhead < n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + kPrefetchAhead], void*));
    out.edge[i] = ParseOne(snap, b.pkts[i], has);
  }
  for (; i < n; ++i) out.edge[i] = ParseOne(snap, b.pkts[i], has);
  ctx.burst_has = has;
}

}  // namespace nodeplane::dp
