// errno values and netlink error ACKs as absl::Status, with messages that name the object involved.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace nodeplane::ctl {

// strerror text, safe to call from any thread.
std::string ErrnoText(int err);

// "<what>: <strerror>[ (kernel: <extack>)]". The code follows the errno: EEXIST -> AlreadyExists;
// ENOENT/ENODEV/ESRCH/ENXIO/EADDRNOTAVAIL -> NotFound; EINVAL/ERANGE/ENAMETOOLONG ->
// InvalidArgument; EPERM/EACCES -> PermissionDenied; anything else -> Internal.
absl::Status ErrnoStatus(int err, std::string_view what, std::string_view kernel_msg = {});

// Same code, message "<prefix>: <message>": lower layers know the link, callers add the netns.
absl::Status WithPrefix(const absl::Status& status, std::string_view prefix);

// `"name"`, for messages: names may be empty or contain odd characters.
std::string Quoted(std::string_view s);

}  // namespace nodeplane::ctl
