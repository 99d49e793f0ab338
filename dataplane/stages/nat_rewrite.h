// Stage nat_rewrite: applies the NAT conntrack holds (or svc_lb just decided) to the packet, with
// incremental checksum updates (RFC 1624).
//   kNew: DNAT to meta.xlate_dst_ip:xlate_dst_port, SNAT to meta.xlate_src_ip:xlate_src_port
//   (0 = unchanged). kEstablished: the entry's DNAT and SNAT. kReply: the reverse (source back to
//   the original destination, e.g. the Service VIP; destination back to the original source).
//   Checksums: IPv4 header; TCP and UDP (pseudo-header and ports; a zero UDP checksum stays zero);
//   SCTP's CRC32c does not cover addresses and is recomputed only when a port changes (when the
//   whole packet is in the first segment); ICMP echo: identifiers are not translated.
//   ICMP errors related to a connection are reverse-translated whole: the outer addresses that
//   belong to the connection, the embedded IPv4 header (addresses, checksum), the embedded ports
//   and the embedded UDP/TCP checksum when present in the quoted bytes, then the ICMP checksum
//   (recomputed over the message: errors are rare).
//   No TX checksum offload is used: the updates are a few additions.
//   Input:   packets with meta.ct_state (ct_lookup), meta.ct (ct_commit), meta.xlate_* (svc_lb).
//   Edges:   kNext.
//   Drops:   none.
//   Writes:  packet addresses, ports, checksums; meta.dst_ip (ip4_lookup routes on it), src_port,
//            dst_port. meta.src_ip keeps the source as received: ip4_lookup's anti-spoofing checks
//            who sent the packet, not what it was translated to.
//   Skips:   non-IPv4, punted and untracked (kNone) packets; packets with nothing to translate.
//   Never:   decides a translation, touches the conntrack table.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct NatRewriteStage {
  static constexpr std::string_view kName = "nat_rewrite";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<NatRewriteStage>);

}  // namespace nodeplane::dp
