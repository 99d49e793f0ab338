#include "dataplane/stages/ct_fastpath.h"

#include <rte_ether.h>
#include <rte_ip.h>

#include <cstddef>
#include <cstring>

#include "dataplane/core/ct_route.h"
#include "dataplane/core/hop_macs.h"
#include "dataplane/core/nat_apply.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/unaligned.h"
#include "dataplane/core/vxlan_push.h"

namespace nodeplane::dp {
namespace {

struct Sent {
  uint16_t routed = 0;
  uint16_t encapsulated = 0;
  // The output ports of the packets sent: all the same when their OR equals their AND.
  uint16_t ports_or = 0;
  uint16_t ports_and = 0xffff;

  void Out(uint16_t out_port) noexcept {
    ports_or |= out_port;
    ports_and &= out_port;
  }
  uint16_t OnePort() const noexcept {
    return routed != 0 && ports_or == ports_and ? ports_or : kTxPortsMixed;
  }
};

// What every packet of the burst is checked against, read once: the packet writes below go
// through byte pointers, which may alias anything, so fields read through the snapshot after them
// would be loaded again for every packet.
struct BurstView {
  Conntrack::FastpathIndex fastpath;
  uint32_t epoch;
  uint32_t policy_generation;
  uint32_t max_inner_length;  // the largest inner IPv4 packet the uplink carries encapsulated
  uint32_t vtep_ip;
  const Snapshot* snap;
};

// ct_lookup sets meta.ct only for a packet it found (kEstablished or kReply); for TCP and UDP that
// means ports (an ICMP error quoting a connection is ICMP; a fragment is not looked up).
inline bool Candidate(const PacketMeta& m, uint32_t policy_generation) noexcept {
  return m.ct != nullptr && (m.l4_proto == IPPROTO_TCP || m.l4_proto == IPPROTO_UDP) &&
         m.ct_policy_gen == policy_generation;
}

inline Edge SendOne(const BurstView& v, rte_mbuf* pkt, LastRemoteNode& last,
                    Sent& sent) noexcept {
  PacketMeta& m = Meta(pkt);
  if (!Candidate(m, v.policy_generation)) return Edge::kNext;
  const auto* e = static_cast<const CtEntry*>(m.ct);
  const bool reply = m.ct_state == CtState::kReply;
  const CtFastpathSlot& slot = v.fastpath.Of(e);
  CtRoute r;
  const uint64_t word = slot.route[reply].load(std::memory_order_acquire);
  if (!CtRouteMatch(word, CtRouteKey(v.epoch, m.in_port, m.from_overlay), &r)) {
    return Edge::kNext;
  }
  // Everything read from the meta and the mbuf before the first write to the packet.
  uint8_t* data = rte_pktmbuf_mtod(pkt, uint8_t*);
  const uint16_t l3_offset = m.l3_offset;
  uint8_t* ip = data + l3_offset;
  uint8_t* l4 = data + m.l4_offset;
  const bool udp = m.l4_proto == IPPROTO_UDP;
  if (ip[offsetof(rte_ipv4_hdr, time_to_live)] <= 1) return Edge::kNext;
  const uint32_t ip_length = __builtin_bswap16(Load16(ip + offsetof(rte_ipv4_hdr, total_length)));
  const RemoteNodeEntry* node = nullptr;
  if (r.remote != kNoRemote) {
    node = last.Find(v.snap->remotes, r.remote);
    if (node == nullptr || !node->resolved || ip_length > v.max_inner_length ||
        rte_pktmbuf_headroom(pkt) < kVxlanEncapLen) {
      return Edge::kNext;
    }
  }

  // The packet leaves as the other direction's tuple reversed (ip4_forward checked that this is
  // the entry's NAT before remembering the route), with the connection's checksum deltas.
  const nat::WireTuple leave = nat::ReversedWire(Conntrack::Key(e, !reply));
  nat::RewriteWithDeltas(ip, l4, udp, leave, slot.deltas[reply].load(std::memory_order_relaxed),
                         m);
  // The meta as ip4_lookup leaves it.
  m.out_port = r.out_port;
  m.remote = r.remote;
  ++sent.routed;
  sent.Out(r.out_port);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  if (node == nullptr) {
    MacsToPort(eth, v.snap->port(r.out_port));
    return Edge::kTx;
  }
  // vxlan::Push, its checks made above: no trailer to trim but in rare frames, the headroom there.
  const uint32_t hash = vxlan::TrackedOuterHash(pkt, e);
  const uint32_t inner_len = l3_offset + ip_length;
  if (rte_pktmbuf_pkt_len(pkt) > inner_len) [[unlikely]] {
    rte_pktmbuf_trim(pkt, static_cast<uint16_t>(rte_pktmbuf_pkt_len(pkt) - inner_len));
  }
  pkt->data_off = static_cast<uint16_t>(pkt->data_off - kVxlanEncapLen);
  pkt->data_len = static_cast<uint16_t>(pkt->data_len + kVxlanEncapLen);
  pkt->pkt_len += kVxlanEncapLen;
  // The inner MACs as MacsToVtep writes them.
  vxlan::WriteOuterAndInnerMacs(data - kVxlanEncapLen, *node, inner_len, hash);
  vxlan::MetaToOuter(m, *node, v.vtep_ip);
  ++sent.encapsulated;
  return Edge::kTx;
}

}  // namespace

void CtFastpathStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  const Snapshot& snap = ctx.snap;
  if (snap.conntrack == nullptr || snap.epoch == 0) {
    PassAll(out, b.n);
    return;
  }
  const uint32_t mtu = snap.overlay.uplink_mtu;
  const BurstView view{snap.conntrack->fastpath_index(), snap.epoch, snap.policy_generation,
                       mtu > kVxlanEncapLen ? mtu - kVxlanEncapLen : 0, snap.overlay.vtep_ip,
                       &snap};
  LastRemoteNode last;
  Sent sent;
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = SendOne(view, b.pkts[i], last, sent);
  ctx.counters.Count(Counter::kRouted, sent.routed);
  ctx.counters.Count(Counter::kVxlanEncapsulated, sent.encapsulated);
  ctx.counters.Count(Counter::kCtFastpath, sent.routed);
  out.tx_port = sent.OnePort();
}

}  // namespace nodeplane::dp
