#include "dataplane/stages/ct_commit.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>

#include "dataplane/core/ct_packet.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/tables/uplink_peers.h"

namespace nodeplane::dp {
namespace {

// The n-th alternative SNAT port for a tuple: spread over 1024-65535 by the tuple's hash.
uint16_t AltPort(const CtKey& k, int n) noexcept {
  const uint32_t h = Crc32c(&k, sizeof(k), static_cast<uint32_t>(n) * 0x9e3779b9u);
  return rte_cpu_to_be_16(static_cast<uint16_t>(1024 + h % (65536 - 1024)));
}

}  // namespace

void CtCommitStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  Conntrack* ct = ctx.snap.conntrack;
  const uint32_t gen = ctx.snap.policy_generation;
  uint32_t now_ms = 0;
  bool have_now = false;  // also: `adds` is cleared
  // ct_lookup missed every kNew packet in this burst: only the burst's own adds can hold its tuple.
  CtBurstAdds adds;
  PassAll(out, b.n);
  if (ct == nullptr) return;
  for (uint16_t i = 0; i < b.n; ++i) {
    PacketMeta& m = Meta(b.pkts[i]);
    if (m.ct_state == CtState::kNone) continue;
    if (m.ct_state != CtState::kNew) {
      auto* e = static_cast<CtEntry*>(m.ct);
      if (m.policy_gen_ok && e->policy_gen.load(std::memory_order_relaxed) != gen) {
        e->policy_gen.store(gen, std::memory_order_relaxed);
      }
      continue;
    }
    const CtProto first = FirstState(m.l4_proto, m.tcp_flags);
    if (first == CtProto::kNone) continue;
    if (!have_now) {
      now_ms = ct->NowMs();
      have_now = true;
      adds.Clear();
    }
    CtKey orig;
    WritePacketKey(m, &orig);
    const uint32_t orig_hash = CtKeyHash(orig);
    const uint16_t dnat_port = m.xlate_dst_ip != 0 ? m.xlate_dst_port : 0;
    CtEntry* e = nullptr;
    Conntrack::Insert r = ct->AddNew(orig, orig_hash, m.xlate_dst_ip, dnat_port, m.xlate_src_ip,
                                     m.xlate_src_port, first, now_ms, gen, &e, adds);
    const bool may_move_port =
        m.xlate_src_ip != 0 && m.xlate_src_port == 0 && m.l4_proto != IPPROTO_ICMP;
    for (int t = 0; r == Conntrack::Insert::kCollision && may_move_port && t < kSnatPortTries;
         ++t) {
      const uint16_t port = AltPort(orig, t);
      r = ct->AddNew(orig, orig_hash, m.xlate_dst_ip, dnat_port, m.xlate_src_ip, port, first,
                     now_ms, gen, &e, adds);
      if (r == Conntrack::Insert::kOk) m.xlate_src_port = port;
    }
    switch (r) {
      case Conntrack::Insert::kOk:
        ctx.counters.Count(Counter::kCtCreated);
        m.ct = e;
        // A client outside the cluster: where its replies go back to (ip4_lookup/ip4_forward).
        if (m.in_port == ctx.snap.uplink_port && !m.from_overlay &&
            ctx.snap.uplink_peers != nullptr) {
          const auto* eth = rte_pktmbuf_mtod(b.pkts[i], const rte_ether_hdr*);
          ctx.snap.uplink_peers->Learn(m.src_ip, eth->src_addr.addr_bytes);
        }
        break;
      case Conntrack::Insert::kExists:  // an earlier packet of this burst created it
        m.ct = e;
        if (e->snat_port != 0) m.xlate_src_port = e->snat_port;
        break;
      case Conntrack::Insert::kFull:
        m.drop = DropReason::kCtTableFull;
        out.edge[i] = Edge::kDrop;
        break;
      case Conntrack::Insert::kCollision:
        m.drop = DropReason::kCtTupleCollision;
        out.edge[i] = Edge::kDrop;
        break;
    }
  }
}

}  // namespace nodeplane::dp
