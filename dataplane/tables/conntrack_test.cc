// Unit tests of the conntrack table: both keys of a connection find it, a full table refuses new
// connections and keeps the others, ageing and flushes remove exactly what they should, and the
// memory figure the table reports is the documented one.
#include "dataplane/tables/conntrack.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/core/rcu.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp {
namespace {

using testing::A;

CtKey Key(const char* src, uint16_t sport, const char* dst, uint16_t dport,
          uint8_t proto = IPPROTO_TCP) {
  return CtKey{A(src).be, A(dst).be, htons(sport), htons(dport), proto, {}};
}

struct Found {
  CtEntry* entry = nullptr;
  bool reply = false;
};

std::optional<Found> Find(const Conntrack& ct, const CtKey& k) {
  uint64_t hits = 0;
  CtEntry* e[1];
  bool reply[1];
  ct.LookupBulk(&k, 1, &hits, e, reply);
  if (hits == 0) return std::nullopt;
  return Found{e[0], reply[0]};
}

class ConntrackTable : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Eal();
    std::string error;
    ASSERT_TRUE(ct_.Init(Conntrack::Limits{.entries = 64}, nullptr, &error,
                         ("ct_t" + std::to_string(counter_++)).c_str()))
        << error;
  }
  static inline int counter_ = 0;
  Conntrack ct_;
};

TEST_F(ConntrackTable, OriginalAndReplyKeysFindOneEntry) {
  const CtKey orig = Key("10.0.0.5", 40000, "10.96.0.10", 80);
  CtEntry* e = nullptr;
  ASSERT_EQ(ct_.Add(orig, A("10.1.0.7").be, htons(8080), 0, 0, CtProto::kTcpSynSent, 0, 3, &e),
            Conntrack::Insert::kOk);
  auto o = Find(ct_, orig);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->entry, e);
  EXPECT_FALSE(o->reply);
  // The backend answers from its own address and port to the client.
  auto r = Find(ct_, Key("10.1.0.7", 8080, "10.0.0.5", 40000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->entry, e);
  EXPECT_TRUE(r->reply);
  // Not from the VIP: that tuple is no connection's.
  EXPECT_FALSE(Find(ct_, Key("10.96.0.10", 80, "10.0.0.5", 40000)));
  EXPECT_EQ(e->state(), CtProto::kTcpSynSent);
  EXPECT_EQ(e->policy_gen.load(), 3u);
  EXPECT_EQ(ct_.connections(), 1u);
}

TEST_F(ConntrackTable, SecondAddOfTheSameTupleReturnsTheFirstEntry) {
  const CtKey orig = Key("10.0.0.5", 40000, "10.0.0.6", 80);
  CtEntry* first = nullptr;
  CtEntry* second = nullptr;
  ASSERT_EQ(ct_.Add(orig, 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &first), Conntrack::Insert::kOk);
  EXPECT_EQ(ct_.Add(orig, 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &second),
            Conntrack::Insert::kExists);
  EXPECT_EQ(first, second);
  EXPECT_EQ(ct_.connections(), 1u);
}

TEST_F(ConntrackTable, ReplyTupleOfAnotherConnectionIsACollision) {
  CtEntry* e = nullptr;
  ASSERT_EQ(
      ct_.Add(Key("10.0.0.5", 1000, "10.0.0.6", 80), 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &e),
      Conntrack::Insert::kOk);
  // SNAT of another client onto 10.0.0.5:1000 would make its replies indistinguishable.
  EXPECT_EQ(ct_.Add(Key("10.0.0.9", 2000, "10.0.0.6", 80), 0, 0, A("10.0.0.5").be, htons(1000),
                    CtProto::kTcpSynSent, 0, 0, &e),
            Conntrack::Insert::kCollision);
  EXPECT_EQ(ct_.connections(), 1u);
}

