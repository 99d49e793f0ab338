#include "dataplane/stages/svc_lb.h"

#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>

#include "dataplane/core/icmp_error.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/tcp_reset.h"
#include "dataplane/stages/svc_lb_decide.h"
#include "dataplane/tables/affinity_table.h"
#include "dataplane/tables/service_table.h"

namespace nodeplane::dp {
namespace {

constexpr uint8_t kIcmpDestUnreachable = 3;
constexpr uint8_t kIcmpPortUnreachable = 3;

inline Edge Drop(PacketMeta& m, DropReason r) noexcept {
  m.drop = r;
  return Edge::kDrop;
}

inline bool Eligible(const PacketMeta& m) noexcept {
  return !m.punt && m.cls == PacketClass::kIp4 && m.l4 == L4Status::kPorts &&
         (m.ct_state == CtState::kNew || m.ct_state == CtState::kNone) &&
         (m.l4_proto == IPPROTO_TCP || m.l4_proto == IPPROTO_UDP || m.l4_proto == IPPROTO_SCTP);
}

// The meta of a reply svc_lb built in place of the request (addresses and ports reversed; an ICMP
// error has new headers), for the stages that route it. It is no connection: conntrack, NAT and
// policy leave it alone (ct_state kNone; neither end is a pod of this node).
inline void DescribeReply(rte_mbuf* pkt, PacketMeta& m, bool tcp) noexcept {
  const uint32_t client = m.src_ip;
  m.src_ip = m.dst_ip;
  m.dst_ip = client;
  if (tcp) {
    const uint16_t client_port = m.src_port;
    m.src_port = m.dst_port;
    m.dst_port = client_port;
    m.tcp_flags = rte_pktmbuf_mtod_offset(pkt, const rte_tcp_hdr*, m.l4_offset)->tcp_flags;
  } else {
    m.l4_proto = IPPROTO_ICMP;
    m.l4_offset = static_cast<uint16_t>(m.l3_offset + sizeof(rte_ipv4_hdr));
    m.src_port = 0;  // an ICMP error has no identifier (core/l4_header.h)
    m.dst_port = 0;
    m.tcp_flags = 0;
  }
  m.ct_state = CtState::kNone;
  m.ct = nullptr;
  m.own_reply = true;
}

// No usable endpoint anywhere: refuse the client at once, as kube-proxy's REJECT does. The packet
// becomes the reply — a TCP RST, else ICMP port unreachable — from the address the client called.
// A client of this node (a pod, the host, the uplink's segment or a router on it) gets it straight
// back out of the input port, to the MAC the request came from; one behind VXLAN (a pod of another
// node calling our NodePort) gets it routed back to its node and encapsulated like any packet for
// a remote pod: ip4_lookup, ip4_forward and vxlan_encap take it from here (meta.own_reply).
inline Edge Reject(StageContext& ctx, rte_mbuf* pkt, PacketMeta& m) noexcept {
  const PortEntry& port = ctx.snap.port(m.in_port);
  const bool tcp = m.l4_proto == IPPROTO_TCP;
  const bool built =
      tcp ? MakeTcpReset(pkt, m.l3_offset, m.l4_offset, port.mac)
          : MakeIcmp4Error(pkt, m.l3_offset, kIcmpDestUnreachable, kIcmpPortUnreachable, 0,
                           IcmpErrorFrom{port.mac, m.dst_ip});
  if (!built) return Drop(m, DropReason::kSvcNoEndpoints);
  ctx.counters.Drop(DropReason::kSvcNoEndpoints);  // counted, though the packet leaves as a reply
  if (!m.from_overlay) {
    m.out_port = m.in_port;
    return Edge::kTx;
  }
  DescribeReply(pkt, m, tcp);
  return Edge::kNext;
}

inline Edge DecideOne(StageContext& ctx, rte_mbuf* pkt, const ServiceEntry& e,
                      uint32_t now_s) noexcept {
  PacketMeta& m = Meta(pkt);
  const PortEntry& port = ctx.snap.port(m.in_port);
  AffinityTable* aff = ctx.snap.affinity;
  const ServiceDecision d = DecideService(e, port.kind == PortKind::kUplink, m.src_ip, m.dst_ip,
                                          m.src_port, m.dst_port, m.l4_proto, aff, now_s);
  switch (d.outcome) {
    case ServiceDecision::Outcome::kTranslate:
      break;
    case ServiceDecision::Outcome::kReject:
      return Reject(ctx, pkt, m);
    case ServiceDecision::Outcome::kDropNoLocalEndpoint:
      return Drop(m, DropReason::kSvcNoLocalEndpoint);
    case ServiceDecision::Outcome::kDropSourceRange:
      return Drop(m, DropReason::kSvcSourceRange);
  }
  const ServiceBackend& b = e.backends[d.backend];
  if (aff != nullptr && e.affinity_timeout_s != 0) {
    aff->Record(m.src_ip, e.service_id, {b.ip_be, b.port_be, d.backend}, now_s);
  }
  m.xlate_dst_ip = b.ip_be;
  m.xlate_dst_port = b.port_be;
  if (b.ip_be == m.src_ip) {
    m.xlate_src_ip = port.gateway_ip != 0 ? port.gateway_ip : e.snat_ip_be;  // hairpin
  } else if (d.snat) {
    m.xlate_src_ip = SnatSource(e, b, ctx.snap.overlay.snat_ip, ctx.snap.overlay.vtep_ip);
  }
  return Edge::kNext;
}

}  // namespace

uint32_t ServiceFlowHash(uint32_t src_be, uint32_t dst_be, uint16_t sport_be, uint16_t dport_be,
                         uint8_t proto) noexcept {
  uint64_t x = (uint64_t{src_be} << 32 | dst_be) ^
               ((uint64_t{sport_be} << 24 | uint64_t{dport_be} << 8 | proto) * 0x9e3779b97f4a7c15ULL);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<uint32_t>(x ^ (x >> 31));
}

void SvcLbStage::Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept {
  const ServiceTable* table = ctx.snap.services;
  // Pass 1: which packets are candidates, and their keys.
  ServiceTableKey keys[kBurstMax];
  uint16_t which[kBurstMax];
  uint16_t n = 0;
  PassAll(out, burst.n);
  if (table == nullptr || table->size() == 0) return;
  for (uint16_t i = 0; i < burst.n; ++i) {
    const PacketMeta& m = Meta(burst.pkts[i]);
    if (!Eligible(m)) continue;
    // One 8-byte store: LookupBulk hashes the keys as words, which narrow stores of the fields
    // could not be forwarded to.
    const uint64_t key = uint64_t{m.dst_ip} | uint64_t{m.dst_port} << 32 |
                         uint64_t{m.l4_proto} << 48;
    std::memcpy(static_cast<void*>(&keys[n]), &key, sizeof(key));
    which[n++] = i;
  }
  if (n == 0) return;
  // Pass 2: one bulk lookup.
  const ServiceEntry* entries[kBurstMax];
  table->LookupBulk(keys, n, entries);
  // Pass 3: decide.
  const uint32_t now_s = ctx.snap.affinity != nullptr ? ctx.snap.affinity->Now() : 0;
  for (uint16_t j = 0; j < n; ++j) {
    if (entries[j] == nullptr) continue;
    out.edge[which[j]] = DecideOne(ctx, burst.pkts[which[j]], *entries[j], now_s);
  }
}

}  // namespace nodeplane::dp
