// Stage ip4_forward: acts on ip4_lookup's decision for routed packets — TTL, checksum, MACs.
//   TTL 0 or 1: the packet becomes an ICMP time-exceeded back out of its input port, from that
//   port's gateway address (counted as drop IP4_TTL_EXCEEDED, and icmp_time_exceeded_sent).
//   Otherwise: TTL−1 with an incremental checksum update (RFC 1624), Ethernet source = our MAC on
//   the output port, destination = the kernel interface behind it.
//   Edges:   kNext, kTx (ICMP error), kDrop (TTL expired where no error may be sent).
//   Skips:   non-IPv4 and punted packets (they pass through unchanged).
//   Never:   allocates, locks, logs, throws.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct Ip4ForwardStage {
  static constexpr std::string_view kName = "ip4_forward";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<Ip4ForwardStage>);

}  // namespace nodeplane::dp