// AddNew: a packet ct_lookup missed in this burst. Its tuple can be in the table only through an
// earlier add of the same burst, which it must find just as Add finds it in the table.
TEST_F(ConntrackTable, AddNewFindsTheBurstsEarlierAddsAndKeepsCollisions) {
  CtBurstAdds adds;
  adds.Clear();
  const CtKey orig = Key("10.0.0.5", 40000, "10.96.0.10", 80);
  CtEntry* e = nullptr;
  ASSERT_EQ(ct_.AddNew(orig, CtKeyHash(orig), A("10.1.0.7").be, htons(8080), 0, 0,
                       CtProto::kTcpSynSent, 0, 2, &e, adds),
            Conntrack::Insert::kOk);
  // A second packet of the same flow in the burst, and one from the backend to the client.
  CtEntry* again = nullptr;
  EXPECT_EQ(ct_.AddNew(orig, CtKeyHash(orig), A("10.1.0.7").be, htons(8080), 0, 0,
                       CtProto::kTcpSynSent, 0, 2, &again, adds),
            Conntrack::Insert::kExists);
  EXPECT_EQ(again, e);
  const CtKey back = Key("10.1.0.7", 8080, "10.0.0.5", 40000);
  CtEntry* from_backend = nullptr;
  EXPECT_EQ(ct_.AddNew(back, CtKeyHash(back), 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 2, &from_backend,
                       adds),
            Conntrack::Insert::kExists);
  EXPECT_EQ(from_backend, e);
  EXPECT_EQ(ct_.connections(), 1u);
  // Both keys were placed with the hash the table itself computes: lookups find them and a
  // control flush (which hashes the records' keys itself) removes them.
  ASSERT_TRUE(Find(ct_, orig));
  ASSERT_TRUE(Find(ct_, back));
  EXPECT_TRUE(Find(ct_, back)->reply);

  // Next burst: SNAT of another client onto the backend's reply tuple is still a collision (the
  // reply key is searched in the table).
  adds.Clear();
  const CtKey other = Key("10.0.0.9", 2000, "10.1.0.7", 8080);
  CtEntry* o = nullptr;
  EXPECT_EQ(ct_.AddNew(other, CtKeyHash(other), 0, 0, A("10.0.0.5").be, htons(40000),
                       CtProto::kTcpSynSent, 0, 2, &o, adds),
            Conntrack::Insert::kCollision);
  EXPECT_EQ(ct_.connections(), 1u);
  EXPECT_EQ(ct_.Flush(CtFilter{}), 1u);
  EXPECT_EQ(ct_.connections(), 0u);
  EXPECT_FALSE(Find(ct_, orig));
  EXPECT_FALSE(Find(ct_, back));
}

TEST_F(ConntrackTable, AddNewOnAFullTableRefusesTheConnection) {
  CtBurstAdds adds;
  adds.Clear();
  CtEntry* e = nullptr;
  uint32_t added = 0;
  for (uint16_t p = 1; p <= 64; ++p) {
    const CtKey k = Key("10.0.0.5", p, "10.0.0.6", 80);
    if (ct_.AddNew(k, CtKeyHash(k), 0, 0, 0, 0, CtProto::kTcpEstablished, 0, 0, &e, adds) ==
        Conntrack::Insert::kOk)
      ++added;
  }
  EXPECT_GE(added, 48u);
  const CtKey k = Key("10.0.0.7", 1, "10.0.0.6", 80);
  EXPECT_EQ(ct_.AddNew(k, CtKeyHash(k), 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &e, adds),
            Conntrack::Insert::kFull);
  EXPECT_FALSE(Find(ct_, k));
}

TEST_F(ConntrackTable, FullTableRefusesNewConnectionsAndKeepsTheOthers) {
  CtEntry* e = nullptr;
  uint32_t added = 0;
  for (uint16_t p = 1; p <= 64; ++p) {
    if (ct_.Add(Key("10.0.0.5", p, "10.0.0.6", 80), 0, 0, 0, 0, CtProto::kTcpEstablished, 0, 0,
                &e) == Conntrack::Insert::kOk)
      ++added;
  }
  // The pool holds exactly 64; the cuckoo hash may refuse a key a little earlier.
  EXPECT_GE(added, 48u);
  EXPECT_EQ(ct_.Add(Key("10.0.0.7", 1, "10.0.0.6", 80), 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &e),
            Conntrack::Insert::kFull);
  for (uint16_t p = 1; p <= 64; ++p) {
    auto f = Find(ct_, Key("10.0.0.5", p, "10.0.0.6", 80));
    if (f) {
      EXPECT_NE(f->entry->state(), CtProto::kDying);
    }
  }
  // Ageing clears the half-inserted ones; after a flush the table takes new connections again.
  ct_.Flush(CtFilter{});
  EXPECT_EQ(ct_.connections(), 0u);
  EXPECT_EQ(ct_.Add(Key("10.0.0.7", 1, "10.0.0.6", 80), 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &e),
            Conntrack::Insert::kOk);
}

