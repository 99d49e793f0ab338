// nodeplane-conformance: runs conformance cases against nodeplane's real API and dataplane.
//   nodeplane-conformance netpol --cases DIR   every *.yaml in DIR (tests/conformance/README.md)
// Prints each mismatch, then "N passed, M failed" (cases); exits non-zero on any failure.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tests/conformance/netpol_case.h"
#include "tests/conformance/netpol_runner.h"

namespace {

int Usage() {
  std::cerr << "usage: nodeplane-conformance netpol --cases DIR\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::strcmp(argv[1], "netpol") != 0 || std::strcmp(argv[2], "--cases") != 0) {
    return Usage();
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(argv[3], ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path().string());
  }
  if (ec) {
    std::cerr << "nodeplane-conformance: " << argv[3] << ": " << ec.message() << "\n";
    return 2;
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "nodeplane-conformance: no case files (*.yaml) in " << argv[3] << "\n";
    return 2;
  }
  nodeplane::conformance::NetpolRunner runner;
  std::string error;
  if (!runner.Start(&error)) {
    std::cerr << "nodeplane-conformance: " << error << "\n";
    return 2;
  }
  int passed = 0, failed = 0;
  for (const std::string& file : files) {
    auto c = nodeplane::conformance::LoadCase(file);
    bool ok = false;
    if (!c.ok()) {
      std::cout << file << ": " << c.status().message() << "\n";
    } else {
      ok = runner.Run(*c, std::cout);
      std::cout << (ok ? "PASS " : "FAIL ") << c->id << "  " << c->name << std::endl;
    }
    (ok ? passed : failed)++;
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
