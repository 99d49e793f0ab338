// Unit tests of BuildSnapshot: what a valid spec turns into (ports, special ports, routes, rx queue
// assignment per worker) and that every invalid spec is rejected whole, with a reason, leaving
// nothing allocated.
#include "dataplane/core/snapshot.h"

#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include <ostream>
#include <string>
#include <vector>

#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp {
namespace {

using testing::A;
using testing::M;
using testing::Topo;

// What the EAL has handed out: heap allocations and memzones (rte_hash uses both).
struct EalUsage {
  size_t allocs = 0;
  unsigned memzones = 0;
  friend bool operator==(const EalUsage&, const EalUsage&) = default;
};

EalUsage Usage() {
  EalUsage u;
  rte_malloc_socket_stats s{};
  for (unsigned socket = 0; socket < RTE_MAX_NUMA_NODES; ++socket) {
    if (rte_malloc_get_socket_stats(static_cast<int>(socket), &s) == 0) u.allocs += s.alloc_count;
  }
  rte_memzone_walk([](const rte_memzone*, void* arg) { ++*static_cast<unsigned*>(arg); },
                   &u.memzones);
  return u;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::Eal(); }
};

TEST_F(SnapshotTest, ValidSpecBecomesPortEntriesAndRoutes) {
  std::string error;
  auto snap = BuildSnapshot(testing::StandardTopology().Generation(42).spec(), &error);
  ASSERT_NE(snap, nullptr) << error;
  EXPECT_EQ(snap->generation, 42u);
  EXPECT_EQ(snap->uplink_port, Topo::kUplink);
  EXPECT_EQ(snap->host_port, Topo::kHost);

  const PortEntry& a = snap->port(Topo::kPodA);
  EXPECT_EQ(a.kind, PortKind::kPod);
  EXPECT_EQ(a.mac, Topo::GatewayMac().bytes);
  EXPECT_EQ(a.peer_mac, Topo::PodAMac().bytes);
  EXPECT_EQ(a.gateway_ip, Topo::PodGateway().be);
  EXPECT_EQ(a.pod_ip, Topo::PodAIp().be);
  EXPECT_EQ(a.tx_queues, 1);
  const PortEntry& host = snap->port(Topo::kHost);
  EXPECT_EQ(host.kind, PortKind::kHost);
  EXPECT_EQ(host.peer_mac, Topo::HostMac().bytes);
  EXPECT_EQ(host.gateway_ip, Topo::NodeIp().be);
  const PortEntry& up = snap->port(Topo::kUplink);
  EXPECT_EQ(up.kind, PortKind::kUplink);
  EXPECT_EQ(up.mac, Topo::UplinkMac().bytes);
  EXPECT_EQ(snap->port(Topo::kAbsent).kind, PortKind::kNone);

  EXPECT_EQ(snap->routes.size(), 3u);
  EXPECT_EQ(snap->routes.Lookup(Topo::PodAIp().be), Topo::kPodA);
  EXPECT_EQ(snap->routes.Lookup(Topo::PodBIp().be), Topo::kPodB);
  EXPECT_EQ(snap->routes.Lookup(Topo::NodeIp().be), Topo::kHost);
}

TEST_F(SnapshotTest, WithoutUplinkOrHostTheirIdsAreNoPort) {
  std::string error;
  SnapshotSpec spec;
  spec.ports.push_back(PortSpec{4, PortKind::kPod, Topo::GatewayMac(), Topo::PodAMac(),
                                Topo::PodGateway(), Topo::PodAIp(), 1, 1});
  auto snap = BuildSnapshot(spec, &error);
  ASSERT_NE(snap, nullptr) << error;
  EXPECT_EQ(snap->uplink_port, 0xffff);
  EXPECT_EQ(snap->host_port, 0xffff);
  EXPECT_EQ(snap->routes.size(), 0u);
}

TEST_F(SnapshotTest, EmptySpecIsValid) {
  std::string error;
  auto snap = BuildSnapshot(SnapshotSpec{}, &error);
  ASSERT_NE(snap, nullptr) << error;
  EXPECT_EQ(snap->rx[0].n, 0);
}

std::vector<std::pair<uint16_t, uint16_t>> Polled(const Snapshot& s, uint16_t worker) {
  std::vector<std::pair<uint16_t, uint16_t>> out;
  for (uint16_t i = 0; i < s.rx[worker].n; ++i) {
    out.emplace_back(s.rx[worker].queues[i].port, s.rx[worker].queues[i].queue);
  }
  return out;
}

using Queues = std::vector<std::pair<uint16_t, uint16_t>>;

TEST_F(SnapshotTest, OneWorkerPollsEveryPort) {
  auto snap = testing::StandardTopology().Build();
  EXPECT_EQ(Polled(*snap, 0), (Queues{{0, 0}, {1, 0}, {2, 0}, {3, 0}}));
  EXPECT_EQ(snap->rx[1].n, 0);
}

TEST_F(SnapshotTest, QueuePerWorkerGivesEachWorkerItsOwnQueueOfEveryPort) {
  SnapshotSpec spec;
  spec.worker_count = 2;
  for (uint16_t id : {0, 1, 2}) {
    spec.ports.push_back(PortSpec{id, PortKind::kPod, {}, {}, {}, {}, 2, 2});
  }
  std::string error;
  auto snap = BuildSnapshot(spec, &error);
  ASSERT_NE(snap, nullptr) << error;
  EXPECT_EQ(Polled(*snap, 0), (Queues{{0, 0}, {1, 0}, {2, 0}}));
  EXPECT_EQ(Polled(*snap, 1), (Queues{{0, 1}, {1, 1}, {2, 1}}));
}

