// Veth pairs for packet-socket pod ports: creation, silencing the host end, undo on failure.
#include "control/netns/veth.h"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "control/netns/errors.h"
#include "control/netns/netlink_socket.h"
#include "control/netns/unique_fd.h"

namespace nodeplane::ctl {
namespace {

constexpr uint32_t kMinIpv4Mtu = 68;

// Writes `value` to a /proc/sys file. /proc/sys/net shows the namespace of the thread that opens
// it, so this configures the caller's namespace.
absl::Status WriteSysctl(const std::string& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "opening " + path);
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(errno, "writing " + std::string(value) + " to " + path);
  return absl::OkStatus();
}

absl::Status DisableIpv6(const std::string& ifname) {
  struct stat st;
  if (::stat("/proc/sys/net/ipv6", &st) != 0 && errno == ENOENT) {
    return absl::OkStatus();  // a kernel without IPv6 sends nothing of it
  }
  return WriteSysctl("/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6", "1");
}

// The transmit offloads a packet socket cannot take: checksum offload (frames would arrive with
// partial checksums) and every segmentation offload but the kernel's own software GSO (frames
// would arrive up to 64 KB long). Named as in `ethtool -k`.
bool IsUnwantedTxOffload(std::string_view feature) {
  constexpr std::string_view kTx = "tx-", kSeg = "-segmentation";
  if (feature.starts_with("tx-checksum-")) return true;
  if (feature == "tx-gso-list" || feature == "tx-gso-partial") return true;
  return feature.starts_with(kTx) && feature.ends_with(kSeg) &&
         feature != "tx-generic-segmentation";
}

// Thin wrapper over the SIOCETHTOOL ioctl on one link.
class Ethtool {
 public:
  static absl::StatusOr<Ethtool> Open(const std::string& ifname) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return ErrnoStatus(errno, "socket for ethtool");
    return Ethtool(std::move(fd), ifname);
  }

  // `buf` starts with the command word; returns the ioctl's non-negative result.
  absl::StatusOr<int> Call(void* buf, std::string_view what) {
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname_.data(), ifname_.size());  // validated: < IFNAMSIZ
    ifr.ifr_data = static_cast<char*>(buf);
    const int rc = ::ioctl(fd_.get(), SIOCETHTOOL, &ifr);
    if (rc < 0) return ErrnoStatus(errno, std::string(what) + " of link " + Quoted(ifname_));
    return rc;
  }

  // The names of the link's feature bits, in bit order.
  absl::StatusOr<std::vector<std::string>> FeatureNames() {
    // ethtool_sset_info and ethtool_gstrings end in flexible arrays: build them in raw buffers.
    std::vector<uint64_t> info_buf((sizeof(ethtool_sset_info) + sizeof(uint32_t) + 7) / 8);
    ethtool_sset_info info{};
    info.cmd = ETHTOOL_GSSET_INFO;
    info.sset_mask = uint64_t{1} << ETH_SS_FEATURES;
    std::memcpy(info_buf.data(), &info, sizeof info);
    if (auto rc = Call(info_buf.data(), "reading the feature count"); !rc.ok()) return rc.status();
    std::memcpy(&info, info_buf.data(), sizeof info);
    uint32_t count = 0;
    if (info.sset_mask & (uint64_t{1} << ETH_SS_FEATURES)) {
      std::memcpy(&count, reinterpret_cast<const char*>(info_buf.data()) + sizeof info,
                  sizeof count);
    }

    std::vector<char> strings_buf(sizeof(ethtool_gstrings) + size_t{count} * ETH_GSTRING_LEN);
    ethtool_gstrings strings{};
    strings.cmd = ETHTOOL_GSTRINGS;
    strings.string_set = ETH_SS_FEATURES;
    strings.len = count;
    std::memcpy(strings_buf.data(), &strings, sizeof strings);
    if (auto rc = Call(strings_buf.data(), "reading the feature names"); !rc.ok()) {
      return rc.status();
    }
    std::vector<std::string> names;
    for (uint32_t i = 0; i < count; ++i) {
      const char* name = strings_buf.data() + sizeof strings + size_t{i} * ETH_GSTRING_LEN;
      names.emplace_back(name, ::strnlen(name, ETH_GSTRING_LEN));
    }
    return names;
  }

  // The active features, one bit per name.
  absl::StatusOr<std::vector<bool>> ActiveFeatures(size_t count) {
    const size_t blocks = (count + 31) / 32;
    std::vector<uint32_t> buf(2 + blocks * 4);  // cmd, size, then 4 words per block
    buf[0] = ETHTOOL_GFEATURES;
    buf[1] = static_cast<uint32_t>(blocks);
    if (auto rc = Call(buf.data(), "reading the features"); !rc.ok()) return rc.status();
    std::vector<bool> active(count);
    for (size_t i = 0; i < count; ++i) {
      ethtool_get_features_block block;
      std::memcpy(&block, buf.data() + 2 + (i / 32) * 4, sizeof block);
      active[i] = (block.active >> (i % 32)) & 1;
    }
    return active;
  }

  // Requests every feature in `off` turned off (the others are left alone).
  absl::Status TurnOff(const std::vector<bool>& off) {
    const size_t blocks = (off.size() + 31) / 32;
    std::vector<uint32_t> buf(2 + blocks * 2);  // cmd, size, then {valid, requested} per block
    buf[0] = ETHTOOL_SFEATURES;
    buf[1] = static_cast<uint32_t>(blocks);
    for (size_t i = 0; i < off.size(); ++i) {
      if (off[i]) buf[2 + (i / 32) * 2] |= uint32_t{1} << (i % 32);  // valid; requested stays 0
    }
    // A positive result flags bits the link cannot change; what stays on is checked after.
    return Call(buf.data(), "turning off tx offloads").status();
  }

 private:
  Ethtool(UniqueFd fd, std::string ifname) : fd_(std::move(fd)), ifname_(std::move(ifname)) {}

  UniqueFd fd_;
  std::string ifname_;
};

