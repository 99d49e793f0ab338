// Runs one parsed nodeplanectl invocation against nodeplaned: one gRPC call, then its output.
#pragma once

#include <chrono>
#include <ostream>

#include "control/cli/args.h"

namespace nodeplane::cli {

// Every call gets a deadline so a wedged daemon cannot hang a script forever; 30 s leaves room for
// AttachPod, which creates an interface and waits for every worker to run the new generation.
inline constexpr std::chrono::seconds kCallDeadline{30};

// Writes the result to out and errors to err; returns the process exit code (kExitOk,
// kExitFailure). Command::kHelp prints the usage text without connecting.
int Run(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace nodeplane::cli