TEST_F(SnapshotTest, SingleQueuePortsAreSpreadOverWorkersByPortId) {
  SnapshotSpec spec;
  spec.worker_count = 2;
  for (uint16_t id : {3, 4, 5, 6}) {
    spec.ports.push_back(PortSpec{id, PortKind::kPod, {}, {}, {}, {}, 1, 2});
  }
  std::string error;
  auto snap = BuildSnapshot(spec, &error);
  ASSERT_NE(snap, nullptr) << error;
  EXPECT_EQ(Polled(*snap, 0), (Queues{{4, 0}, {6, 0}}));
  EXPECT_EQ(Polled(*snap, 1), (Queues{{3, 0}, {5, 0}}));
}

TEST_F(SnapshotTest, EveryQueueIsPolledByExactlyOneWorker) {
  SnapshotSpec spec;
  spec.worker_count = 3;
  for (uint16_t id = 0; id < 8; ++id) {
    spec.ports.push_back(
        PortSpec{id, PortKind::kPod, {}, {}, {}, {}, static_cast<uint16_t>(1 + id % 4), 3});
  }
  std::string error;
  auto snap = BuildSnapshot(spec, &error);
  ASSERT_NE(snap, nullptr) << error;
  std::vector<int> seen(8 * 4, 0);
  for (uint16_t w = 0; w < 3; ++w) {
    for (const auto& [port, queue] : Polled(*snap, w)) ++seen[port * 4 + queue];
  }
  for (uint16_t id = 0; id < 8; ++id) {
    for (uint16_t q = 0; q < 4; ++q) {
      EXPECT_EQ(seen[id * 4 + q], q < 1 + id % 4 ? 1 : 0) << "port " << id << " queue " << q;
    }
  }
}

struct BadSpec {
  std::string name;
  friend void PrintTo(const BadSpec& c, std::ostream* os) { *os << c.name; }
  SnapshotSpec spec;
  std::string error_mentions;
};

SnapshotSpec Valid() { return testing::StandardTopology().spec(); }

SnapshotSpec Edit(SnapshotSpec s, void (*edit)(SnapshotSpec&)) {
  edit(s);
  return s;
}

TEST_F(SnapshotTest, DestroyingASnapshotGivesBackWhatItTook) {
  // Also shows the usage probe below sees a route table at all (so its leak checks mean something).
  const EalUsage before = Usage();
  auto snap = testing::StandardTopology().Build();
  const EalUsage during = Usage();
  EXPECT_GT(during.allocs + during.memzones, before.allocs + before.memzones);
  snap.reset();
  EXPECT_EQ(Usage(), before);
}

class SnapshotRejects : public ::testing::TestWithParam<BadSpec> {
 protected:
  void SetUp() override { testing::Eal(); }
};

TEST_P(SnapshotRejects, WholeWithAReasonAndNothingAllocated) {
  const BadSpec& c = GetParam();
  const EalUsage before = Usage();
  std::string error;
  auto snap = BuildSnapshot(c.spec, &error);
  EXPECT_EQ(snap, nullptr);
  EXPECT_NE(error.find(c.error_mentions), std::string::npos)
      << "error \"" << error << "\" should mention \"" << c.error_mentions << "\"";
  const EalUsage after = Usage();
  EXPECT_EQ(after.allocs, before.allocs) << "heap allocations left behind";
  EXPECT_EQ(after.memzones, before.memzones) << "memzones left behind";
}

INSTANTIATE_TEST_SUITE_P(
    SnapshotTest, SnapshotRejects,
    ::testing::Values(BadSpec{"DuplicatePort",
                              Edit(Valid(), [](SnapshotSpec& s) { s.ports.push_back(s.ports[2]); }),
                              "port listed twice: 2"},
                      BadSpec{"DuplicatePortOfAnotherKind",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.ports.push_back(s.ports[0]);
                                     s.ports.back().kind = PortKind::kPod;
                                   }),
                              "port listed twice: 0"},
                      BadSpec{"RouteToUnknownPort",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.routes.push_back({A("10.244.1.9"), 9});
                                   }),
                              "10.244.1.9 points at unknown port 9"},
                      BadSpec{"RouteToPortIdOutOfRange",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.routes.push_back({A("10.244.1.9"), 4000});
                                   }),
                              "unknown port 4000"},
                      BadSpec{"DuplicateRoute",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.routes.push_back({Topo::PodAIp(), Topo::kPodB});
                                   }),
                              "duplicate"},
                      BadSpec{"TxQueuesFewerThanWorkers",
                              Edit(Valid(), [](SnapshotSpec& s) { s.worker_count = 2; }),
                              "fewer tx queues than workers"},
                      BadSpec{"ZeroWorkers",
                              Edit(Valid(), [](SnapshotSpec& s) { s.worker_count = 0; }),
                              "worker count"},
                      BadSpec{"TooManyWorkers",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.worker_count = kMaxWorkers + 1;
                                     for (auto& p : s.ports) p.tx_queues = kMaxWorkers + 1;
                                   }),
                              "worker count"},
                      BadSpec{"PortIdOutOfRange",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.ports.push_back(PortSpec{RTE_MAX_ETHPORTS, PortKind::kPod});
                                   }),
                              "out of range"},
                      BadSpec{"PortKindUnset",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.ports.push_back(PortSpec{9, PortKind::kNone});
                                   }),
                              "kind unset: 9"},
                      BadSpec{"TooManyRxQueuesForOneWorker",
                              Edit(Valid(),
                                   [](SnapshotSpec& s) {
                                     s.ports[2].rx_queues =
                                         kMaxRxQueuesPerWorker;  // plus the other 3 ports'
                                   }),
                              "too many rx queues"}),
    [](const ::testing::TestParamInfo<BadSpec>& info) { return info.param.name; });

}  // namespace
}  // namespace nodeplane::dp
