// TestEal: starts the EAL once per test process (no hugepages, no PCI, a private --file-prefix)
// and creates the packet pool; removes the process's DPDK runtime directory when it exits.
#pragma once
#include <rte_mempool.h>

#include <string>

namespace nodeplane::dp::testing {

struct TestEal {
  rte_mempool* pool = nullptr;  // CreatePacketPool(): every mbuf carries a PacketMeta
  std::string file_prefix;      // "np-<tag>-<pid>"
};

// Starts the EAL on first use and returns it; later calls return the same object. Aborts the
// process with a message if the EAL cannot start (every test in the binary would fail anyway).
// `tag` names the binary's kind in the file prefix ("utest", "pcap", ...); only the first call's
// tag counts.
const TestEal& Eal(const char* tag = "utest");

// Packets in use from the pool (allocated and not yet freed): tests use it to prove nothing leaks.
unsigned MbufsInUse();

}  // namespace nodeplane::dp::testing
