// TestEal: one EAL per test process, without hugepages, with its runtime directory cleaned up.
#include "dataplane/testing/test_eal.h"

#include <dirent.h>
#include <rte_eal.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "dataplane/core/eal.h"
#include "dataplane/core/ports.h"

namespace nodeplane::dp::testing {
namespace {

constexpr uint32_t kTestMemoryMb = 256;
constexpr uint32_t kTestMbufs = 8191;  // a power of two minus one suits the mempool best

std::string g_runtime_dir;  // the EAL's runtime directory, removed at exit

void CleanUp() {
  rte_eal_cleanup();
  if (!g_runtime_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(g_runtime_dir, ec);
  }
}

// Runtime directories of earlier test processes that died without cleaning up ("np-<tag>-<pid>"
// whose pid is gone). Only our own naming pattern is touched.
void RemoveStaleRuntimeDirs(const std::string& parent, const std::string& tag) {
  const std::string prefix = "np-" + tag + "-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::filesystem::exists("/proc/" + pid)) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

// The EAL pins the main thread to lcore 0's CPU. Test processes run in parallel and start helper
// threads, so let them float over every CPU again (this does not change rte_lcore_id()).
void UnpinMainThread() {
  cpu_set_t all;
  CPU_ZERO(&all);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  for (long c = 0; c < cpus && c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
  sched_setaffinity(0, sizeof(all), &all);
}

TestEal* Start(const char* tag) {
  auto* eal = new TestEal;  // lives until exit
  eal->file_prefix = std::string("np-") + tag + "-" + std::to_string(getpid());
  EalConfig cfg{
      .program = std::string("np-") + tag,
      .lcores = "0",
      .file_prefix = eal->file_prefix,
      .memory_mb = kTestMemoryMb,
      .force_no_huge = true,
      .pci = false,
      .extra = {"--no-telemetry", "--log-level=lib.eal:error", "--log-level=pmd.net.*:error"}};
  EalInfo info;
  std::string error;
  if (!StartEal(cfg, &info, &error)) {
    std::fprintf(stderr, "test EAL: %s\n", error.c_str());
    std::abort();
  }
  g_runtime_dir = rte_eal_get_runtime_dir();
  std::atexit(CleanUp);
  RemoveStaleRuntimeDirs(std::filesystem::path(g_runtime_dir).parent_path().string(), tag);
  UnpinMainThread();
  eal->pool = CreatePacketPool(kTestMbufs, &error);
  if (eal->pool == nullptr) {
    std::fprintf(stderr, "test EAL: %s\n", error.c_str());
    std::abort();
  }
  return eal;
}

}  // namespace

const TestEal& Eal(const char* tag) {
  static TestEal* eal = Start(tag);
  return *eal;
}

unsigned MbufsInUse() { return rte_mempool_in_use_count(Eal().pool); }

}  // namespace nodeplane::dp::testing
