// NAT applied to one packet: the tuple it must leave with and the rewrite of its headers, with
// incremental checksum updates (RFC 1624). Shared by nat_rewrite (every tracked packet) and
// ct_fastpath (established TCP/UDP packets whose route is cached), so that a packet is rewritten
// the same whichever of them handles it. dataplane/stages/nat_rewrite.h has the rules.
#pragma once
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/core/crc32c.h"
#include "dataplane/core/csum_update.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/unaligned.h"
#include "dataplane/tables/conntrack.h"

namespace nodeplane::dp::nat {

constexpr uint16_t kTcpCsumOffset = 16;
constexpr uint16_t kUdpCsumOffset = 6;
constexpr uint16_t kSctpCsumOffset = 8;

// A tuple as it must leave.
struct Tuple {
  uint32_t src_ip, dst_ip;
  uint16_t src_port, dst_port;
};

inline uint32_t PacketEnd(const rte_mbuf* m, const PacketMeta& meta) noexcept {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_offset);
  const uint32_t l3_end = meta.l3_offset + rte_be_to_cpu_16(ip->total_length);
  return rte_pktmbuf_data_len(m) < l3_end ? rte_pktmbuf_data_len(m) : l3_end;
}

// Rewrites the addresses of the IPv4 header at `ip` and returns the pseudo-header's change folded
// into `l4_csum` (when l4_csum != nullptr).
inline void RewriteAddresses(rte_ipv4_hdr* ip, uint32_t src, uint32_t dst,
                             uint16_t* l4_csum) noexcept {
  if (ip->src_addr != src) {
    ip->hdr_checksum = CsumUpdate32(ip->hdr_checksum, ip->src_addr, src);
    if (l4_csum != nullptr) *l4_csum = CsumUpdate32(*l4_csum, ip->src_addr, src);
    ip->src_addr = src;
  }
  if (ip->dst_addr != dst) {
    ip->hdr_checksum = CsumUpdate32(ip->hdr_checksum, ip->dst_addr, dst);
    if (l4_csum != nullptr) *l4_csum = CsumUpdate32(*l4_csum, ip->dst_addr, dst);
    ip->dst_addr = dst;
  }
}

// Rewrites a transport header's ports (TCP/UDP/SCTP: source then destination at its start).
inline void RewritePorts(uint8_t* l4, uint16_t sport, uint16_t dport, uint16_t* l4_csum) noexcept {
  const uint16_t old_s = Load16(l4);
  const uint16_t old_d = Load16(l4 + 2);
  if (l4_csum != nullptr) {
    if (old_s != sport) *l4_csum = CsumUpdate16(*l4_csum, old_s, sport);
    if (old_d != dport) *l4_csum = CsumUpdate16(*l4_csum, old_d, dport);
  }
  Store16(l4, sport);
  Store16(l4 + 2, dport);
}

// SCTP's checksum: CRC32c over the packet with the checksum field zero (RFC 4960 appendix B),
// stored in the byte order Linux uses (least significant byte first).
inline void RecomputeSctpCrc(uint8_t* sctp, uint32_t len) noexcept {
  std::memset(sctp + kSctpCsumOffset, 0, 4);
  const uint32_t crc = ~Crc32c(sctp, len, 0xffffffffu);
  const uint8_t le[4] = {static_cast<uint8_t>(crc), static_cast<uint8_t>(crc >> 8),
                         static_cast<uint8_t>(crc >> 16), static_cast<uint8_t>(crc >> 24)};
  std::memcpy(sctp + kSctpCsumOffset, le, 4);
}

// RFC 1624 eqn. 3 with one fold for several fields: HC' = ~(~HC + sum(~m + m')). Each term is
// the unfolded change of one field, 0 when the field keeps its value (so the result is bit for bit
// what updating the changed fields one after another gives).
inline uint32_t Delta32(uint32_t from, uint32_t to) noexcept {
  const uint32_t d = (~from & 0xffff) + (~from >> 16) + (to & 0xffff) + (to >> 16);
  return from != to ? d : 0;
}
inline uint32_t Delta16(uint16_t from, uint16_t to) noexcept {
  const uint32_t d = static_cast<uint16_t>(~from) + static_cast<uint32_t>(to);
  return from != to ? d : 0;
}
inline uint16_t ApplyDelta(uint16_t csum, uint32_t delta) noexcept {
  return static_cast<uint16_t>(~CsumFold(static_cast<uint16_t>(~csum) + delta));
}

