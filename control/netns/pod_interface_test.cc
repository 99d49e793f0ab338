// End-to-end tests of pod/host interface wiring against real network namespaces (root, iproute2).
#include "control/netns/pod_interface.h"

#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "control/netns/veth.h"

namespace nodeplane::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct CmdResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

CmdResult Shell(const std::string& cmd) {
  CmdResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Ip4 Ip(const char* text) { return *Ip4::Parse(text); }
Ip4Prefix Addr(const char* ip, uint8_t len) { return Ip4Prefix{Ip(ip), len}; }

ino_t ThreadNetnsInode() {
  struct stat st {};
  ::stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

// Namespaces of test processes that died before their TearDown ran (nptest-<pid>-*).
void ReapStaleNamespaces() {
  DIR* dir = ::opendir("/run/netns");
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(dir)) {
    int pid = 0;
    if (std::sscanf(e->d_name, "nptest-%d-", &pid) != 1 || pid <= 0) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(e->d_name);
  }
  ::closedir(dir);
  for (const std::string& ns : stale) Shell("ip netns del " + ns);
}

// Each test gets two fresh namespaces: "host" stands for nodeplaned's own namespace (the test
// thread joins it, so links it creates never mix with the machine's) and "pod" is the target.
class PodInterfaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (Shell("ip -V").exit_code != 0) GTEST_SKIP() << "needs iproute2";
    ReapStaleNamespaces();
    prefix_ = "nptest-" + std::to_string(::getpid());
    host_ = AddNetns("host");
    pod_ = AddNetns("pod");
    original_ns_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(original_ns_, 0);
    const int fd = ::open(Path(host_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::setns(fd, CLONE_NEWNET), 0) << std::strerror(errno);
    ::close(fd);
    entered_ = true;
  }

  void TearDown() override {
    if (entered_) {
      EXPECT_EQ(::setns(original_ns_, CLONE_NEWNET), 0);
    }
    if (original_ns_ >= 0) ::close(original_ns_);
    for (const std::string& ns : created_) Shell("ip netns del " + ns);
  }

  std::string AddNetns(const std::string& suffix) {
    const std::string name = prefix_ + "-" + suffix;
    Shell("ip netns del " + name);  // left by an earlier test of this process that crashed midway
    const CmdResult r = Shell("ip netns add " + name);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    created_.push_back(name);
    return name;
  }

  static std::string Path(const std::string& ns) { return "/run/netns/" + ns; }

  // `ip -n NS ARGS`, expected to succeed.
  static std::string IpCmd(const std::string& ns, const std::string& args) {
    const std::string cmd = "ip -n " + ns + " " + args;
    const CmdResult r = Shell(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.out;
    return r.out;
  }

  // The stand-in for a tap (this kernel has no dummy links): one end of a veth pair, the peer
  // ("NAME-p") staying behind.
  static void AddVeth(const std::string& ns, const std::string& name,
                      const std::string& opts = "") {
    IpCmd(ns, "link add " + name + " " + opts + " type veth peer name " + name + "-p");
  }

  static bool HasLink(const std::string& ns, const std::string& dev) {
    return Shell("ip -n " + ns + " link show dev " + dev).exit_code == 0;
  }

  // The <FLAGS> of `ip link show`, e.g. {"BROADCAST", "NOARP", "UP", "LOWER_UP"}.
  static std::set<std::string> LinkFlags(const std::string& ns, const std::string& dev) {
    const std::string out = IpCmd(ns, "-o link show dev " + dev);
    const size_t open = out.find('<'), close = out.find('>');
    std::set<std::string> flags;
    if (open == std::string::npos || close == std::string::npos) return flags;
    std::stringstream ss(out.substr(open + 1, close - open - 1));
    for (std::string f; std::getline(ss, f, ',');) flags.insert(f);
    return flags;
  }

  static bool IsUp(const std::string& ns, const std::string& dev) {
    return LinkFlags(ns, dev).count("UP") == 1;
  }

  // The link's MAC as iproute2 prints it ("link/ether 02:00:00:00:00:01 brd ...").
  static std::string LinkMac(const std::string& ns, const std::string& dev) {
    const std::string out = IpCmd(ns, "-o link show dev " + dev);
    const std::string tag = "link/ether ";
    const size_t at = out.find(tag);
    return at == std::string::npos ? "" : out.substr(at + tag.size(), 17);
  }

  static std::string Sysctl(const std::string& ns, const std::string& path) {
    const CmdResult r = Shell("ip netns exec " + ns + " cat /proc/sys/net/" + path);
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.out;
    return r.out.substr(0, r.out.find('\n'));
  }

  // `ethtool -k` lines that say a transmit checksum or segmentation offload is on, except
  // software GSO. Empty if ethtool is missing (checked separately).
  static std::vector<std::string> TxOffloadsOn(const std::string& ns, const std::string& dev) {
    const CmdResult r = Shell("ip netns exec " + ns + " ethtool -k " + dev);
    std::vector<std::string> on;
    std::stringstream ss(r.out);
    for (std::string line; std::getline(ss, line);) {
      line.erase(0, line.find_first_not_of(" \t"));
      const bool offload =
          line.starts_with("tx-checksum-") ||
          (line.starts_with("tx-") && line.find("-segmentation:") != std::string::npos &&
           !line.starts_with("tx-generic-segmentation:"));
      if (offload && line.find(": on") != std::string::npos) on.push_back(line);
    }
    return on;
  }

  static bool HaveEthtool() { return Shell("ethtool --version").exit_code == 0; }

  PodInterfaceConfig PodConfig(const std::string& host_ifname) const {
    PodInterfaceConfig cfg;
    cfg.host_ifname = host_ifname;
    cfg.netns_path = Path(pod_);
    cfg.mtu = 1400;
    cfg.addrs = {Ip("10.244.1.5"), Ip("10.244.1.6")};
    cfg.gateway = Ip("169.254.1.1");
    return cfg;
  }

  // What ConfigurePodInterface promises, checked with iproute2 rather than our own netlink code.
  void ExpectPodWired(const std::string& ns, uint32_t mtu) {
    EXPECT_TRUE(HasLink(ns, "eth0"));
    EXPECT_THAT(IpCmd(ns, "-o link show dev eth0"), HasSubstr(" mtu " + std::to_string(mtu) + " "));
    EXPECT_TRUE(IsUp(ns, "eth0"));
    EXPECT_TRUE(IsUp(ns, "lo"));
    const std::string addrs = IpCmd(ns, "-o -4 addr show dev eth0");
    EXPECT_THAT(addrs, HasSubstr("inet 10.244.1.5/32 "));
    EXPECT_THAT(addrs, HasSubstr("inet 10.244.1.6/32 "));
    const std::string routes = IpCmd(ns, "-4 route show");
    EXPECT_THAT(routes, HasSubstr("default via 169.254.1.1 dev eth0 "));
    EXPECT_THAT(routes, HasSubstr("169.254.1.1 dev eth0 proto static scope link"));
    // The routed model end to end: the kernel sends everything to the gateway from our address.
    EXPECT_THAT(IpCmd(ns, "route get 10.96.0.10"),
                HasSubstr("10.96.0.10 via 169.254.1.1 dev eth0 src 10.244.1.5"));
  }

  std::string prefix_;
  std::string host_;
  std::string pod_;
  std::vector<std::string> created_;
  int original_ns_ = -1;
  bool entered_ = false;
};

TEST_F(PodInterfaceTest, MovesRenamesAndConfiguresALink) {
  AddVeth(host_, "nptap0");
  const ino_t before = ThreadNetnsInode();

  ASSERT_TRUE(ConfigurePodInterface(PodConfig("nptap0")).ok());

  EXPECT_EQ(ThreadNetnsInode(), before) << "the calling thread must never change namespace";
  EXPECT_FALSE(HasLink(host_, "nptap0"));
  ExpectPodWired(pod_, 1400);
}

TEST_F(PodInterfaceTest, MovesATapDevice) {
  IpCmd(host_, "tuntap add dev nptap0 mode tap");
  IpCmd(host_, "link set nptap0 up");

  const absl::Status s = ConfigurePodInterface(PodConfig("nptap0"));
  ASSERT_TRUE(s.ok()) << s;

  EXPECT_FALSE(HasLink(host_, "nptap0"));
  ExpectPodWired(pod_, 1400);
}

TEST_F(PodInterfaceTest, AcceptsAProcPidNamespacePath) {
  AddVeth(host_, "nptap0");
  // A thread parked in the pod namespace stands for the pod's process: /proc/PID/task/TID/ns/net.
  std::promise<pid_t> tid;
  std::promise<void> release;
  std::thread holder([&, pod = Path(pod_)] {
    const int fd = ::open(pod.c_str(), O_RDONLY | O_CLOEXEC);
    ::setns(fd, CLONE_NEWNET);
    ::close(fd);
    tid.set_value(::gettid());
    release.get_future().wait();
  });
  struct Join {
    std::promise<void>& release;
    std::thread& t;
    ~Join() {
      release.set_value();
      t.join();
    }
  } join{release, holder};

  PodInterfaceConfig cfg = PodConfig("nptap0");
  cfg.netns_path = "/proc/" + std::to_string(::getpid()) + "/task/" +
                   std::to_string(tid.get_future().get()) + "/ns/net";
  const absl::Status s = ConfigurePodInterface(cfg);
  ASSERT_TRUE(s.ok()) << s;
  ExpectPodWired(pod_, 1400);
}

TEST_F(PodInterfaceTest, MissingNetnsIsNotFoundAndLeavesTheHostLinkAlone) {
  AddVeth(host_, "nptap0", "mtu 1234");
  PodInterfaceConfig cfg = PodConfig("nptap0");
  cfg.netns_path = Path(prefix_ + "-missing");

  const absl::Status s = ConfigurePodInterface(cfg);

  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(),
              HasSubstr("netns \"" + cfg.netns_path + "\": No such file or directory"));
  EXPECT_TRUE(HasLink(host_, "nptap0"));
  EXPECT_THAT(IpCmd(host_, "-o link show dev nptap0"), HasSubstr(" mtu 1234 "));
  EXPECT_FALSE(IsUp(host_, "nptap0"));
}

