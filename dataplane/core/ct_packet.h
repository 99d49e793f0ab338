// What conntrack reads from a packet: its tuple (or, for an ICMP error, the tuple of the packet it
// is about) and how its flags move a connection's protocol state. Shared by ct_lookup (lookups,
// state steps), ct_commit (the first state) and nat_rewrite (finding an ICMP error's embedded
// header). Pure functions on PacketMeta and the packet bytes; nothing here drops.
//
// State machines (the timeouts are CtTimeoutMs, dataplane/tables/conntrack.cc):
//   TCP (flags only, as Linux's nf_conntrack without window tracking):
//     first packet SYN (no ACK) → SYN_SENT; any other first packet but RST → ESTABLISHED (loose
//     pick-up: a connection whose entry was lost, e.g. after a restart, keeps flowing, and Maglev
//     maps it to the same backend); a first RST creates no entry.
//     SYN_SENT + reply SYN/ACK → SYN_RECV; SYN_RECV + original ACK → ESTABLISHED;
//     ESTABLISHED + FIN → FIN_WAIT (from the original side) or CLOSE_WAIT (from the reply side);
//     FIN_WAIT + reply FIN, CLOSE_WAIT + original FIN → LAST_ACK; LAST_ACK + ACK → TIME_WAIT;
//     RST in any state → CLOSE; SYN (no ACK) from the original side in TIME_WAIT or CLOSE →
//     SYN_SENT (the tuple is reused by a new connection, with the same NAT).
//   UDP: UNREPLIED until a reply is seen, then ASSURED.
//   SCTP (simplified): INIT until the reply side answers, then ESTABLISHED; a SHUTDOWN,
//     SHUTDOWN_ACK or ABORT chunk first in a packet → SHUTDOWN.
//   ICMP echo (by identifier): one state.
#pragma once
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/core/packet_meta.h"
#include "dataplane/tables/conntrack.h"

namespace nodeplane::dp {

inline constexpr uint8_t kTcpFin = RTE_TCP_FIN_FLAG;
inline constexpr uint8_t kTcpSynFlag = RTE_TCP_SYN_FLAG;
inline constexpr uint8_t kTcpRst = RTE_TCP_RST_FLAG;
inline constexpr uint8_t kTcpAckFlag = RTE_TCP_ACK_FLAG;

inline constexpr uint8_t kSctpChunkAbort = 6;
inline constexpr uint8_t kSctpChunkShutdown = 7;
inline constexpr uint8_t kSctpChunkShutdownAck = 8;

// ICMP errors conntrack relates to a connection: destination unreachable, time exceeded and
// parameter problem (RFC 792); they carry the header of the packet they are about.
inline bool IsIcmpError(uint8_t type) noexcept {
  return type == 3 /* destination unreachable */ || type == 11 /* time exceeded */ ||
         type == 12 /* parameter problem */;
}

inline bool IsIcmpEcho(uint8_t type) noexcept {
  return type == RTE_IP_ICMP_ECHO_REQUEST || type == RTE_IP_ICMP_ECHO_REPLY;
}

inline uint8_t IcmpType(const rte_mbuf* m, const PacketMeta& meta) noexcept {
  return *rte_pktmbuf_mtod_offset(m, const uint8_t*, meta.l4_offset);
}

// The packet's own tuple (meta filled by core/l4_header.h), written to `out` as two 8-byte words
// (addresses; ports and protocol, the padding zero): a key assembled field by field on the stack
// and then copied whole is read back before its narrow stores can be forwarded, a stall per
// packet.
inline void WritePacketKey(const PacketMeta& meta, CtKey* out) noexcept {
  static_assert(offsetof(PacketMeta, dst_ip) == offsetof(PacketMeta, src_ip) + 4 &&
                offsetof(PacketMeta, dst_port) == offsetof(PacketMeta, src_port) + 2);
  static_assert(offsetof(CtKey, dst_ip) == 4 && offsetof(CtKey, src_port) == 8 &&
                offsetof(CtKey, dst_port) == 10 && offsetof(CtKey, proto) == 12 &&
                sizeof(CtKey) == 16);
  uint64_t addrs;
  uint32_t ports;
  std::memcpy(&addrs, &meta.src_ip, sizeof(addrs));
  std::memcpy(&ports, &meta.src_port, sizeof(ports));
  const uint64_t rest = uint64_t{ports} | uint64_t{meta.l4_proto} << 32;
  auto* bytes = reinterpret_cast<uint8_t*>(out);
  std::memcpy(bytes, &addrs, sizeof(addrs));
  std::memcpy(bytes + 8, &rest, sizeof(rest));
}

// Where an ICMP error's embedded packet lies: its IPv4 header and its first transport bytes.
struct IcmpInner {
  uint16_t ip_offset;  // embedded IPv4 header, from the frame's start
  uint16_t l4_offset;  // embedded transport header
  uint16_t l4_len;     // embedded transport bytes present (>= 8)
};

enum class InnerStatus : uint8_t { kOk, kTruncated, kUntracked };

// For an ICMP error at meta.l4_offset: the embedded packet's tuple, swapped, which is the key of
// the connection direction the error travels in (an error about a packet A→B goes B→A).
// kTruncated: the embedded IPv4 header or its first 8 transport bytes are cut short;
// kUntracked: the embedded packet is of a protocol conntrack does not track.
inline InnerStatus IcmpErrorKey(const rte_mbuf* m, const PacketMeta& meta, CtKey* key,
                                IcmpInner* inner) noexcept {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_offset);
  const uint32_t l3_end = meta.l3_offset + rte_be_to_cpu_16(ip->total_length);
  const uint32_t end = rte_pktmbuf_data_len(m) < l3_end ? rte_pktmbuf_data_len(m) : l3_end;
  const uint32_t in_ip = meta.l4_offset + sizeof(rte_icmp_hdr);
  if (end < in_ip + sizeof(rte_ipv4_hdr)) return InnerStatus::kTruncated;
  const auto* eip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, in_ip);
  const uint32_t ihl = (eip->version_ihl & 0xf) * 4u;
  if (ihl < sizeof(rte_ipv4_hdr) || end < in_ip + ihl + 8) return InnerStatus::kTruncated;
  const uint8_t* l4 = rte_pktmbuf_mtod_offset(m, const uint8_t*, in_ip + ihl);
  uint16_t ports[2] = {0, 0};
  switch (eip->next_proto_id) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
      __builtin_memcpy(ports, l4, sizeof(ports));
      break;
    case IPPROTO_ICMP: {
      const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
      if (!IsIcmpEcho(icmp->icmp_type)) return InnerStatus::kUntracked;
      ports[0] = ports[1] = icmp->icmp_ident;
      break;
    }
    default:
      return InnerStatus::kUntracked;
  }
  *key = CtKey{eip->dst_addr, eip->src_addr, ports[1], ports[0], eip->next_proto_id, {}};
  *inner = IcmpInner{static_cast<uint16_t>(in_ip), static_cast<uint16_t>(in_ip + ihl),
                     static_cast<uint16_t>(end - (in_ip + ihl))};
  return InnerStatus::kOk;
}