TEST_F(ConntrackTable, AgeingRemovesIdleConnectionsByTheirStateTimeout) {
  CtEntry* udp = nullptr;
  CtEntry* tcp = nullptr;
  const CtKey u = Key("10.0.0.5", 5353, "10.0.0.6", 53, IPPROTO_UDP);
  const CtKey t = Key("10.0.0.5", 40000, "10.0.0.6", 80);
  ASSERT_EQ(ct_.Add(u, 0, 0, 0, 0, CtProto::kUdpUnreplied, 0, 0, &udp), Conntrack::Insert::kOk);
  ASSERT_EQ(ct_.Add(t, 0, 0, 0, 0, CtProto::kTcpEstablished, 0, 0, &tcp), Conntrack::Insert::kOk);
  EXPECT_EQ(ct_.Age(29'000, 1000), 0u);
  EXPECT_TRUE(Find(ct_, u));
  EXPECT_EQ(ct_.Age(31'000, 1000), 1u);  // UDP unreplied: 30 s
  EXPECT_FALSE(Find(ct_, u));
  EXPECT_FALSE(Find(ct_, Key("10.0.0.6", 53, "10.0.0.5", 5353, IPPROTO_UDP)));  // both keys
  EXPECT_TRUE(Find(ct_, t));  // TCP established: 5 days
  EXPECT_EQ(ct_.connections(), 1u);
  EXPECT_EQ(ct_.stats().expired, 1u);
}

TEST_F(ConntrackTable, AgeingInSlicesVisitsTheWholeTable) {
  CtEntry* e = nullptr;
  for (uint16_t p = 1; p <= 20; ++p) {
    ASSERT_EQ(ct_.Add(Key("10.0.0.5", p, "10.0.0.6", 53, IPPROTO_UDP), 0, 0, 0, 0,
                      CtProto::kUdpUnreplied, 0, 0, &e),
              Conntrack::Insert::kOk);
  }
  size_t removed = 0;
  for (int slice = 0; slice < 64 && removed < 20; ++slice) removed += ct_.Age(60'000, 8);
  EXPECT_EQ(removed, 20u);
  EXPECT_EQ(ct_.connections(), 0u);
}

TEST_F(ConntrackTable, FlushUdpToBackendRemovesOnlyThatBackendsUdpConnections) {
  CtEntry* e = nullptr;
  ASSERT_EQ(ct_.Add(Key("10.0.0.5", 1000, "10.96.0.10", 53, IPPROTO_UDP), A("10.1.0.7").be,
                    htons(5353), 0, 0, CtProto::kUdpAssured, 0, 0, &e),
            Conntrack::Insert::kOk);
  ASSERT_EQ(ct_.Add(Key("10.0.0.5", 1001, "10.96.0.10", 53, IPPROTO_UDP), A("10.1.0.8").be,
                    htons(5353), 0, 0, CtProto::kUdpAssured, 0, 0, &e),
            Conntrack::Insert::kOk);
  ASSERT_EQ(ct_.Add(Key("10.0.0.5", 1002, "10.96.0.10", 53, IPPROTO_TCP), A("10.1.0.7").be,
                    htons(5353), 0, 0, CtProto::kTcpEstablished, 0, 0, &e),
            Conntrack::Insert::kOk);
  EXPECT_EQ(ct_.FlushUdpToBackend(A("10.1.0.7").be, htons(5353)), 1u);
  EXPECT_FALSE(Find(ct_, Key("10.0.0.5", 1000, "10.96.0.10", 53, IPPROTO_UDP)));
  EXPECT_TRUE(Find(ct_, Key("10.0.0.5", 1001, "10.96.0.10", 53, IPPROTO_UDP)));
  EXPECT_TRUE(Find(ct_, Key("10.0.0.5", 1002, "10.96.0.10", 53, IPPROTO_TCP)));
  EXPECT_EQ(ct_.stats().flushed, 1u);
}

TEST_F(ConntrackTable, ListAndFlushByFilter) {
  CtEntry* e = nullptr;
  ASSERT_EQ(ct_.Add(Key("10.0.0.5", 1000, "10.96.0.10", 80), A("10.1.0.7").be, htons(8080), 0, 0,
                    CtProto::kTcpEstablished, 0, 9, &e),
            Conntrack::Insert::kOk);
  ASSERT_EQ(ct_.Add(Key("10.0.0.6", 1000, "10.0.0.9", 53, IPPROTO_UDP), 0, 0, 0, 0,
                    CtProto::kUdpUnreplied, 0, 0, &e),
            Conntrack::Insert::kOk);
  auto by_backend = ct_.List(CtFilter{.dst_ip = A("10.1.0.7").be}, 100);
  ASSERT_EQ(by_backend.size(), 1u);
  EXPECT_EQ(by_backend[0].orig.dst_ip, A("10.96.0.10").be);
  EXPECT_EQ(by_backend[0].reply.src_ip, A("10.1.0.7").be);
  EXPECT_EQ(by_backend[0].reply.src_port, htons(8080));
  EXPECT_EQ(by_backend[0].state, CtProto::kTcpEstablished);
  EXPECT_EQ(by_backend[0].policy_gen, 9u);
  EXPECT_EQ(ct_.List(CtFilter{.proto = IPPROTO_UDP}, 100).size(), 1u);
  EXPECT_EQ(ct_.List(CtFilter{.port = htons(8080)}, 100).size(), 1u);
  EXPECT_EQ(ct_.List(CtFilter{}, 100).size(), 2u);
  EXPECT_EQ(ct_.Flush(CtFilter{.src_ip = A("10.0.0.6").be}), 1u);
  EXPECT_EQ(ct_.List(CtFilter{}, 100).size(), 1u);
}

// A worker keeps looking connections up (reporting quiescent after each burst, as workers do)
// while control ages out a thousand expired ones: ageing completes, the worker never stops
// making progress and never finds a connection that ageing has begun to free, and the live
// connection is untouched.
TEST(ConntrackAgeing, RemovesExpiredConnectionsWhileAWorkerKeepsReading) {
  testing::Eal();
  Rcu rcu(1);
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 2048}, rcu.qsbr(), &error, "ct_rcu")) << error;
  CtEntry* e = nullptr;
  const CtKey live = Key("10.0.0.1", 1, "10.0.0.2", 80);
  ASSERT_EQ(ct.Add(live, 0, 0, 0, 0, CtProto::kTcpEstablished, 0, 0, &e), Conntrack::Insert::kOk);
  for (uint16_t p = 1; p <= 1000; ++p) {
    ASSERT_EQ(ct.Add(Key("10.0.1.1", p, "10.0.0.2", 53, IPPROTO_UDP), 0, 0, 0, 0,
                     CtProto::kUdpUnreplied, 0, 0, &e),
              Conntrack::Insert::kOk);
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bursts{0};
  std::atomic<uint64_t> bad{0};
  std::thread worker([&] {
    rcu.Register(0);
    rcu.Online(0);
    while (!stop.load()) {
      CtKey keys[8];
      for (uint16_t i = 0; i < 8; ++i) {
        keys[i] = i == 0
                      ? live
                      : Key("10.0.1.1", static_cast<uint16_t>(1 + (bursts.load() * 7 + i) % 1000),
                            "10.0.0.2", 53, IPPROTO_UDP);
      }
      uint64_t hits = 0;
      CtEntry* found[8];
      bool reply[8];
      ct.LookupBulk(keys, 8, &hits, found, reply);
      for (uint16_t i = 0; i < 8; ++i) {
        if (((hits >> i) & 1) == 0) continue;
        // A found entry is still this connection's (not reused) until the quiescent report.
        if (found[i]->orig_src_ip != keys[i].src_ip || found[i]->orig_src_port != keys[i].src_port)
          bad.fetch_add(1);
      }
      if ((hits & 1) == 0) bad.fetch_add(1);  // the live connection must always be found
      bursts.fetch_add(1);
      rcu.Quiescent(0);
    }
    rcu.Offline(0);
    rcu.Unregister(0);
  });
  while (bursts.load() < 100) std::this_thread::yield();
  // Freed entries are reused at once by new connections from another address, so a reader that
  // could still hold a freed entry would see it change under it.
  size_t removed = 0;
  uint16_t reused = 0;
  for (int slice = 0; slice < 1000 && removed < 1000; ++slice) {
    removed += ct.Age(60'000, 64);
    while (reused < removed) {
      ++reused;
      EXPECT_EQ(ct.Add(Key("10.0.2.1", reused, "10.0.0.2", 53, IPPROTO_UDP), 0, 0, 0, 0,
                       CtProto::kUdpUnreplied, 60'000, 0, &e),
                Conntrack::Insert::kOk);
    }
  }
  const uint64_t during = bursts.load();
  while (bursts.load() < during + 100) std::this_thread::yield();  // still running
  stop.store(true);
  worker.join();
  EXPECT_EQ(removed, 1000u);
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(ct.connections(), 1u + reused);
}

// gRPC and the ager are no EAL lcores: removing from them must work and the records must be
// reusable.
TEST(ConntrackControlThreads, FlushAndAgeFromANonEalThread) {
  testing::Eal();
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 64}, nullptr, &error, "ct_thr")) << error;
  CtEntry* e = nullptr;
  for (int round = 0; round < 3; ++round) {
    uint32_t added = 0;
    for (uint16_t p = 1; p <= 40; ++p) {
      if (ct.Add(Key("10.0.0.5", p, "10.0.0.6", 53, IPPROTO_UDP), 0, 0, 0, 0,
                 CtProto::kUdpUnreplied, 0, 0, &e) == Conntrack::Insert::kOk)
        ++added;
    }
    EXPECT_EQ(added, 40u) << "round " << round;
    size_t removed = 0;
    std::thread control([&] {
      removed = ct.Age(60'000, 20);
      removed += ct.Flush(CtFilter{});
    });
    control.join();
    EXPECT_EQ(removed, 40u);
    EXPECT_EQ(ct.connections(), 0u);
  }
}

// A busy node's tuples: one client, many source ports, a few Services' backends.
CtKey ClientKey(uint32_t i) {
  return CtKey{htonl(0x0af40102 + i / 60000),
               htonl(0x0a60000a),
               htons(1024 + i % 60000),
               htons(80),
               IPPROTO_TCP,
               {}};
}

// A key built just before it is hashed hashes by its own fields, and the keys spread over every
// bucket (CtKeyHash reads the key through memcpy: see dataplane/core/crc32c.h).
TEST(ConntrackKeyHash, KeysBuiltJustBeforeHashingHashByTheirFields) {
  std::set<uint32_t> hashes;
  std::set<uint32_t> buckets;
  CtBucket mem[64];
  CtBuckets index;
  index.Attach(mem, 64, 0);
  for (uint32_t i = 0; i < 1000; ++i) {
    CtKey k{htonl(0x0af40102), htonl(0x0a60000a), htons(1024 + i), htons(80), IPPROTO_TCP, {}};
    buckets.insert(index.Place(CtKeyHash(k)).first);
    hashes.insert(CtKeyHash(k));
  }
  EXPECT_EQ(hashes.size(), 1000u);
  EXPECT_EQ(buckets.size(), 64u);
  const CtKey a = ClientKey(7);
  CtKey b = a;
  b.proto = IPPROTO_UDP;
  EXPECT_NE(CtKeyHash(a), CtKeyHash(b));
}

// The table holds exactly the connections it was sized for, each under both keys, refuses the
// next one, and takes as many again after a flush.
TEST(ConntrackCapacity, HoldsExactlyItsCapacityThenRefuses) {
  testing::Eal();
  constexpr uint32_t kCap = 20000;
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = kCap}, nullptr, &error, "ct_cap")) << error;
  for (int round = 0; round < 2; ++round) {
    CtEntry* e = nullptr;
    uint32_t ok = 0;
    for (uint32_t i = 0; i < kCap; ++i) {
      // DNAT to one of 13 backends: the reply keys differ only in the client's port.
      ok += ct.Add(ClientKey(i), htonl(0x0a010000 + i % 13), htons(8080), 0, 0,
                   CtProto::kTcpEstablished, 0, 0, &e) == Conntrack::Insert::kOk;
    }
    EXPECT_EQ(ok, kCap) << "round " << round;
    EXPECT_EQ(ct.connections(), kCap);
    EXPECT_EQ(ct.Add(ClientKey(kCap), 0, 0, 0, 0, CtProto::kTcpSynSent, 0, 0, &e),
              Conntrack::Insert::kFull);
    uint32_t found = 0;
    for (uint32_t i = 0; i < kCap; i += 7) {
      const CtKey back{htonl(0x0a010000 + i % 13),
                       htonl(0x0af40102 + i / 60000),
                       htons(8080),
                       htons(1024 + i % 60000),
                       IPPROTO_TCP,
                       {}};
      auto o = Find(ct, ClientKey(i));
      auto r = Find(ct, back);
      found += o && r && o->entry == r->entry && !o->reply && r->reply;
    }
    EXPECT_EQ(found, (kCap + 6) / 7);
    EXPECT_EQ(ct.Flush(CtFilter{}), kCap);
    EXPECT_EQ(ct.connections(), 0u);
  }
}

