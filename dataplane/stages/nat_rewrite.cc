#include "dataplane/stages/nat_rewrite.h"

#include <rte_ip.h>
#include <rte_sctp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/core/ct_packet.h"
#include "dataplane/core/nat_apply.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

using namespace nat;  // the rewrite itself (core/nat_apply.h)

// An ICMP error about a packet of connection `e`, travelling in the reply direction (towards the
// original sender: `reply`) or the original one. The embedded packet went the other way.
void RewriteIcmpError(rte_mbuf* pkt, PacketMeta& m, const CtEntry& e, bool reply) {
  CtKey unused;
  IcmpInner in;
  if (IcmpErrorKey(pkt, m, &unused, &in) != InnerStatus::kOk) return;  // ct_lookup checked
  auto* ip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, m.l3_offset);
  auto* eip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, in.ip_offset);
  uint8_t* el4 = rte_pktmbuf_mtod_offset(pkt, uint8_t*, in.l4_offset);
  const uint8_t proto = eip->next_proto_id;
  const bool ports = proto != IPPROTO_ICMP;

  Tuple inner{eip->src_addr, eip->dst_addr, Load16(el4), Load16(el4 + 2)};
  uint32_t outer_src = ip->src_addr;
  uint32_t outer_dst = ip->dst_addr;
  if (reply) {
    // Embedded: an original-direction packet after NAT → as the original sender sent it.
    if (e.snat_ip != 0) {
      inner.src_ip = e.orig_src_ip;
      if (ports) inner.src_port = e.orig_src_port;
      if (outer_dst == e.snat_ip) outer_dst = e.orig_src_ip;
    }
    if (e.dnat_ip != 0) {
      inner.dst_ip = e.orig_dst_ip;
      if (ports) inner.dst_port = e.orig_dst_port;
      if (outer_src == e.dnat_ip) outer_src = e.orig_dst_ip;  // from the backend itself
    }
  } else {
    // Embedded: a reply after reverse NAT → as the backend sent it.
    if (e.dnat_ip != 0) {
      inner.src_ip = e.dnat_ip;
      if (ports && e.dnat_port != 0) inner.src_port = e.dnat_port;
      if (outer_dst == e.orig_dst_ip) outer_dst = e.dnat_ip;
    }
    if (e.snat_ip != 0) {
      inner.dst_ip = e.snat_ip;
      if (ports && e.snat_port != 0) inner.dst_port = e.snat_port;
      if (outer_src == e.orig_src_ip) outer_src = e.snat_ip;
    }
  }

  // The embedded transport checksum, when the quoted bytes hold it.
  uint16_t csum_off = 0;
  if (proto == IPPROTO_UDP) csum_off = kUdpCsumOffset;
  if (proto == IPPROTO_TCP && in.l4_len >= kTcpCsumOffset + 2) csum_off = kTcpCsumOffset;
  uint16_t csum = csum_off != 0 ? Load16(el4 + csum_off) : 0;
  const bool has_csum = csum_off != 0 && !(proto == IPPROTO_UDP && csum == 0);
  RewriteAddresses(eip, inner.src_ip, inner.dst_ip, has_csum ? &csum : nullptr);
  if (ports) RewritePorts(el4, inner.src_port, inner.dst_port, has_csum ? &csum : nullptr);
  if (has_csum) Store16(el4 + csum_off, proto == IPPROTO_UDP && csum == 0 ? 0xffff : csum);

  RewriteAddresses(ip, outer_src, outer_dst, nullptr);
  auto* icmp = rte_pktmbuf_mtod_offset(pkt, rte_icmp_hdr*, m.l4_offset);
  icmp->icmp_cksum = 0;
  const uint32_t end = PacketEnd(pkt, m);
  icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, end - m.l4_offset));
  m.dst_ip = outer_dst;
}

}  // namespace

void NatRewriteStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  PassAll(out, b.n);
  // Translations live in conntrack entries: without a table there is nothing to rewrite.
  if (ctx.snap.conntrack == nullptr) return;
  for (uint16_t i = 0; i < b.n; ++i) {
    rte_mbuf* pkt = b.pkts[i];
    PacketMeta& m = Meta(pkt);
    if (m.punt || m.cls != PacketClass::kIp4 || m.ct_state == CtState::kNone) continue;
    Tuple t = TupleOf(m);
    if (m.ct_state == CtState::kNew) {
      t = Translated(t, m.xlate_dst_ip, m.xlate_dst_port, m.xlate_src_ip, m.xlate_src_port);
    } else {
      const auto& e = *static_cast<const CtEntry*>(m.ct);
      if (e.dnat_ip == 0 && e.snat_ip == 0) continue;
      const bool reply = m.ct_state == CtState::kReply;
      if (m.l4_proto == IPPROTO_ICMP && IsIcmpError(IcmpType(pkt, m))) {
        RewriteIcmpError(pkt, m, e, reply);
        continue;
      }
      t = EstablishedTuple(TupleOf(m), e, reply);
    }
    if (!Changes(m, t)) continue;
    RewritePacket(pkt, m, t);
  }
}

}  // namespace nodeplane::dp