TEST_F(PodInterfaceTest, CheckNetnsTellsNamespacesFromOtherFiles) {
  EXPECT_TRUE(CheckNetns(Path(pod_)).ok());
  EXPECT_TRUE(CheckNetns("/proc/self/ns/net").ok());

  const absl::Status missing = CheckNetns(Path(prefix_ + "-missing"));
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  for (const char* other : {"/proc/self/ns/mnt", "/proc/self/status", "/run/netns"}) {
    const absl::Status s = CheckNetns(other);
    EXPECT_TRUE(absl::IsNotFound(s)) << other << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(other));
  }
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNetns("")));
}

TEST_F(PodInterfaceTest, MissingHostLinkIsNotFound) {
  const absl::Status s = ConfigurePodInterface(PodConfig("nptap9"));

  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("\"nptap9\""));
  EXPECT_FALSE(HasLink(pod_, "eth0"));
}

TEST_F(PodInterfaceTest, NameTakenInPodIsAlreadyExistsAndNothingMoves) {
  AddVeth(host_, "nptap0");
  AddVeth(pod_, "eth0");

  const absl::Status s = ConfigurePodInterface(PodConfig("nptap0"));

  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("\"eth0\""));
  EXPECT_TRUE(HasLink(host_, "nptap0"));
}