// Two workers open connections at once into buckets they share: every add lands, once, and is
// found under both keys.
TEST(ConntrackConcurrency, WorkersAddingAtOnceLoseNothing) {
  testing::Eal();
  constexpr uint32_t kPerWorker = 3000;
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{.entries = 2 * kPerWorker}, nullptr, &error, "ct_conc"))
      << error;
  std::atomic<int> ready{0};
  std::atomic<uint32_t> ok{0};
  auto work = [&](uint32_t base) {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    CtBurstAdds adds;
    adds.Clear();
    for (uint32_t i = base; i < base + kPerWorker; ++i) {
      if (i % 32 == 0) adds.Clear();
      const CtKey k = ClientKey(i);
      CtEntry* e = nullptr;
      ok += ct.AddNew(k, CtKeyHash(k), 0, 0, 0, 0, CtProto::kUdpUnreplied, 0, 0, &e, adds) ==
            Conntrack::Insert::kOk;
    }
  };
  std::thread a(work, 0);
  std::thread b(work, kPerWorker);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 2 * kPerWorker);
  EXPECT_EQ(ct.connections(), 2 * kPerWorker);
  uint32_t found = 0;
  for (uint32_t i = 0; i < 2 * kPerWorker; ++i) found += Find(ct, ClientKey(i)).has_value();
  EXPECT_EQ(found, 2 * kPerWorker);
  EXPECT_EQ(ct.List(CtFilter{}, 10 * kPerWorker).size(), 2 * kPerWorker);
}

TEST(ConntrackMemory, DefaultTableReportsTheDocumentedBytesPerConnection) {
  testing::Eal();
  Conntrack ct;
  std::string error;
  ASSERT_TRUE(ct.Init(Conntrack::Limits{}, nullptr, &error, "ct_mem")) << error;
  EXPECT_EQ(ct.capacity(), Conntrack::kDefaultEntries);
  EXPECT_EQ(ct.bytes_per_connection(), Conntrack::kDefaultBytesPerConnection);
  EXPECT_LE(ct.bytes_per_connection(), Conntrack::kMaxBytesPerConnection);
}

}  // namespace
}  // namespace nodeplane::dp
