// Builds an ICMPv4 error (RFC 792) in place from the offending packet, addressed back to its
// sender, quoting its IP header and first 8 payload bytes (RFC 1812 §4.3.2.3 minimum). Returns
// false — send nothing — where RFC 1812 §4.3.2.7 forbids an error: about an ICMP error, about a
// non-first fragment, or to a broadcast/multicast source.
#pragma once
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

namespace nodeplane::dp {

struct IcmpErrorFrom {
  std::array<uint8_t, 6> mac;  // our MAC on the port it goes back out of
  uint32_t ip;                 // our address on that port (network order)
};

bool MakeIcmp4Error(rte_mbuf* pkt, uint16_t l3_offset, uint8_t type, uint8_t code,
                    uint32_t rest_of_header_be, const IcmpErrorFrom& from) noexcept;

}  // namespace nodeplane::dp