TEST_F(PodInterfaceTest, FailureAfterTheMoveMovesTheLinkBack) {
  // A tap's maximum MTU is 65521, so the MTU step fails after the link is in the pod.
  IpCmd(host_, "tuntap add dev nptap0 mode tap");
  IpCmd(host_, "link set nptap0 mtu 1300 up");
  PodInterfaceConfig cfg = PodConfig("nptap0");
  cfg.mtu = 65535;

  const absl::Status s = ConfigurePodInterface(cfg);

  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("MTU 65535"));
  EXPECT_THAT(s.message(), HasSubstr("moved back"));
  EXPECT_FALSE(HasLink(pod_, "eth0"));
  ASSERT_TRUE(HasLink(host_, "nptap0"));
  EXPECT_THAT(IpCmd(host_, "-o link show dev nptap0"), HasSubstr(" mtu 1300 "));
  EXPECT_TRUE(IsUp(host_, "nptap0"));
  EXPECT_EQ(IpCmd(pod_, "-4 route show"), "");
}

TEST_F(PodInterfaceTest, InvalidConfigIsRejectedBeforeAnythingIsTouched) {
  AddVeth(host_, "nptap0");
  std::vector<std::pair<std::string, PodInterfaceConfig>> bad;
  auto add = [&](const std::string& what, auto edit) {
    PodInterfaceConfig cfg = PodConfig("nptap0");
    edit(cfg);
    bad.emplace_back(what, cfg);
  };
  add("ifname", [](PodInterfaceConfig& c) { c.ifname = "a-name-far-too-long"; });
  add("ifname", [](PodInterfaceConfig& c) { c.ifname = "eth/0"; });
  add("host_ifname", [](PodInterfaceConfig& c) { c.host_ifname = ""; });
  add("netns_path", [](PodInterfaceConfig& c) { c.netns_path = ""; });
  add("mtu", [](PodInterfaceConfig& c) { c.mtu = 60; });
  add("addrs", [](PodInterfaceConfig& c) { c.addrs.clear(); });
  add("addrs", [](PodInterfaceConfig& c) { c.addrs.push_back(Ip4{}); });
  add("addrs", [](PodInterfaceConfig& c) { c.addrs.push_back(c.gateway); });
  add("addrs", [](PodInterfaceConfig& c) { c.addrs.push_back(Ip("127.0.0.1")); });
  add("gateway", [](PodInterfaceConfig& c) { c.gateway = Ip4{}; });
  add("gateway", [](PodInterfaceConfig& c) { c.gateway = Ip("224.0.0.1"); });
  add("gateway", [](PodInterfaceConfig& c) { c.gateway = Ip("255.255.255.255"); });

  for (const auto& [what, cfg] : bad) {
    const absl::Status s = ConfigurePodInterface(cfg);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << what << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(what));
  }
  EXPECT_TRUE(HasLink(host_, "nptap0"));
  EXPECT_FALSE(HasLink(pod_, "eth0"));
}

