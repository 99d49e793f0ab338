// nodeplanectl conntrack: the table and JSON forms of ListConntrack / FlushConntrack replies.
#pragma once
#include <string>

#include "nodeplane/v1/conntrack.pb.h"

namespace nodeplane::cli {

// PROTO, ORIGINAL (src:port -> dst:port), REPLY, STATE, EXPIRES; then a "N of M connections
// (capacity C); E expired, F flushed since start" line.
std::string FormatConntrack(const v1::ListConntrackReply& reply);
std::string FormatConntrackFlush(const v1::FlushConntrackReply& reply);

}  // namespace nodeplane::cli