// TCP and UDP: addresses and ports with one delta for the IPv4 header checksum (addresses) and
// one for the transport checksum (pseudo-header addresses and ports). `csum_off` 0: no transport
// checksum (a UDP packet sent without one).
inline void RewriteTcpUdp(rte_ipv4_hdr* ip, uint8_t* l4, uint16_t csum_off, bool udp,
                          const Tuple& t, bool ports) {
  const uint32_t addr_delta = Delta32(ip->src_addr, t.src_ip) + Delta32(ip->dst_addr, t.dst_ip);
  if (addr_delta != 0) {
    ip->hdr_checksum = ApplyDelta(ip->hdr_checksum, addr_delta);
    ip->src_addr = t.src_ip;
    ip->dst_addr = t.dst_ip;
  }
  uint32_t l4_delta = addr_delta;
  if (ports) {
    l4_delta += Delta16(Load16(l4), t.src_port) + Delta16(Load16(l4 + 2), t.dst_port);
    Store16(l4, t.src_port);
    Store16(l4 + 2, t.dst_port);
  }
  if (csum_off == 0 || l4_delta == 0) return;
  const uint16_t csum = ApplyDelta(Load16(l4 + csum_off), l4_delta);
  Store16(l4 + csum_off, udp && csum == 0 ? 0xffff : csum);
}

// An ordinary packet (not an ICMP error): the whole tuple.
inline void RewritePacket(rte_mbuf* pkt, PacketMeta& m, const Tuple& t) noexcept {
  auto* ip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, m.l3_offset);
  uint8_t* l4 = rte_pktmbuf_mtod_offset(pkt, uint8_t*, m.l4_offset);
  const bool ports = m.l4 == L4Status::kPorts && m.l4_proto != IPPROTO_ICMP &&
                     (t.src_port != m.src_port || t.dst_port != m.dst_port);
  switch (m.l4_proto) {
    case IPPROTO_TCP:
      RewriteTcpUdp(ip, l4, kTcpCsumOffset, false, t, ports);
      break;
    case IPPROTO_UDP: {
      const bool has_csum = Load16(l4 + kUdpCsumOffset) != 0;
      RewriteTcpUdp(ip, l4, has_csum ? kUdpCsumOffset : 0, true, t, ports);
      break;
    }
    case IPPROTO_SCTP: {
      RewriteAddresses(ip, t.src_ip, t.dst_ip, nullptr);
      if (ports) {
        RewritePorts(l4, t.src_port, t.dst_port, nullptr);
        const uint32_t end = PacketEnd(pkt, m);
        const bool whole = pkt->nb_segs == 1 && end > m.l4_offset;
        if (whole) RecomputeSctpCrc(l4, end - m.l4_offset);
      }
      break;
    }
    default:  // ICMP echo: addresses only; the ICMP checksum has no pseudo-header
      RewriteAddresses(ip, t.src_ip, t.dst_ip, nullptr);
      break;
  }
  m.dst_ip = t.dst_ip;  // src_ip stays as received: see the header
  if (ports) {
    m.src_port = t.src_port;
    m.dst_port = t.dst_port;
  }
}

// The checksum changes of a TCP or UDP packet arriving as `from` and leaving as `to`, one hop
// further: bits 0-15 the IPv4 header's (the addresses and the TTL's drop by one), bits 16-31 the
// transport checksum's (pseudo-header addresses and ports; 0: unchanged), each folded to 16 bits.
// They depend only on the two tuples, so ct_fastpath keeps them per connection and direction.
inline uint32_t NatHopDeltas(const Tuple& from, const Tuple& to) noexcept {
  constexpr uint32_t kTtlDelta = RTE_BE16(0xfeff);  // ~m + m' for the TTL's word dropping 0x0100
  const uint32_t addr = Delta32(from.src_ip, to.src_ip) + Delta32(from.dst_ip, to.dst_ip);
  const uint32_t l4 =
      addr + Delta16(from.src_port, to.src_port) + Delta16(from.dst_port, to.dst_port);
  return uint32_t{CsumFold(addr + kTtlDelta)} | uint32_t{CsumFold(l4)} << 16;
}