TEST_F(PodInterfaceTest, DeleteLinkInNetnsIsIdempotent) {
  AddVeth(pod_, "eth0");
  ASSERT_EQ(LinkExistsInNetns(Path(pod_), "eth0").value_or(false), true);

  EXPECT_TRUE(DeleteLinkInNetns(Path(pod_), "eth0").ok());
  EXPECT_FALSE(HasLink(pod_, "eth0"));
  EXPECT_EQ(LinkExistsInNetns(Path(pod_), "eth0").value_or(true), false);
  EXPECT_TRUE(DeleteLinkInNetns(Path(pod_), "eth0").ok()) << "second delete";
  EXPECT_TRUE(HasLink(pod_, "lo"));

  // The namespace itself is gone: so is the link.
  EXPECT_TRUE(DeleteLinkInNetns(Path(prefix_ + "-missing"), "eth0").ok());
  EXPECT_TRUE(absl::IsNotFound(DeleteLinkInNetns("/proc/self/status", "eth0")));
}

TEST_F(PodInterfaceTest, DeleteRemovesAConfiguredPodInterface) {
  AddVeth(host_, "nptap0");
  ASSERT_TRUE(ConfigurePodInterface(PodConfig("nptap0")).ok());

  EXPECT_TRUE(DeleteLinkInNetns(Path(pod_), "eth0").ok());
  EXPECT_FALSE(HasLink(pod_, "eth0"));
  EXPECT_EQ(IpCmd(pod_, "-4 route show"), "");
}

