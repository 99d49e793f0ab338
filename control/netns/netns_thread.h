// Network namespace handles, and running code inside another namespace on a throwaway thread.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/netns/unique_fd.h"

namespace nodeplane::ctl {

// Opens `netns_path` (/run/netns/NAME, /proc/PID/ns/net, ...) and checks it is a network
// namespace. NotFound naming the path if it does not exist or is something else.
absl::StatusOr<UniqueFd> OpenNetns(const std::string& netns_path);

// The calling thread's own network namespace (/proc/thread-self, not /proc/self: only this thread
// matters), e.g. to move a link back where it came from.
absl::StatusOr<UniqueFd> OpenThreadNetns();

// Runs `fn` on a new thread that first joins `netns_fd` with setns(CLONE_NEWNET), and waits for it.
// setns changes only the thread that calls it, so the caller (a control thread of a multithreaded
// daemon) stays where it is; the thread dies with the namespace it joined.
absl::Status RunInNetns(int netns_fd, const std::function<absl::Status()>& fn);

}  // namespace nodeplane::ctl