absl::Status DisableTxOffloads(const std::string& ifname) {
  auto ethtool = Ethtool::Open(ifname);
  if (!ethtool.ok()) return ethtool.status();
  auto names = ethtool->FeatureNames();
  if (!names.ok()) return names.status();
  std::vector<bool> unwanted(names->size());
  for (size_t i = 0; i < names->size(); ++i) unwanted[i] = IsUnwantedTxOffload((*names)[i]);
  if (absl::Status s = ethtool->TurnOff(unwanted); !s.ok()) return s;
  auto active = ethtool->ActiveFeatures(names->size());
  if (!active.ok()) return active.status();
  for (size_t i = 0; i < names->size(); ++i) {
    if (unwanted[i] && (*active)[i]) {
      return absl::FailedPreconditionError("link " + Quoted(ifname) + ": tx offload " +
                                           (*names)[i] + " cannot be turned off");
    }
  }
  return absl::OkStatus();
}

// Everything after creation; any error makes the caller delete the pair.
absl::StatusOr<VethPair> SetUpPair(nl::Socket& sock, const std::string& host_ifname,
                                   const std::string& peer_ifname) {
  auto host = GetLink(sock, host_ifname);
  if (!host.ok()) return host.status();
  auto peer = GetLink(sock, peer_ifname);
  if (!peer.ok()) return peer.status();
  // Silence first: the link is still down, so IPv6 never gets to send anything on it.
  if (absl::Status s = DisableIpv6(host_ifname); !s.ok()) return s;
  if (absl::Status s = WriteSysctl("/proc/sys/net/ipv4/conf/" + host_ifname + "/rp_filter", "1");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetLinkArp(sock, *host, false); !s.ok()) return s;
  if (absl::Status s = DisableTxOffloads(peer_ifname); !s.ok()) return s;
  if (absl::Status s = SetLinkUp(sock, *host, true); !s.ok()) return s;
  // Read both again: flags have changed, and the MACs are what callers want.
  host = GetLink(sock, host_ifname);
  if (!host.ok()) return host.status();
  peer = GetLink(sock, peer_ifname);
  if (!peer.ok()) return peer.status();
  return VethPair{*host, *peer};
}

}  // namespace

absl::StatusOr<VethPair> CreateVethPair(const std::string& host_ifname,
                                        const std::string& peer_ifname, uint32_t mtu) {
  for (absl::Status s :
       {ValidateIfname(host_ifname, "host_ifname"), ValidateIfname(peer_ifname, "peer_ifname")}) {
    if (!s.ok()) return s;
  }
  if (host_ifname == peer_ifname) {
    return absl::InvalidArgumentError("peer_ifname " + Quoted(peer_ifname) +
                                      ": same as host_ifname");
  }
  if (mtu < kMinIpv4Mtu) {
    return absl::InvalidArgumentError("mtu " + std::to_string(mtu) +
                                      ": below the IPv4 minimum of " + std::to_string(kMinIpv4Mtu));
  }
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return sock.status();
  if (absl::Status s = CreateVethPair(*sock, host_ifname, peer_ifname, mtu); !s.ok()) return s;

  auto pair = SetUpPair(*sock, host_ifname, peer_ifname);
  if (pair.ok()) return pair;
  absl::Status undo = DeleteLocalLink(host_ifname);
  const std::string undo_text =
      undo.ok() ? "pair deleted" : "could not delete the pair: " + std::string(undo.message());
  return absl::Status(pair.status().code(), "veth " + Quoted(host_ifname) + ": " +
                                                std::string(pair.status().message()) +
                                                "; undo: " + undo_text);
}

absl::Status DeleteLocalLink(const std::string& ifname) {
  if (absl::Status s = ValidateIfname(ifname, "ifname"); !s.ok()) return s;
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return sock.status();
  auto link = FindLink(*sock, ifname);
  if (!link.ok()) return link.status();
  if (!link->has_value()) return absl::OkStatus();
  absl::Status s = DeleteLink(*sock, **link);
  if (absl::IsNotFound(s)) return absl::OkStatus();  // gone since we looked
  return s;
}

}  // namespace nodeplane::ctl
