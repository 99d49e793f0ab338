// Golden pcap tests: every case directory under tests/pcap/<feature>/<case>/ (or under
// $NP_PCAP_CASES) holds case.txt (state + ports, perf/scenario/scenario.h), in.pcap and
// expected.pcap. Each case runs the whole pipeline on net_pcap ports through a real dp::Worker and
// byte-compares what the expected port sent with expected.pcap; no other port may send anything,
// and the drop counters must match. On a mismatch the output is kept as actual.pcap.
#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/ports.h"
#include "dataplane/core/published.h"
#include "dataplane/core/rcu.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/worker.h"
#include "dataplane/testing/test_eal.h"
#include "nodeplane/counter.h"
#include "nodeplane/drop_reason.h"
#include "perf/scenario/scenario.h"
#include "tests/pcap/pcap_file.h"

namespace nodeplane::pcaptest {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxPolls = 100000;  // far more than any case needs; stops a broken run

std::string CasesRoot() {
  const char* env = std::getenv("NP_PCAP_CASES");
  return env != nullptr && *env != '\0' ? env : NP_PCAP_CASES_DIR;
}

// Every directory below the root that holds a case.txt, sorted (stable test names).
std::vector<std::string> FindCases() {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path root = CasesRoot();
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename() == "case.txt") {
      out.push_back(fs::relative(it->path().parent_path(), root).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string TestName(const std::string& rel) {
  std::string name;
  for (char c : rel) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

// "" when equal; otherwise the first differing packet and byte.
std::string Diff(const std::vector<Frame>& want, const std::vector<Frame>& got) {
  const size_t n = std::min(want.size(), got.size());
  for (size_t i = 0; i < n; ++i) {
    if (want[i] == got[i]) continue;
    const size_t m = std::min(want[i].size(), got[i].size());
    size_t at = 0;
    while (at < m && want[i][at] == got[i][at]) ++at;
    char buf[200];
    if (at < m) {
      std::snprintf(buf, sizeof(buf),
                    "packet %zu: first difference at byte %zu: expected 0x%02x, got 0x%02x "
                    "(lengths %zu vs %zu)",
                    i, at, want[i][at], got[i][at], want[i].size(), got[i].size());
    } else {
      std::snprintf(buf, sizeof(buf), "packet %zu: same first %zu bytes, lengths %zu vs %zu", i, m,
                    want[i].size(), got[i].size());
    }
    return buf;
  }
  if (want.size() != got.size()) {
    return "expected " + std::to_string(want.size()) + " packets, got " +
           std::to_string(got.size());
  }
  return "";
}

class PcapGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(PcapGolden, Matches) {
  const fs::path dir = fs::path(CasesRoot()) / GetParam();
  auto sc = scenario::LoadScenario((dir / "case.txt").string());
  ASSERT_TRUE(sc.ok()) << sc.status();
  ASSERT_TRUE(sc->expect.has_value()) << "case.txt must say expect <port> or expect none";
  std::string error;
  const auto input = ReadPcap((dir / "in.pcap").string(), &error);
  ASSERT_TRUE(input.has_value()) << error;
  const auto expected = ReadPcap((dir / "expected.pcap").string(), &error);
  ASSERT_TRUE(expected.has_value()) << error;

  const dp::testing::TestEal& eal = dp::testing::Eal("pcap");
  char tmpl[] = "/tmp/np-pcap-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path out_dir = tmpl;

  // One net_pcap vdev per declared port: every port writes what it sends to <tmp>/<port>.pcap; the
  // input port also reads in.pcap.
  static int seq = 0;
  ++seq;
  dp::Ports ports(eal.pool, 1);
  scenario::PortIds ids;
  std::vector<uint16_t> added;
  for (const scenario::PortDecl& p : sc->ports) {
    std::string devargs = "net_pcap_g" + std::to_string(seq) + "_" + p.name +
                          ",tx_pcap=" + (out_dir / (p.name + ".pcap")).string();
    if (p.name == sc->input) devargs += ",rx_pcap=" + (dir / "in.pcap").string();
    dp::PortInfo info;
    ASSERT_TRUE(ports.Add(devargs, &info, &error)) << error;
    ids[p.name] = info.port_id;
    added.push_back(info.port_id);
  }
  auto spec = scenario::Compile(*sc, ids, 1, 1);
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto snap = dp::BuildSnapshot(*spec, &error);
  ASSERT_NE(snap, nullptr) << error;
  // `conntrack N` in case.txt: a table like nodeplaned's, outliving the snapshot.
  dp::Conntrack conntrack;
  if (sc->conntrack_entries != 0) {
    ASSERT_TRUE(conntrack.Init(dp::Conntrack::Limits{.entries = sc->conntrack_entries}, nullptr,
                               &error, ("ct_g" + std::to_string(seq)).c_str()))
        << error;
    snap->conntrack = &conntrack;
  }

  {
    dp::Rcu rcu(1);
    dp::Published<dp::Snapshot> published(rcu);
    published.Publish(std::move(snap));
    dp::Worker worker(0, rcu, published, dp::IdlePolicy{});
    worker.Attach();
    int polls = 0;
    while (worker.counters().rx_packets < input->frames.size() && polls++ < kMaxPolls) {
      worker.PollOnce();
    }
    worker.Detach();
    const dp::WorkerCounters& c = worker.counters();
    EXPECT_EQ(c.rx_packets, input->frames.size()) << "the worker did not receive all of in.pcap";

    for (uint8_t r = 0; r < kDropReasonCount; ++r) {
      const std::string name(DropReasonName(static_cast<DropReason>(r)));
      const auto it = sc->drops.find(name);
      const uint64_t expected_drops = it == sc->drops.end() ? 0 : it->second;
      const uint64_t actual_drops = c.drops[r];
      EXPECT_EQ(actual_drops, expected_drops) << "drops of " << name;
    }
    for (const auto& [name, expected_count] : sc->counters) {
      for (uint8_t e = 0; e < kCounterCount; ++e) {
        if (CounterName(static_cast<Counter>(e)) != name) continue;
        const uint64_t actual_count = c.events[e];
        EXPECT_EQ(actual_count, expected_count) << "counter " << name;
      }
    }
    published.Publish(nullptr);
  }
  // Closing the ports flushes and closes their pcap writers.
  for (uint16_t id : added) EXPECT_TRUE(ports.Remove(id, &error)) << error;

  for (const scenario::PortDecl& p : sc->ports) {
    const fs::path out = out_dir / (p.name + ".pcap");
    const auto sent = ReadPcap(out.string(), &error);
    ASSERT_TRUE(sent.has_value()) << p.name << ": " << error;
    if (p.name == *sc->expect) {
      const std::string diff = Diff(expected->frames, sent->frames);
      if (!diff.empty()) {
        std::error_code ec;
        fs::copy_file(out, dir / "actual.pcap", fs::copy_options::overwrite_existing, ec);
        ADD_FAILURE() << "port " << p.name << " sent other packets than expected.pcap: " << diff
                      << "\n  output kept as " << (dir / "actual.pcap").string();
      }
    } else {
      EXPECT_TRUE(sent->frames.empty())
          << "port " << p.name << " sent " << sent->frames.size() << " packet(s); only "
          << (sc->expect->empty() ? std::string("no port") : *sc->expect) << " should send";
    }
  }
  std::error_code ec;
  fs::remove_all(out_dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Cases, PcapGolden, ::testing::ValuesIn(FindCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return TestName(info.param);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PcapGolden);

TEST(PcapGoldenCases, ThereAreCases) {
  EXPECT_FALSE(FindCases().empty()) << "no case.txt found under " << CasesRoot();
}

}  // namespace
}  // namespace nodeplane::pcaptest