// ApplyDelta for a delta already folded to 16 bits: one fold suffices (the sum of two 16-bit
// values carries at most once) and gives the same result.
inline uint16_t ApplyFoldedDelta(uint16_t csum, uint32_t delta16) noexcept {
  uint32_t s = static_cast<uint16_t>(~csum) + delta16;
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

// The tuple a packet leaves with, as its bytes lie in the headers: the IPv4 source and destination
// (8 bytes from offset 12) and the transport ports (4 bytes from the header's start).
struct WireTuple {
  uint64_t addrs;
  uint32_t ports;
};

// The tuple answering key `k`, read straight from it: CtKey holds source then destination, so
// swapping each pair's halves gives destination then source (on this little-endian target).
inline WireTuple ReversedWire(const CtKey& k) noexcept {
  static_assert(offsetof(CtKey, dst_ip) == offsetof(CtKey, src_ip) + 4 &&
                offsetof(CtKey, dst_port) == offsetof(CtKey, src_port) + 2);
  WireTuple w;
  std::memcpy(&w.addrs, &k.src_ip, sizeof(w.addrs));
  std::memcpy(&w.ports, &k.src_port, sizeof(w.ports));
  w.addrs = w.addrs >> 32 | w.addrs << 32;
  w.ports = w.ports >> 16 | w.ports << 16;
  return w;
}

// A TCP or UDP packet (IPv4 header at `ip`, transport header at `l4`) leaving with tuple `w` one
// hop further, given NatHopDeltas(its tuple, w's): the bytes RewritePacket then DecrementTtl
// (core/ip4_header.h) leave. Why they are the same: one's-complement addition is associative, so
// the header's two updates (NAT, then TTL) make one; a delta folded first adds the same as
// unfolded, the fold of a non-zero sum never being 0; and neither way ends in the +0 the other
// would keep, since the TTL's change is never 0. A zero transport delta means, as in
// RewritePacket, nothing to update. The packet's meta (`m`) is left as RewritePacket leaves it
// (src_ip stays as received).
inline void RewriteWithDeltas(uint8_t* ip, uint8_t* l4, bool udp, const WireTuple& w,
                              uint32_t deltas, PacketMeta& m) noexcept {
  constexpr size_t kAddrs = offsetof(rte_ipv4_hdr, src_addr);
  static_assert(offsetof(rte_ipv4_hdr, dst_addr) == kAddrs + 4);
  std::memcpy(ip + kAddrs, &w.addrs, sizeof(w.addrs));
  --ip[offsetof(rte_ipv4_hdr, time_to_live)];
  uint8_t* ip_csum = ip + offsetof(rte_ipv4_hdr, hdr_checksum);
  Store16(ip_csum, ApplyFoldedDelta(Load16(ip_csum), deltas & 0xffff));
  std::memcpy(l4, &w.ports, sizeof(w.ports));
  uint8_t* csum_at = l4 + (udp ? kUdpCsumOffset : kTcpCsumOffset);
  const uint16_t csum = Load16(csum_at);
  const uint32_t l4_delta = deltas >> 16;
  if (l4_delta != 0 && (!udp || csum != 0)) {  // a UDP packet sent without a checksum keeps none
    const uint16_t updated = ApplyFoldedDelta(csum, l4_delta);
    Store16(csum_at, udp && updated == 0 ? 0xffff : updated);
  }
  static_assert(offsetof(PacketMeta, dst_port) == offsetof(PacketMeta, src_port) + 2);
  m.dst_ip = static_cast<uint32_t>(w.addrs >> 32);
  std::memcpy(&m.src_port, &w.ports, sizeof(w.ports));
}

inline Tuple TupleOf(const PacketMeta& m) noexcept {
  return Tuple{m.src_ip, m.dst_ip, m.src_port, m.dst_port};
}
inline Tuple TupleOf(const CtKey& k) noexcept {
  return Tuple{k.src_ip, k.dst_ip, k.src_port, k.dst_port};
}
inline bool operator==(const Tuple& a, const Tuple& b) noexcept {
  return a.src_ip == b.src_ip && a.dst_ip == b.dst_ip && a.src_port == b.src_port &&
         a.dst_port == b.dst_port;
}
// The tuple that answers `t`.
inline Tuple Reversed(const Tuple& t) noexcept {
  return Tuple{t.dst_ip, t.src_ip, t.dst_port, t.src_port};
}

// `t` after DNAT to dnat_ip:dnat_port and SNAT to snat_ip:snat_port (an address 0: no such
// translation; a port 0: the port is kept).
inline Tuple Translated(Tuple t, uint32_t dnat_ip, uint16_t dnat_port, uint32_t snat_ip,
                        uint16_t snat_port) noexcept {
  if (dnat_ip != 0) {
    t.dst_ip = dnat_ip;
    if (dnat_port != 0) t.dst_port = dnat_port;
  }
  if (snat_ip != 0) {
    t.src_ip = snat_ip;
    if (snat_port != 0) t.src_port = snat_port;
  }
  return t;
}

// The tuple a packet of connection `e` leaves with: kEstablished gets the entry's DNAT and SNAT,
// kReply (`reply`) the reverse (source back to the original destination, destination back to the
// original source). Not for ICMP errors (nat_rewrite translates those whole).
inline Tuple EstablishedTuple(const Tuple& arrived, const CtEntry& e, bool reply) noexcept {
  if (!reply) return Translated(arrived, e.dnat_ip, e.dnat_port, e.snat_ip, e.snat_port);
  Tuple t = arrived;
  if (e.dnat_ip != 0) {
    t.src_ip = e.orig_dst_ip;
    t.src_port = e.orig_dst_port;
  }
  if (e.snat_ip != 0) {
    t.dst_ip = e.orig_src_ip;
    t.dst_port = e.orig_src_port;
  }
  return t;
}

// Whether `t` changes anything in a packet described by `m`.
inline bool Changes(const PacketMeta& m, const Tuple& t) noexcept {
  return t.src_ip != m.src_ip || t.dst_ip != m.dst_ip || t.src_port != m.src_port ||
         t.dst_port != m.dst_port;
}

}  // namespace nodeplane::dp::nat
