#include "dataplane/stages/host_exception.h"

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"

namespace nodeplane::dp {
namespace {

inline Edge HandleOne(StageContext& ctx, PacketMeta& m) noexcept {
  if (!m.punt) return Edge::kNext;
  const bool from_host = ctx.snap.port(m.in_port).kind == PortKind::kHost;
  const uint16_t to = from_host ? ctx.snap.uplink_port : ctx.snap.host_port;
  if (to == kNoPort) {
    m.drop = DropReason::kPortUnavailable;
    return Edge::kDrop;
  }
  m.out_port = to;
  ctx.counters.Count(from_host ? Counter::kHostToUplink : Counter::kPuntedToHost);
  return Edge::kNext;
}

}  // namespace

void HostExceptionStage::Process(StageContext& ctx, Burst& b, Verdicts& out) noexcept {
  if ((ctx.burst_has & kHasPunt) == 0) {
    PassAll(out, b.n);
    return;
  }
  for (uint16_t i = 0; i < b.n; ++i) out.edge[i] = HandleOne(ctx, Meta(b.pkts[i]));
}

}  // namespace nodeplane::dp
