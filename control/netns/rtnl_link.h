// Link (network interface) operations over rtnetlink: look up, create a veth pair, MTU, up/down,
// ARP on/off, move, delete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/netns/netlink_socket.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

// What we need to know about a link, as seen from the socket's namespace. Operations take it
// whole: the index addresses the link, the name goes into error messages.
struct LinkInfo {
  int index = 0;
  std::string name;
  uint32_t mtu = 0;
  uint32_t flags = 0;  // IFF_*
  Mac mac;             // IFLA_ADDRESS; all zero if the link has no 6-byte hardware address
};

// Checks what the kernel's dev_valid_name() checks, so a bad name is InvalidArgument naming
// `field` before anything is touched.
absl::Status ValidateIfname(std::string_view name, std::string_view field);

// nullopt if there is no link of that name in the socket's namespace.
absl::StatusOr<std::optional<LinkInfo>> FindLink(nl::Socket& sock, std::string_view name);
// NotFound `link "name" not found` if missing.
absl::StatusOr<LinkInfo> GetLink(nl::Socket& sock, std::string_view name);

// Creates a veth pair, both ends in the socket's namespace and down: `name` and its peer
// `peer_name`, both with MTU `mtu` (0: the kernel's default). AlreadyExists if a name is taken.
absl::Status CreateVethPair(nl::Socket& sock, std::string_view name, std::string_view peer_name,
                            uint32_t mtu);

absl::Status SetLinkMtu(nl::Socket& sock, const LinkInfo& link, uint32_t mtu);
absl::Status SetLinkUp(nl::Socket& sock, const LinkInfo& link, bool up);
// Clears or sets IFF_NOARP: with it set the kernel neither answers nor sends ARP on the link.
absl::Status SetLinkArp(nl::Socket& sock, const LinkInfo& link, bool arp);
// Moves the link into the namespace `netns_fd` and names it `new_name` there, in one request, so a
// name clash fails before the link has left (the kernel renames during the move).
absl::Status MoveLink(nl::Socket& sock, const LinkInfo& link, int netns_fd,
                      std::string_view new_name);
absl::Status DeleteLink(nl::Socket& sock, const LinkInfo& link);

}  // namespace nodeplane::ctl
