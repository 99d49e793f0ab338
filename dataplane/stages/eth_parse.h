// Stage eth_parse: validates the Ethernet and IPv4 headers and fills PacketMeta.
//   Input:   raw received frames (headers in the first segment).
//   Edges:   kNext (ARP, IPv4, or not ours → meta.punt); kDrop.
//   Drops:   ETH_TRUNCATED, ETH_OTHER_HOST (uplink unicast to another MAC), PORT_UNAVAILABLE
//            (port not in the snapshot), ETHERTYPE_UNSUPPORTED (from a pod), IP4_TRUNCATED,
//            IP4_BAD_VERSION, IP4_BAD_IHL, IP4_BAD_TOTAL_LENGTH, IP4_BAD_CHECKSUM.
//   Writes:  meta.{in_port, cls, l3_offset, src_ip, dst_ip, punt}, the transport fields
//            (core/l4_header.h); clears meta.{remote, from_overlay} and the conntrack/NAT fields. The IPv4 checks are core/ip4_header.h's, shared with vxlan_decap.
//   Never:   allocates, locks, logs, throws.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct EthParseStage {
  static constexpr std::string_view kName = "eth_parse";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<EthParseStage>);

}  // namespace nodeplane::dp
