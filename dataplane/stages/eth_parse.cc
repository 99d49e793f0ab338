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

// Whether the frame's destination is the port's own MAC: one 8-byte load from each side, the two
// bytes after each MAC (the source MAC's first; PortEntry::peer_mac) shifted out.
static_assert(offsetof(PortEntry, peer_mac) == offsetof(PortEntry, mac) + 6);
inline bool ToPortMac(const rte_ether_hdr* eth, const PortEntry& port) noexcept {
  uint64_t dst, own;
  std::memcpy(&dst, eth, sizeof(dst));
  std::memcpy(&own, reinterpret_cast<const uint8_t*>(&port) + offsetof(PortEntry, mac),
              sizeof(own));
  static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN);  // the MAC is the low six bytes
  return ((dst ^ own) << 16) == 0;
}

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

inline bool ChecksumVerifiedByNic(const rte_mbuf* pkt) noexcept {
  return (pkt->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
}

// Any IPv4 header in a frame long enough for one: what ParseIp4 leaves (options, fragments, other
// versions and lengths), with the shared checks of core/ip4_header.h and core/l4_header.h.
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

// Source and destination sit side by side in both: one 8-byte copy.
static_assert(offsetof(PacketMeta, dst_ip) == offsetof(PacketMeta, src_ip) + 4 &&
              offsetof(rte_ipv4_hdr, dst_addr) == offsetof(rte_ipv4_hdr, src_addr) + 4);
inline void CopyAddresses(const rte_ipv4_hdr* ip, PacketMeta& m) noexcept {
  std::memcpy(reinterpret_cast<uint8_t*>(&m) + offsetof(PacketMeta, src_ip), &ip->src_addr, 8);
}

// An IPv4 frame whose first segment holds at least the 20-byte header.
[[gnu::always_inline]] inline Edge ParseIp4(rte_mbuf* pkt, PacketMeta& m) noexcept {
  const uint32_t data_len = rte_pktmbuf_data_len(pkt);
  const auto* ip = rte_pktmbuf_mtod_offset(pkt, const rte_ipv4_hdr*, kEthLen);
  // Version 4 without options and not a fragment (offset 0; DF and MF may be set) is nearly every
  // packet: two compares against memory.
  if (ip->version_ihl != 0x45 || (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0)
      [[unlikely]] {
    return ParseAnyIp4(pkt, m);
  }
  // What CheckIp4Header and FillL4 do for such a header, without re-deriving its length. The
  // packet ends by the frame's end (pkt_len >= data_len, so no underflow).
  const uint32_t total = __builtin_bswap16(ip->total_length);
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

// The frame on `port` (known to the snapshot). kShort: the first segment may be too short for an
// IPv4 header — rare, so compiled apart; otherwise the caller checked that it is not.
template <bool kShort>
[[gnu::always_inline]] inline Edge ParseFrame(const PortEntry& port, rte_mbuf* pkt, PacketMeta& m,
                                              uint8_t& has) noexcept {
  if (kShort && rte_pktmbuf_data_len(pkt) < kEthLen) return Drop(m, DropReason::kEthTruncated);
  const auto* eth = rte_pktmbuf_mtod(pkt, const rte_ether_hdr*);
  // Our own MAC first: the usual case, and never multicast.
  if (port.kind == PortKind::kUplink && !ToPortMac(eth, port) &&
      rte_is_unicast_ether_addr(&eth->dst_addr)) {
    return Drop(m, DropReason::kEthOtherHost);
  }
  switch (eth->ether_type) {
    case RTE_BE16(RTE_ETHER_TYPE_IPV4):
      if constexpr (kShort) return Drop(m, DropReason::kIp4Truncated);
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

struct ShortFrame {
  Edge edge;
  uint8_t has;  // BurstHas bits to add
};

// Returns the bits rather than taking `has` by reference, which would keep the loop's in memory.
[[gnu::noinline, gnu::cold]] ShortFrame ParseShortFrame(const PortEntry& port, rte_mbuf* pkt,
                                                        PacketMeta& m) noexcept {
  uint8_t has = 0;
  const Edge edge = ParseFrame<true>(port, pkt, m, has);
  return ShortFrame{edge, has};
}

// The previous packet's port: a burst comes from one receive queue, so nearly always this one's.
struct LastPort {
  uint16_t id;
  const PortEntry* entry;
};

[[gnu::always_inline]] inline Edge ParseOne(const Snapshot& snap, rte_mbuf* pkt, LastPort& last,
                                            uint8_t& has) noexcept {
  PacketMeta& m = Meta(pkt);
  m = kFreshMeta;
  const uint16_t port_id = pkt->port;
  m.in_port = port_id;
  if (port_id != last.id) [[unlikely]]
    last = LastPort{port_id, &snap.port(port_id)};
  const PortEntry& port = *last.entry;
  if (port.kind == PortKind::kNone) return Drop(m, DropReason::kPortUnavailable);
  if (port.kind == PortKind::kUplink) has |= kHasUplink;
  // One length check for the Ethernet and IPv4 headers on the usual path.
  if (rte_pktmbuf_data_len(pkt) < kEthLen + sizeof(rte_ipv4_hdr)) [[unlikely]] {
    const ShortFrame r = ParseShortFrame(port, pkt, m);
    has |= r.has;
    return r.edge;
  }
  return ParseFrame<false>(port, pkt, m, has);
}

}  // namespace

void EthParseStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  // Locals: the meta stores could alias b.n and ctx.snap, which would then be reloaded per packet.
  const Snapshot& snap = ctx.snap;
  const uint16_t n = b.n;
  for (uint16_t i = 0; i < std::min(kPrefetchAhead, n); ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i], void*));
  }
  LastPort last{kNoPort, &snap.port(kNoPort)};
  uint8_t has = 0;
  uint16_t i = 0;
  for (; i + kPrefetchAhead < n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + kPrefetchAhead], void*));
    out.edge[i] = ParseOne(snap, b.pkts[i], last, has);
  }
  for (; i < n; ++i) out.edge[i] = ParseOne(snap, b.pkts[i], last, has);
  ctx.burst_has = has;
}

}  // namespace nodeplane::dp
