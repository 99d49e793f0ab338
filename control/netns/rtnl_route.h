// IPv4 route operations over an rtnetlink socket (main table only: pods and the host use no other).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "control/netns/netlink_socket.h"
#include "control/netns/rtnl_link.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

struct Ip4Route {
  Ip4Prefix dst;               // 0.0.0.0/0 is the default route
  std::optional<Ip4> gateway;  // none: directly connected (scope link)
  uint32_t mtu = 0;            // the route's MTU metric; 0: the link's
};

// Create-or-replace `dst [via gateway] dev link` in the main table, protocol static. Scope is link
// without a gateway and universe with one, as `ip route` would choose.
absl::Status ReplaceIpv4Route(nl::Socket& sock, const LinkInfo& link, const Ip4Route& route);

// Deletes `dst [via gateway] dev link` from the main table. NotFound if there is no such route.
absl::Status DeleteIpv4Route(nl::Socket& sock, const LinkInfo& link, const Ip4Route& route);

// "default via 169.254.1.1 dev eth0", for messages.
std::string RouteToString(const LinkInfo& link, const Ip4Route& route);

}  // namespace nodeplane::ctl
