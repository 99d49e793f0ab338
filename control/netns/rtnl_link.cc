// Link operations over rtnetlink (RTM_GETLINK / RTM_NEWLINK / RTM_SETLINK / RTM_DELLINK).
#include "control/netns/rtnl_link.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <algorithm>

#include "control/netns/errors.h"

namespace nodeplane::ctl {
namespace {

std::string LinkWhat(std::string_view verb, const LinkInfo& link) {
  return std::string(verb) + " link " + Quoted(link.name);
}

ifinfomsg IfInfo(int index) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  return ifi;
}

// Sets (`on`) or clears one IFF_* flag, leaving the others as they are.
absl::Status SetLinkFlag(nl::Socket& sock, const LinkInfo& link, uint32_t flag, bool on,
                         std::string_view what) {
  ifinfomsg ifi = IfInfo(link.index);
  ifi.ifi_change = flag;
  ifi.ifi_flags = on ? flag : 0;
  nl::Request req(RTM_SETLINK, 0, ifi);
  return sock.Exec(req, LinkWhat(what, link));
}

}  // namespace

absl::Status ValidateIfname(std::string_view name, std::string_view field) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(std::string(field) + " " + Quoted(name) + ": " +
                                      std::string(why));
  };
  if (name.empty()) return bad("empty interface name");
  if (name.size() >= IFNAMSIZ) {
    return bad("interface name longer than " + std::to_string(IFNAMSIZ - 1) + " characters");
  }
  if (name == "." || name == "..") return bad("not a valid interface name");
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || (c >= '\t' && c <= '\r')) {
      return bad("interface name contains '/', ':', NUL or whitespace");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<LinkInfo>> FindLink(nl::Socket& sock, std::string_view name) {
  nl::Request req(RTM_GETLINK, 0, IfInfo(0));
  req.AddString(IFLA_IFNAME, name);
  req.AddU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);  // we only read a few fields
  auto replies = sock.Transact(req, "looking up link " + Quoted(name));
  if (!replies.ok()) {
    if (absl::IsNotFound(replies.status())) return std::nullopt;  // ENODEV
    return replies.status();
  }
  for (const nl::Message& m : *replies) {
    if (m.type != RTM_NEWLINK) continue;
    auto ifi = m.Header<ifinfomsg>();
    if (!ifi) continue;
    nl::Attrs attrs(m.payload, sizeof(ifinfomsg));
    LinkInfo info;
    info.index = ifi->ifi_index;
    info.flags = ifi->ifi_flags;
    info.name = attrs.String(IFLA_IFNAME).value_or(std::string(name));
    info.mtu = attrs.U32(IFLA_MTU).value_or(0);
    if (auto addr = attrs.Get(IFLA_ADDRESS); addr && addr->size() == info.mac.bytes.size()) {
      std::copy(addr->begin(), addr->end(), info.mac.bytes.begin());
    }
    return info;
  }
  return absl::InternalError("looking up link " + Quoted(name) + ": kernel sent no RTM_NEWLINK");
}

absl::StatusOr<LinkInfo> GetLink(nl::Socket& sock, std::string_view name) {
  auto link = FindLink(sock, name);
  if (!link.ok()) return link.status();
  if (!link->has_value()) return absl::NotFoundError("link " + Quoted(name) + " not found");
  return **link;
}

absl::Status CreateVethPair(nl::Socket& sock, std::string_view name, std::string_view peer_name,
                            uint32_t mtu) {
  // RTM_NEWLINK name { IFLA_LINKINFO { KIND "veth", DATA { VETH_INFO_PEER { ifinfomsg, name } } } }
  nl::Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, IfInfo(0));
  req.AddString(IFLA_IFNAME, name);
  if (mtu != 0) req.AddU32(IFLA_MTU, mtu);
  const size_t linkinfo = req.BeginNest(IFLA_LINKINFO);
  req.AddString(IFLA_INFO_KIND, "veth");
  const size_t data = req.BeginNest(IFLA_INFO_DATA);
  const size_t peer = req.BeginNest(VETH_INFO_PEER);
  req.AddHeader(IfInfo(0));
  req.AddString(IFLA_IFNAME, peer_name);
  if (mtu != 0) req.AddU32(IFLA_MTU, mtu);
  req.EndNest(peer);
  req.EndNest(data);
  req.EndNest(linkinfo);
  return sock.Exec(req, "creating veth pair " + Quoted(name) + " / " + Quoted(peer_name));
}

absl::Status SetLinkMtu(nl::Socket& sock, const LinkInfo& link, uint32_t mtu) {
  nl::Request req(RTM_SETLINK, 0, IfInfo(link.index));
  req.AddU32(IFLA_MTU, mtu);
  return sock.Exec(req, LinkWhat("setting MTU " + std::to_string(mtu) + " on", link));
}

absl::Status SetLinkUp(nl::Socket& sock, const LinkInfo& link, bool up) {
  return SetLinkFlag(sock, link, IFF_UP, up, up ? "bringing up" : "bringing down");
}

absl::Status SetLinkArp(nl::Socket& sock, const LinkInfo& link, bool arp) {
  return SetLinkFlag(sock, link, IFF_NOARP, !arp, arp ? "enabling ARP on" : "disabling ARP on");
}

absl::Status MoveLink(nl::Socket& sock, const LinkInfo& link, int netns_fd,
                      std::string_view new_name) {
  nl::Request req(RTM_SETLINK, 0, IfInfo(link.index));
  req.AddU32(IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
  req.AddString(IFLA_IFNAME, new_name);
  return sock.Exec(req, LinkWhat("moving", link) + " to another netns as " + Quoted(new_name));
}

absl::Status DeleteLink(nl::Socket& sock, const LinkInfo& link) {
  nl::Request req(RTM_DELLINK, 0, IfInfo(link.index));
  return sock.Exec(req, LinkWhat("deleting", link));
}

}  // namespace nodeplane::ctl
