#include "dataplane/stages/policy.h"

#include <rte_byteorder.h>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoSctp = 132;

inline PolicyProto ProtoOf(uint8_t l4_proto) noexcept {
  switch (l4_proto) {
    case kIpProtoTcp:
      return PolicyProto::kTcp;
    case kIpProtoUdp:
      return PolicyProto::kUdp;
    case kIpProtoSctp:
      return PolicyProto::kSctp;
    default:
      return PolicyProto::kOther;
  }
}

// One connection to judge, in its original direction.
struct Conn {
  uint32_t src;   // network order
  uint32_t dst;   // network order, after DNAT
  uint16_t port;  // destination port, host order
  PolicyProto proto;
  bool truncated;
  bool from_host;
};

inline Conn ConnOf(const Snapshot& snap, const PacketMeta& m) noexcept {
  Conn c;
  c.proto = ProtoOf(m.l4_proto);
  c.truncated = c.proto != PolicyProto::kOther && m.l4 == L4Status::kTruncated;
  const bool ports = c.proto != PolicyProto::kOther && m.l4 == L4Status::kPorts;
  if (m.ct_state == CtState::kReply) {
    c.src = m.dst_ip;
    c.dst = m.src_ip;
    c.port = ports ? rte_be_to_cpu_16(m.src_port) : 0;
    c.from_host = false;
  } else {
    c.src = m.src_ip;
    c.dst = m.xlate_dst_ip != 0 ? m.xlate_dst_ip : m.dst_ip;
    const uint16_t port_be = m.xlate_dst_port != 0 ? m.xlate_dst_port : m.dst_port;
    c.port = ports ? rte_be_to_cpu_16(port_be) : 0;
    c.from_host = snap.port(m.in_port).kind == PortKind::kHost;
  }
  return c;
}

inline bool Established(const Snapshot& snap, const PacketMeta& m) noexcept {
  return (m.ct_state == CtState::kEstablished || m.ct_state == CtState::kReply) &&
         m.ct_policy_gen == snap.policy_generation;
}

}  // namespace

void PolicyStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  const Snapshot& snap = ctx.snap;
  const PolicyTable& table = snap.policy;
  PassAll(out, b.n);
  if (!table.active()) return;

  // Pass 1: the connections to judge, and the distinct addresses at their ends. A burst from one
  // pod's queue has one source, and bursts come in flows: remembering the last address of each
  // end keeps the lookup short without a search.
  Conn conn[kBurstMax];
  uint16_t idx[kBurstMax];
  uint8_t src_at[kBurstMax], dst_at[kBurstMax];  // index into addr/host
  uint32_t addr[2 * kBurstMax];
  uint16_t n = 0, na = 0;
  for (uint16_t i = 0; i < b.n; ++i) {
    const PacketMeta& m = Meta(b.pkts[i]);
    if (m.cls != PacketClass::kIp4 || m.punt || Established(snap, m)) continue;
    conn[n] = ConnOf(snap, m);
    if (n > 0 && addr[src_at[n - 1]] == conn[n].src) {
      src_at[n] = src_at[n - 1];
    } else {
      addr[na] = conn[n].src;
      src_at[n] = static_cast<uint8_t>(na++);
    }
    if (n > 0 && addr[dst_at[n - 1]] == conn[n].dst) {
      dst_at[n] = dst_at[n - 1];
    } else {
      addr[na] = conn[n].dst;
      dst_at[n] = static_cast<uint8_t>(na++);
    }
    idx[n++] = i;
  }
  if (n == 0) return;

  // Pass 2: identities and allow-sets of the addresses (bulk lookups hold at most 64 keys).
  PolicyTable::Host host[2 * kBurstMax];
  for (uint16_t at = 0; at < na; at += kBurstMax) {
    const uint16_t len = static_cast<uint16_t>(na - at < kBurstMax ? na - at : kBurstMax);
    table.LookupHosts(addr + at, len, host + at);
  }

  // Pass 3: the questions to ask — egress of the source, ingress of the destination.
  PolicyTable::Query q[2 * kBurstMax];
  uint16_t q_conn[2 * kBurstMax];
  PolicyDirection q_dir[2 * kBurstMax];
  uint16_t nq = 0;
  bool truncated_drop[kBurstMax] = {};
  for (uint16_t j = 0; j < n; ++j) {
    const Conn& c = conn[j];
    const PolicyTable::Host& src = host[src_at[j]];
    const PolicyTable::Host& dst = host[dst_at[j]];
    if (c.src == c.dst) continue;  // a pod cannot block access to itself
    const bool egress = src.egress_set != kNoPolicySet;
    const bool ingress = dst.ingress_set != kNoPolicySet && src.node == 0 && !c.from_host;
    if ((egress || ingress) && c.truncated) {
      truncated_drop[j] = true;
      continue;
    }
    if (egress) {
      q[nq] = {src.egress_set, dst.identity, c.proto, c.port};
      q_conn[nq] = j;
      q_dir[nq++] = PolicyDirection::kEgress;
    }
    if (ingress) {
      q[nq] = {dst.ingress_set, src.identity, c.proto, c.port};
      q_conn[nq] = j;
      q_dir[nq++] = PolicyDirection::kIngress;
    }
  }

  // Pass 4: one bulk allow lookup; egress decides first, as the source's node would.
  bool allowed[2 * kBurstMax];
  for (uint16_t at = 0; at < nq; at += kBurstMax) {
    const uint16_t len = static_cast<uint16_t>(nq - at < kBurstMax ? nq - at : kBurstMax);
    table.Allowed(q + at, len, allowed + at);
  }
  bool denied[kBurstMax] = {};
  for (uint16_t k = 0; k < nq; ++k) {
    const uint16_t j = q_conn[k];
    if (allowed[k] || denied[j]) continue;
    denied[j] = true;
    PacketMeta& m = Meta(b.pkts[idx[j]]);
    m.drop = q_dir[k] == PolicyDirection::kEgress ? DropReason::kPolicyDenyEgress
                                                  : DropReason::kPolicyDenyIngress;
    out.edge[idx[j]] = Edge::kDrop;
    ctx.counters.policy_denies.Record(PolicyDeny{conn[j].src, conn[j].dst, conn[j].port,
                                                 m.l4_proto, q_dir[k]});
  }
  for (uint16_t j = 0; j < n; ++j) {
    PacketMeta& m = Meta(b.pkts[idx[j]]);
    if (truncated_drop[j]) {
      m.drop = DropReason::kL4Truncated;
      out.edge[idx[j]] = Edge::kDrop;
    } else if (!denied[j]) {
      m.policy_gen_ok = true;
    }
  }
}

}  // namespace nodeplane::dp
