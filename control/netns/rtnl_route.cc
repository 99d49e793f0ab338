// IPv4 route operations over rtnetlink (RTM_NEWROUTE, RTM_DELROUTE).
#include "control/netns/rtnl_route.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

namespace nodeplane::ctl {

std::string RouteToString(const LinkInfo& link, const Ip4Route& route) {
  std::string s = route.dst.len == 0 ? "default" : route.dst.ToString();
  if (route.gateway) s += " via " + route.gateway->ToString();
  s += " dev " + link.name;
  if (!route.gateway) s += " scope link";
  if (route.mtu != 0) s += " mtu " + std::to_string(route.mtu);
  return s;
}

absl::Status ReplaceIpv4Route(nl::Socket& sock, const LinkInfo& link, const Ip4Route& route) {
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  rtm.rtm_dst_len = route.dst.len;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_STATIC;
  rtm.rtm_scope = route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm.rtm_type = RTN_UNICAST;
  nl::Request req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, rtm);
  if (route.dst.len > 0) req.AddAttr(RTA_DST, &route.dst.addr.be, sizeof route.dst.addr.be);
  if (route.gateway) req.AddAttr(RTA_GATEWAY, &route.gateway->be, sizeof route.gateway->be);
  req.AddU32(RTA_OIF, static_cast<uint32_t>(link.index));
  if (route.mtu != 0) {
    const size_t metrics = req.BeginNest(RTA_METRICS);
    req.AddU32(RTAX_MTU, route.mtu);
    req.EndNest(metrics);
  }
  return sock.Exec(req, "adding route " + RouteToString(link, route));
}

absl::Status DeleteIpv4Route(nl::Socket& sock, const LinkInfo& link, const Ip4Route& route) {
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  rtm.rtm_dst_len = route.dst.len;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_scope = RT_SCOPE_NOWHERE;  // any scope: the kernel matches on what is given
  nl::Request req(RTM_DELROUTE, 0, rtm);
  if (route.dst.len > 0) req.AddAttr(RTA_DST, &route.dst.addr.be, sizeof route.dst.addr.be);
  if (route.gateway) req.AddAttr(RTA_GATEWAY, &route.gateway->be, sizeof route.gateway->be);
  req.AddU32(RTA_OIF, static_cast<uint32_t>(link.index));
  return sock.Exec(req, "deleting route " + RouteToString(link, route));
}

}  // namespace nodeplane::ctl
