// Minimal libpcap file reader for the golden tests.
#include "tests/pcap/pcap_file.h"

#include <fstream>
#include <iterator>

namespace nodeplane::pcaptest {
namespace {

uint32_t Read32(const uint8_t* p, bool swap) {
  const uint32_t v =
      uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  return swap ? __builtin_bswap32(v) : v;
}

}  // namespace

std::optional<PcapFile> ReadPcap(const std::string& path, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = "cannot open " + path;
    return std::nullopt;
  }
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
  if (b.size() < 24) {
    *error = path + ": shorter than a pcap file header";
    return std::nullopt;
  }
  const uint32_t magic = Read32(b.data(), false);
  bool swap;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    swap = false;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    swap = true;
  } else {
    *error = path + ": not a pcap file";
    return std::nullopt;
  }
  PcapFile out;
  out.linktype = Read32(b.data() + 20, swap);
  size_t at = 24;
  while (at < b.size()) {
    if (b.size() - at < 16) {
      *error = path + ": truncated record header at byte " + std::to_string(at);
      return std::nullopt;
    }
    const uint32_t caplen = Read32(b.data() + at + 8, swap);
    at += 16;
    if (b.size() - at < caplen) {
      *error = path + ": truncated record at byte " + std::to_string(at);
      return std::nullopt;
    }
    out.frames.emplace_back(b.begin() + static_cast<long>(at),
                            b.begin() + static_cast<long>(at + caplen));
    at += caplen;
  }
  return out;
}

}  // namespace nodeplane::pcaptest