TEST_F(PodInterfaceTest, LinkExistsInNetns) {
  EXPECT_EQ(LinkExistsInNetns(Path(pod_), "lo").value_or(false), true);
  EXPECT_EQ(LinkExistsInNetns(Path(pod_), "eth0").value_or(true), false);
  // The test thread's own namespace has nptap0; the pod's does not.
  AddVeth(host_, "nptap0");
  EXPECT_EQ(LinkExistsInNetns(Path(pod_), "nptap0").value_or(true), false);
  EXPECT_EQ(LinkExistsInNetns(Path(host_), "nptap0").value_or(false), true);

  const auto missing = LinkExistsInNetns(Path(prefix_ + "-missing"), "eth0");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_TRUE(absl::IsInvalidArgument(LinkExistsInNetns(Path(pod_), "").status()));
}

TEST_F(PodInterfaceTest, ConfigureHostInterfaceSetsExactlyTheseAddresses) {
  AddVeth(host_, "nphost0");
  IpCmd(host_, "addr add 10.9.9.9/24 dev nphost0");

  absl::Status s =
      ConfigureHostInterface("nphost0", {Addr("10.0.0.1", 24), Addr("10.0.1.1", 24)}, 1450);
  ASSERT_TRUE(s.ok()) << s;
  std::string addrs = IpCmd(host_, "-o -4 addr show dev nphost0");
  EXPECT_THAT(addrs, HasSubstr("inet 10.0.0.1/24 "));
  EXPECT_THAT(addrs, HasSubstr("inet 10.0.1.1/24 "));
  EXPECT_THAT(addrs, Not(HasSubstr("10.9.9.9")));
  EXPECT_THAT(IpCmd(host_, "-o link show dev nphost0"), HasSubstr(" mtu 1450 "));
  EXPECT_TRUE(IsUp(host_, "nphost0"));
  EXPECT_THAT(IpCmd(host_, "-4 route show"), HasSubstr("10.0.0.0/24 dev nphost0 proto kernel"));

  // Again, same input: nothing changes. Then a primary is replaced by a secondary of its subnet,
  // which the kernel would delete along with the primary.
  ASSERT_TRUE(
      ConfigureHostInterface("nphost0", {Addr("10.0.0.1", 24), Addr("10.0.1.1", 24)}, 1450).ok());
  s = ConfigureHostInterface("nphost0", {Addr("10.0.0.2", 24)}, 1450);
  ASSERT_TRUE(s.ok()) << s;
  addrs = IpCmd(host_, "-o -4 addr show dev nphost0");
  EXPECT_THAT(addrs, HasSubstr("inet 10.0.0.2/24 "));
  EXPECT_THAT(addrs, Not(HasSubstr("10.0.0.1/")));
  EXPECT_THAT(addrs, Not(HasSubstr("10.0.1.1/")));

  EXPECT_TRUE(absl::IsNotFound(ConfigureHostInterface("nphost9", {}, 1500)));
  EXPECT_TRUE(
      absl::IsInvalidArgument(ConfigureHostInterface("nphost0", {Addr("10.0.0.1", 33)}, 1500)));
}

TEST_F(PodInterfaceTest, ReplaceRouteAddsAndMovesARoute) {
  AddVeth(host_, "nphost0");
  AddVeth(host_, "nphost1");
  ASSERT_TRUE(ConfigureHostInterface("nphost0", {Addr("10.0.0.1", 24)}, 1500).ok());
  ASSERT_TRUE(ConfigureHostInterface("nphost1", {Addr("10.0.1.1", 24)}, 1500).ok());

  absl::Status s = ReplaceRoute(*Ip4Prefix::Parse("10.244.0.0/16"), "nphost0");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(IpCmd(host_, "-4 route show"),
              HasSubstr("10.244.0.0/16 dev nphost0 proto static scope link"));
  EXPECT_TRUE(ReplaceRoute(*Ip4Prefix::Parse("10.244.0.0/16"), "nphost0").ok()) << "idempotent";

  s = ReplaceRoute(*Ip4Prefix::Parse("10.244.0.0/16"), "nphost1");
  ASSERT_TRUE(s.ok()) << s;
  const std::string routes = IpCmd(host_, "-4 route show");
  EXPECT_THAT(routes, HasSubstr("10.244.0.0/16 dev nphost1 proto static scope link"));
  EXPECT_THAT(routes, Not(HasSubstr("10.244.0.0/16 dev nphost0")));

  EXPECT_TRUE(absl::IsInvalidArgument(ReplaceRoute(Addr("10.244.0.1", 16), "nphost0")));
  s = ReplaceRoute(*Ip4Prefix::Parse("10.245.0.0/16"), "nphost9");
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("\"nphost9\""));
}

