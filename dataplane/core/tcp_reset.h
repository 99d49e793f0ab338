// Turns a TCP segment into the RST that refuses it (RFC 9293 §3.10.7.1, "CLOSED" state), in place,
// addressed back to its sender from the address and port it was sent to: if the segment carried
// an ACK, the RST has SEQ = its ACK number and no ACK; otherwise SEQ 0, ACK = its SEQ plus its
// length (SYN and FIN count one each). Returns false — send nothing — for a segment that is itself
// a RST, or a multi-segment mbuf.
#pragma once
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

namespace nodeplane::dp {

bool MakeTcpReset(rte_mbuf* pkt, uint16_t l3_offset, uint16_t l4_offset,
                  const std::array<uint8_t, 6>& our_mac) noexcept;

}  // namespace nodeplane::dp
