// Crc32c is the hash of conntrack keys, Service keys and the SCTP checksum: it must give DPDK's
// rte_hash_crc value for every length and start value, and the standard CRC32-C.
#include "dataplane/core/crc32c.h"

#include <gtest/gtest.h>
#include <rte_hash_crc.h>

#include <cstdint>
#include <random>
#include <vector>

namespace nodeplane::dp {
namespace {

TEST(Crc32c, StandardCheckValue) {
  // RFC 3720 B.4 / the usual check: CRC32-C("123456789") = 0xE3069283 (init and final xor ~0).
  const char text[] = "123456789";
  EXPECT_EQ(~Crc32c(text, 9, 0xffffffffu), 0xE3069283u);
}

TEST(Crc32c, SameAsRteHashCrcForEveryLengthAndStart) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(64);
  for (int round = 0; round < 200; ++round) {
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const uint32_t init = rng();
    for (size_t len = 0; len <= data.size(); ++len) {
      ASSERT_EQ(Crc32c(data.data(), len, init), rte_hash_crc(data.data(), len, init))
          << "length " << len << " init " << init;
    }
  }
}

}  // namespace
}  // namespace nodeplane::dp