TEST_F(PodInterfaceTest, DeleteRouteRemovesOnlyThatRouteAndIsIdempotent) {
  AddVeth(host_, "nphost0");
  ASSERT_TRUE(ConfigureHostInterface("nphost0", {Addr("10.0.0.1", 24)}, 1500).ok());
  ASSERT_TRUE(ReplaceRoute(*Ip4Prefix::Parse("10.244.1.0/24"), "nphost0").ok());
  ASSERT_TRUE(ReplaceRoute(*Ip4Prefix::Parse("10.244.2.0/24"), "nphost0").ok());

  absl::Status s = DeleteRoute(*Ip4Prefix::Parse("10.244.1.0/24"), "nphost0");
  ASSERT_TRUE(s.ok()) << s;
  const std::string routes = IpCmd(host_, "-4 route show");
  EXPECT_THAT(routes, Not(HasSubstr("10.244.1.0/24")));
  EXPECT_THAT(routes, HasSubstr("10.244.2.0/24 dev nphost0 proto static scope link"));
  EXPECT_THAT(routes, HasSubstr("10.0.0.0/24 dev nphost0"));
  EXPECT_TRUE(DeleteRoute(*Ip4Prefix::Parse("10.244.1.0/24"), "nphost0").ok()) << "already gone";
  // With an MTU (the host's routes to remote pod CIDRs: what fits the tunnel).
  ASSERT_TRUE(ReplaceRoute(*Ip4Prefix::Parse("10.244.3.0/24"), "nphost0", 1450).ok());
  EXPECT_THAT(IpCmd(host_, "-4 route show 10.244.3.0/24"), HasSubstr("mtu 1450"));
  EXPECT_TRUE(DeleteRoute(*Ip4Prefix::Parse("10.244.2.0/24"), "nphost9").ok()) << "link gone";
}

TEST_F(PodInterfaceTest, CreateVethPairMakesASilentHostEnd) {
  const auto pair = CreateVethPair("npv0", "npv0p", 1400);
  ASSERT_TRUE(pair.ok()) << pair.status();

  EXPECT_EQ(pair->host.name, "npv0");
  EXPECT_EQ(pair->peer.name, "npv0p");
  EXPECT_EQ(pair->host.mac.ToString(), LinkMac(host_, "npv0"));
  EXPECT_EQ(pair->peer.mac.ToString(), LinkMac(host_, "npv0p"));
  EXPECT_NE(pair->host.mac, pair->peer.mac);
  EXPECT_THAT(IpCmd(host_, "-o -d link show dev npv0"), HasSubstr(" veth "));
  EXPECT_THAT(IpCmd(host_, "-o link show dev npv0"), HasSubstr(" mtu 1400 "));
  EXPECT_THAT(IpCmd(host_, "-o link show dev npv0p"), HasSubstr(" mtu 1400 "));

  // The host end: up, no ARP, no address of either family, IPv6 off, strict rp_filter.
  const std::set<std::string> flags = LinkFlags(host_, "npv0");
  EXPECT_EQ(flags.count("UP"), 1u);
  EXPECT_EQ(flags.count("NOARP"), 1u);
  EXPECT_EQ(IpCmd(host_, "-o addr show dev npv0"), "");
  EXPECT_EQ(Sysctl(host_, "ipv6/conf/npv0/disable_ipv6"), "1");
  EXPECT_EQ(Sysctl(host_, "ipv4/conf/npv0/rp_filter"), "1");
  // The peer: down until it is configured in a pod, ARP as usual, tx offloads off.
  EXPECT_FALSE(IsUp(host_, "npv0p"));
  EXPECT_EQ(LinkFlags(host_, "npv0p").count("NOARP"), 0u);
  if (HaveEthtool()) {
    EXPECT_THAT(TxOffloadsOn(host_, "npv0p"), ::testing::IsEmpty());
    EXPECT_THAT(Shell("ip netns exec " + host_ + " ethtool -k npv0p").out,
                HasSubstr("generic-segmentation-offload: on"));
  }
}

