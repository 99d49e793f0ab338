// Minimal libpcap file reading for the golden tests (microsecond and nanosecond
// formats, either byte order); only the frames matter here, not their timestamps.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nodeplane::pcaptest {

using Frame = std::vector<uint8_t>;

struct PcapFile {
  uint32_t linktype = 1;  // DLT_EN10MB
  std::vector<Frame> frames;
};

// nullopt with *error on a missing or malformed file.
std::optional<PcapFile> ReadPcap(const std::string& path, std::string* error);

}  // namespace nodeplane::pcaptest