// The first chunk type of an SCTP packet (0 when there is none in the bytes present).
inline uint8_t SctpFirstChunk(const rte_mbuf* m, const PacketMeta& meta) noexcept {
  const uint32_t at = meta.l4_offset + 12u;  // common header: ports, verification tag, checksum
  if (rte_pktmbuf_data_len(m) <= at) return 0;
  return *rte_pktmbuf_mtod_offset(m, const uint8_t*, at);
}

// The state a new connection starts in; kNone: create no entry (a TCP RST).
inline CtProto FirstState(uint8_t proto, uint8_t tcp_flags) noexcept {
  switch (proto) {
    case IPPROTO_TCP:
      if (tcp_flags & kTcpRst) return CtProto::kNone;
      if ((tcp_flags & (kTcpSynFlag | kTcpAckFlag)) == kTcpSynFlag) return CtProto::kTcpSynSent;
      return CtProto::kTcpEstablished;  // loose pick-up
    case IPPROTO_UDP:
      return CtProto::kUdpUnreplied;
    case IPPROTO_SCTP:
      return CtProto::kSctpInit;
    case IPPROTO_ICMP:
      return CtProto::kIcmp;
    default:
      return CtProto::kNone;
  }
}

inline CtProto NextTcpState(CtProto s, bool reply, uint8_t f) noexcept {
  if (f & kTcpRst) return CtProto::kTcpClose;
  const bool syn = (f & kTcpSynFlag) != 0;
  const bool ack = (f & kTcpAckFlag) != 0;
  const bool fin = (f & kTcpFin) != 0;
  switch (s) {
    case CtProto::kTcpSynSent:
      return reply && syn && ack ? CtProto::kTcpSynRecv : s;
    case CtProto::kTcpSynRecv:
      if (fin) return reply ? CtProto::kTcpCloseWait : CtProto::kTcpFinWait;
      return !reply && ack && !syn ? CtProto::kTcpEstablished : s;
    case CtProto::kTcpEstablished:
      if (fin) return reply ? CtProto::kTcpCloseWait : CtProto::kTcpFinWait;
      return s;
    case CtProto::kTcpFinWait:
      return reply && fin ? CtProto::kTcpLastAck : s;
    case CtProto::kTcpCloseWait:
      return !reply && fin ? CtProto::kTcpLastAck : s;
    case CtProto::kTcpLastAck:
      return ack && !fin ? CtProto::kTcpTimeWait : s;
    case CtProto::kTcpTimeWait:
    case CtProto::kTcpClose:
      return !reply && syn && !ack ? CtProto::kTcpSynSent : s;
    default:
      return s;
  }
}

// The state after a packet of an existing connection (`reply`: it travels in the reply direction).
inline CtProto NextState(CtProto s, bool reply, const rte_mbuf* m,
                         const PacketMeta& meta) noexcept {
  switch (meta.l4_proto) {
    case IPPROTO_TCP:
      return NextTcpState(s, reply, meta.tcp_flags);
    case IPPROTO_UDP:
      return reply && s == CtProto::kUdpUnreplied ? CtProto::kUdpAssured : s;
    case IPPROTO_SCTP: {
      const uint8_t chunk = SctpFirstChunk(m, meta);
      if (chunk == kSctpChunkShutdown || chunk == kSctpChunkShutdownAck || chunk == kSctpChunkAbort)
        return CtProto::kSctpShutdown;
      return reply && s == CtProto::kSctpInit ? CtProto::kSctpEstablished : s;
    }
    default:
      return s;
  }
}

}  // namespace nodeplane::dp
