#include "dataplane/stages/ct_lookup.h"

#include "dataplane/core/ct_packet.h"
#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

}  // namespace

void CtLookupStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  Conntrack* ct = ctx.snap.conntrack;
  CtKey keys[kBurstMax];
  uint16_t at[kBurstMax];  // burst index of each key
  uint64_t related = 0;    // keys (by index) quoted by an ICMP error, not the packet's own
  uint16_t n = 0;

  // eth_parse left every packet's ct_state kNone, ct nullptr and ct_policy_gen 0: without a table
  // nothing more is tracked, and the loop below only sets what it finds.
  if (ct == nullptr) {
    PassAll(out, b.n);
    return;
  }
  PassAll(out, b.n);
  for (uint16_t i = 0; i < b.n; ++i) {
    PacketMeta& m = Meta(b.pkts[i]);
    // The usual packet: TCP, UDP or SCTP with its ports.
    if (!m.punt && m.cls == PacketClass::kIp4 && m.l4 == L4Status::kPorts &&
        m.l4_proto != IPPROTO_ICMP) [[likely]] {
      WritePacketKey(m, &keys[n]);
      at[n++] = i;
      continue;
    }
    if (m.punt || m.cls != PacketClass::kIp4) continue;
    const bool tracked = m.l4_proto == IPPROTO_TCP || m.l4_proto == IPPROTO_UDP ||
                         m.l4_proto == IPPROTO_SCTP || m.l4_proto == IPPROTO_ICMP;
    if (!tracked || m.l4 == L4Status::kFragment) continue;
    if (m.l4 == L4Status::kTruncated) {
      m.drop = DropReason::kL4Truncated;
      out.edge[i] = Edge::kDrop;
      continue;
    }
    if (m.l4_proto == IPPROTO_ICMP) {
      const uint8_t type = IcmpType(b.pkts[i], m);
      if (IsIcmpError(type)) {
        IcmpInner inner;
        const InnerStatus st = IcmpErrorKey(b.pkts[i], m, &keys[n], &inner);
        if (st == InnerStatus::kTruncated) {
          m.drop = DropReason::kL4Truncated;
          out.edge[i] = Edge::kDrop;
          continue;
        }
        if (st == InnerStatus::kUntracked) {
          m.drop = DropReason::kCtIcmpUnrelated;
          out.edge[i] = Edge::kDrop;
          continue;
        }
        related |= uint64_t{1} << n;
        at[n++] = i;
        continue;
      }
      if (!IsIcmpEcho(type)) continue;
    }
    WritePacketKey(m, &keys[n]);
    at[n++] = i;
  }
  if (n == 0) return;

  // Pass 2: one bulk lookup.
  uint64_t hits = 0;
  CtEntry* entry[kBurstMax];
  bool reply[kBurstMax];
  ct->LookupBulk(keys, n, &hits, entry, reply);

  // Pass 3: where each packet stands; existing connections step their state and time.
  const uint32_t now = Conntrack::Tick(ct->NowMs());
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = at[k];
    rte_mbuf* pkt = b.pkts[i];
    PacketMeta& m = Meta(pkt);
    if (((hits >> k) & 1) == 0) {
      if (((related >> k) & 1) != 0) {
        // From a pod (here or across the overlay): invalid. From the uplink or the host: maybe
        // about the host kernel's own traffic from before this process started; it passes
        // untracked (the host kernel judges it; ip4_lookup delivers nothing else to pods).
        if (m.from_overlay || ctx.snap.port(m.in_port).kind == PortKind::kPod) {
          m.drop = DropReason::kCtIcmpUnrelated;
          out.edge[i] = Edge::kDrop;
        }
      } else {
        m.ct_state = CtState::kNew;
      }
      continue;
    }
    CtEntry* e = entry[k];
    const uint32_t seen = e->seen.load(std::memory_order_relaxed);
    const auto state = static_cast<CtProto>(seen & 0xff);
    if (state == CtProto::kDying) {
      m.drop = DropReason::kCtTableFull;
      out.edge[i] = Edge::kDrop;
      continue;
    }
    m.ct_state = reply[k] ? CtState::kReply : CtState::kEstablished;
    m.ct = e;
    m.ct_policy_gen = e->policy_gen.load(std::memory_order_relaxed);
    if (((related >> k) & 1) != 0) continue;
    const uint32_t next = CtEntry::Seen(NextState(state, reply[k], pkt, m), now);
    if (next != seen) e->seen.store(next, std::memory_order_relaxed);
  }
}

}  // namespace nodeplane::dp
