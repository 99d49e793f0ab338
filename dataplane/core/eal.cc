#include "dataplane/core/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace nodeplane::dp {
namespace {

bool HugetlbfsMounted() {
  std::ifstream mounts("/proc/mounts");
  std::string dev, dir, type;
  std::string rest;
  while (mounts >> dev >> dir >> type) {
    std::getline(mounts, rest);
    if (type == "hugetlbfs") return true;
  }
  return false;
}

}  // namespace

uint64_t FreeHugepageBytes() {
  if (!HugetlbfsMounted()) return 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  uint64_t free_pages = 0, page_kb = 0;
  while (std::getline(meminfo, line)) {
    std::istringstream in(line);
    std::string key;
    uint64_t value = 0;
    in >> key >> value;
    if (key == "HugePages_Free:") free_pages = value;
    if (key == "Hugepagesize:") page_kb = value;
  }
  return free_pages * page_kb * 1024;
}

bool StartEal(const EalConfig& cfg, EalInfo* info, std::string* error) {
  // The EAL may keep pointers into argv, so it lives as long as the process.
  static std::vector<std::string> args;
  args = {cfg.program, "-l", cfg.lcores, "--log-level", "lib.eal:warning",
                                   "-m", std::to_string(cfg.memory_mb)};
  const uint64_t need = uint64_t{cfg.memory_mb} << 20;
  info->hugepages = !cfg.force_no_huge && FreeHugepageBytes() >= need;
  if (!info->hugepages) {
    if (!cfg.force_no_huge) {
      std::fprintf(stderr,
                   "nodeplane: warning: fewer than %u MB of free mounted hugepages; running with "
                   "--no-huge (slower, for labs and tests)\n",
                   cfg.memory_mb);
    }
    args.push_back("--no-huge");
  }
  if (!cfg.pci) args.push_back("--no-pci");
  if (!cfg.file_prefix.empty()) {
    args.push_back("--file-prefix");
    args.push_back(cfg.file_prefix);
  }
  args.insert(args.end(), cfg.extra.begin(), cfg.extra.end());
  static std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
    *error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
    return false;
  }
  info->worker_lcores.push_back(rte_get_main_lcore());
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { info->worker_lcores.push_back(lcore); }
  return true;
}

void StopEal() { rte_eal_cleanup(); }

}  // namespace nodeplane::dp
