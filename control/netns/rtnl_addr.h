// IPv4 interface address operations over an rtnetlink socket.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/netns/netlink_socket.h"
#include "control/netns/rtnl_link.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

// An interface address is an Ip4Prefix whose host bits are the address itself (10.0.0.1/24), so
// these are built from fields, not with Ip4Prefix::Parse (which rejects host bits).
absl::StatusOr<std::vector<Ip4Prefix>> ListIpv4Addrs(nl::Socket& sock, const LinkInfo& link);
// Create-or-replace: adding an address that is already there is not an error.
absl::Status AddIpv4Addr(nl::Socket& sock, const LinkInfo& link, const Ip4Prefix& addr);
absl::Status DeleteIpv4Addr(nl::Socket& sock, const LinkInfo& link, const Ip4Prefix& addr);

}  // namespace nodeplane::ctl
