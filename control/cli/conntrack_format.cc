#include "control/cli/conntrack_format.h"

#include "control/cli/table.h"

namespace nodeplane::cli {
namespace {

std::string Proto(v1::ConntrackProtocol p) {
  switch (p) {
    case v1::CONNTRACK_PROTOCOL_TCP:
      return "tcp";
    case v1::CONNTRACK_PROTOCOL_UDP:
      return "udp";
    case v1::CONNTRACK_PROTOCOL_SCTP:
      return "sctp";
    case v1::CONNTRACK_PROTOCOL_ICMP:
      return "icmp";
    default:
      return "-";
  }
}

std::string Tuple(const v1::ConntrackTuple& t) {
  return t.source() + ":" + std::to_string(t.source_port()) + " -> " + t.destination() + ":" +
         std::to_string(t.destination_port());
}

std::string Seconds(uint64_t ms) { return std::to_string((ms + 999) / 1000) + "s"; }

}  // namespace

std::string FormatConntrack(const v1::ListConntrackReply& reply) {
  Table table({{"PROTO"}, {"ORIGINAL"}, {"REPLY"}, {"STATE"}, {"EXPIRES", Table::Align::kRight}});
  for (const auto& c : reply.connections()) {
    table.AddRow({Proto(c.protocol()), Tuple(c.original()), Tuple(c.reply()), c.state(),
                  Seconds(c.expires_in_ms())});
  }
  return table.Render() + std::to_string(reply.connections_size()) + " of " +
         std::to_string(reply.total()) + " connections (capacity " +
         std::to_string(reply.capacity()) + "); " + std::to_string(reply.expired()) + " expired, " +
         std::to_string(reply.flushed()) + " flushed since start\n";
}

std::string FormatConntrackFlush(const v1::FlushConntrackReply& reply) {
  return "removed " + std::to_string(reply.removed()) + " connection" +
         (reply.removed() == 1 ? "" : "s") + "\n";
}

}  // namespace nodeplane::cli
