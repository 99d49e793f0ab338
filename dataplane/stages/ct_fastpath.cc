#include "dataplane/stages/ct_fastpath.h"

#include <rte_ether.h>
#include <rte_ip.h>

#include "dataplane/core/ct_route.h"
#include "dataplane/core/hop_macs.h"
#include "dataplane/core/nat_apply.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/vxlan_push.h"

namespace nodeplane::dp {
namespace {

struct Sent {
  uint16_t routed = 0;
  uint16_t encapsulated = 0;
};

// ct_lookup sets meta.ct only for a packet it found (kEstablished or kReply); for TCP and UDP that
// means ports (an ICMP error quoting a connection is ICMP; a fragment is not looked up).
inline bool Candidate(const PacketMeta& m, uint32_t policy_generation) noexcept {
  return m.ct != nullptr && (m.l4_proto == IPPROTO_TCP || m.l4_proto == IPPROTO_UDP) &&
         m.ct_policy_gen == policy_generation;
}

inline Edge SendOne(const Snapshot& snap, rte_mbuf* pkt, LastRemoteNode& last,
                    Sent& sent) noexcept {
  PacketMeta& m = Meta(pkt);
  if (!Candidate(m, snap.policy_generation)) return Edge::kNext;
  const auto* e = static_cast<const CtEntry*>(m.ct);
  const bool reply = m.ct_state == CtState::kReply;
  const CtFastpathSlot& slot = snap.conntrack->Fastpath(e);
  CtRoute r;
  const uint64_t word = slot.route[reply].load(std::memory_order_acquire);
  if (!CtRouteMatch(word, CtRouteKey(snap.epoch, m.in_port, m.from_overlay), &r)) {
    return Edge::kNext;
  }
  auto* ip = rte_pktmbuf_mtod_offset(pkt, rte_ipv4_hdr*, m.l3_offset);
  if (ip->time_to_live <= 1) return Edge::kNext;
  const RemoteNodeEntry* node = nullptr;
  if (r.remote != kNoRemote) {
    node = last.Find(snap.remotes, r.remote);
    if (node == nullptr || !node->resolved ||
        rte_be_to_cpu_16(ip->total_length) + kVxlanEncapLen > snap.overlay.uplink_mtu ||
        rte_pktmbuf_headroom(pkt) < kVxlanEncapLen) {
      return Edge::kNext;
    }
  }

  // The packet leaves as the other direction's tuple reversed (ip4_forward checked that this is
  // the entry's NAT before remembering the route), with the connection's checksum deltas.
  nat::RewriteWithDeltas(pkt, m, nat::Reversed(nat::TupleOf(Conntrack::Key(e, !reply))),
                         slot.deltas[reply].load(std::memory_order_relaxed));
  auto* eth = rte_pktmbuf_mtod(pkt, rte_ether_hdr*);
  m.out_port = r.out_port;
  m.remote = r.remote;
  ++sent.routed;
  if (node == nullptr) {
    MacsToPort(eth, snap.port(r.out_port));
    return Edge::kTx;
  }
  MacsToVtep(eth, *node, snap.overlay);
  vxlan::Push(pkt, m, *node, snap.overlay.vtep_ip);  // cannot fail: the headroom was checked
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
  LastRemoteNode last;
  Sent sent;
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = SendOne(snap, b.pkts[i], last, sent);
  ctx.counters.Count(Counter::kRouted, sent.routed);
  ctx.counters.Count(Counter::kVxlanEncapsulated, sent.encapsulated);
  ctx.counters.Count(Counter::kCtFastpath, sent.routed);
}

}  // namespace nodeplane::dp