TEST_F(PodInterfaceTest, VethPeerBecomesThePodInterfaceWithItsMac) {
  const auto pair = CreateVethPair("npv0", "npv0p", 1400);
  ASSERT_TRUE(pair.ok()) << pair.status();

  const absl::Status s = ConfigurePodInterface(PodConfig("npv0p"));
  ASSERT_TRUE(s.ok()) << s;

  ExpectPodWired(pod_, 1400);
  EXPECT_EQ(LinkMac(pod_, "eth0"), pair->peer.mac.ToString());
  EXPECT_FALSE(HasLink(host_, "npv0p"));
  EXPECT_TRUE(IsUp(host_, "npv0"));
  EXPECT_EQ(LinkFlags(host_, "npv0").count("LOWER_UP"), 1u) << "carrier follows the pod's end";
  if (HaveEthtool()) {
    EXPECT_THAT(TxOffloadsOn(pod_, "eth0"), ::testing::IsEmpty()) << "kept across the move";
  }
}

TEST_F(PodInterfaceTest, CreateVethPairNameTakenIsAlreadyExistsAndLeavesNothing) {
  AddVeth(host_, "npv0");  // npv0 and npv0-p

  absl::Status s = CreateVethPair("npv0", "npv1p", 1500).status();
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_FALSE(HasLink(host_, "npv1p"));

  s = CreateVethPair("npv1", "npv0-p", 1500).status();
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_FALSE(HasLink(host_, "npv1"));
  EXPECT_TRUE(HasLink(host_, "npv0"));
  EXPECT_TRUE(HasLink(host_, "npv0-p"));
}

TEST_F(PodInterfaceTest, CreateVethPairRejectsBadInputBeforeTouchingAnything) {
  const struct {
    const char* host;
    const char* peer;
    uint32_t mtu;
    const char* field;
  } bad[] = {
      {"", "npv0p", 1500, "host_ifname"},
      {"npv0", "a-name-far-too-long", 1500, "peer_ifname"},
      {"npv0", "npv0", 1500, "peer_ifname"},
      {"npv0", "npv0p", 60, "mtu"},
  };
  for (const auto& b : bad) {
    const absl::Status s = CreateVethPair(b.host, b.peer, b.mtu).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << b.field << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(b.field));
  }
  EXPECT_FALSE(HasLink(host_, "npv0"));
  // Too large for a veth: the kernel refuses, nothing is created.
  EXPECT_FALSE(CreateVethPair("npv0", "npv0p", 70000).ok());
  EXPECT_FALSE(HasLink(host_, "npv0"));
  EXPECT_FALSE(HasLink(host_, "npv0p"));
}

TEST_F(PodInterfaceTest, DeleteLocalLinkTakesTheVethPeerFromThePod) {
  ASSERT_TRUE(CreateVethPair("npv0", "npv0p", 1500).ok());
  ASSERT_TRUE(ConfigurePodInterface(PodConfig("npv0p")).ok());
  ASSERT_TRUE(HasLink(pod_, "eth0"));

  EXPECT_TRUE(DeleteLocalLink("npv0").ok());
  EXPECT_FALSE(HasLink(host_, "npv0"));
  EXPECT_FALSE(HasLink(pod_, "eth0"));
  EXPECT_TRUE(DeleteLocalLink("npv0").ok()) << "second delete";
  EXPECT_TRUE(absl::IsInvalidArgument(DeleteLocalLink("")));
}

}  // namespace
}  // namespace nodeplane::ctl
