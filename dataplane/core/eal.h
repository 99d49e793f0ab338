// EAL start-up. Chooses hugepages when enough are reserved and mounted, otherwise falls back to
// --no-huge by itself with a warning (labs, CI, laptops), then starts the EAL.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nodeplane::dp {

struct EalConfig {
  std::string program = "nodeplaned";
  std::string lcores = "0";           // EAL -l: the first is the main lcore, all run workers
  std::string file_prefix;            // isolates this instance's runtime files (several per host)
  uint32_t memory_mb = 512;           // memory to ask for (-m) in either mode
  bool force_no_huge = false;         // skip the hugepage check
  bool pci = false;                   // scan the PCI bus (real NICs); vdev-only setups leave it off
  std::vector<std::string> extra;     // further EAL arguments, passed through
};

struct EalInfo {
  bool hugepages = false;
  std::vector<unsigned> worker_lcores;  // main lcore first
};

// Returns false with *error on failure. Call once per process.
bool StartEal(const EalConfig& cfg, EalInfo* info, std::string* error);
void StopEal();

// How many free hugepages of the default size are reserved and mounted (0 if none usable).
uint64_t FreeHugepageBytes();

}  // namespace nodeplane::dp
