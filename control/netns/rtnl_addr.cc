// IPv4 address operations over rtnetlink (RTM_GETADDR / RTM_NEWADDR / RTM_DELADDR).
#include "control/netns/rtnl_addr.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "control/netns/errors.h"

namespace nodeplane::ctl {
namespace {

nl::Request AddrRequest(uint16_t type, uint16_t flags, const LinkInfo& link,
                        const Ip4Prefix& addr) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = addr.len;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(link.index);
  nl::Request req(type, flags, ifa);
  req.AddAttr(IFA_LOCAL, &addr.addr.be, sizeof addr.addr.be);
  req.AddAttr(IFA_ADDRESS, &addr.addr.be,
              sizeof addr.addr.be);  // same as local: not point-to-point
  return req;
}

}  // namespace

absl::StatusOr<std::vector<Ip4Prefix>> ListIpv4Addrs(nl::Socket& sock, const LinkInfo& link) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  nl::Request req(RTM_GETADDR, NLM_F_DUMP, ifa);
  auto replies = sock.Transact(req, "listing IPv4 addresses of link " + Quoted(link.name));
  if (!replies.ok()) return replies.status();
  std::vector<Ip4Prefix> out;
  for (const nl::Message& m : *replies) {
    if (m.type != RTM_NEWADDR) continue;
    auto hdr = m.Header<ifaddrmsg>();
    if (!hdr || hdr->ifa_family != AF_INET || hdr->ifa_index != static_cast<uint32_t>(link.index)) {
      continue;
    }
    nl::Attrs attrs(m.payload, sizeof(ifaddrmsg));
    auto local = attrs.U32(IFA_LOCAL);
    if (!local) local = attrs.U32(IFA_ADDRESS);
    if (!local) continue;
    out.push_back(Ip4Prefix{Ip4{*local}, hdr->ifa_prefixlen});
  }
  return out;
}

absl::Status AddIpv4Addr(nl::Socket& sock, const LinkInfo& link, const Ip4Prefix& addr) {
  return sock.Exec(AddrRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, link, addr),
                   "adding address " + addr.ToString() + " to link " + Quoted(link.name));
}

absl::Status DeleteIpv4Addr(nl::Socket& sock, const LinkInfo& link, const Ip4Prefix& addr) {
  return sock.Exec(AddrRequest(RTM_DELADDR, 0, link, addr),
                   "deleting address " + addr.ToString() + " from link " + Quoted(link.name));
}

}  // namespace nodeplane::ctl
