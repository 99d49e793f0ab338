// nodeplanectl: the operator's command-line client of nodeplaned (usage: nodeplanectl --help).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "control/cli/args.h"
#include "control/cli/commands.h"

int main(int argc, char** argv) {
  namespace cli = nodeplane::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<cli::Invocation> invocation =
      cli::ParseArgs(args, std::getenv(std::string(cli::kSocketEnv).c_str()));
  if (!invocation.ok()) {
    std::cerr << "nodeplanectl: " << invocation.status().message()
              << " (see 'nodeplanectl --help')\n";
    return cli::kExitUsage;
  }
  int code = cli::Run(*invocation, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
