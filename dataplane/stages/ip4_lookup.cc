#include "dataplane/stages/ip4_lookup.h"

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

inline Edge Decide(const Snapshot& snap, PacketMeta& m, uint16_t to) noexcept {
  const PortEntry& in = snap.port(m.in_port);
  if (in.kind == PortKind::kPod) {
    if (m.src_ip != in.pod_ip) {
      m.drop = DropReason::kSourceSpoofed;
      return Edge::kDrop;
    }
    if (to == LocalRouteTable::kMiss) {
      m.drop = DropReason::kNoRoute;
      return Edge::kDrop;
    }
    m.out_port = to;
    return Edge::kNext;
  }
  // Uplink or host: we route only what is for our pods; the rest passes through untouched.
  if (to == LocalRouteTable::kMiss || snap.port(to).kind != PortKind::kPod) {
    m.punt = true;
  } else {
    m.out_port = to;
  }
  return Edge::kNext;
}

}  // namespace

void Ip4LookupStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  // Pass 1: gather the destinations of the packets this stage owns.
  uint32_t dst[kBurstMax];
  uint16_t idx[kBurstMax];
  uint16_t n = 0;
  for (uint16_t i = 0; i < b.n; ++i) {
    const PacketMeta& m = Meta(b.pkts[i]);
    out.edge[i] = Edge::kNext;
    if (m.cls == PacketClass::kIp4 && !m.punt) {
      dst[n] = m.dst_ip;
      idx[n++] = i;
    }
  }
  if (n == 0) return;
  // Pass 2: one bulk lookup.
  uint16_t to[kBurstMax];
  ctx.snap.routes.LookupBulk(dst, n, to);
  // Pass 3: decide.
  for (uint16_t j = 0; j < n; ++j) {
    out.edge[idx[j]] = Decide(ctx.snap, Meta(b.pkts[idx[j]]), to[j]);
  }
}

}  // namespace nodeplane::dp
