// errno -> absl::Status conversion for the netns library.
#include "control/netns/errors.h"

#include <cerrno>
#include <cstring>

namespace nodeplane::ctl {

std::string ErrnoText(int err) {
  char buf[128];
  // GNU strerror_r: returns a pointer to a static string or to buf.
  return ::strerror_r(err, buf, sizeof buf);
}

absl::Status ErrnoStatus(int err, std::string_view what, std::string_view kernel_msg) {
  std::string msg(what);
  msg += ": ";
  msg += ErrnoText(err);
  if (!kernel_msg.empty()) {
    msg += " (kernel: ";
    msg += kernel_msg;
    msg += ")";
  }
  switch (err) {
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case ENOENT:
    case ENODEV:
    case ESRCH:
    case ENXIO:
    case EADDRNOTAVAIL:
      return absl::NotFoundError(msg);
    case EINVAL:
    case ERANGE:
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(msg);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status WithPrefix(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  std::string msg(prefix);
  msg += ": ";
  msg += std::string(status.message());  // absl::string_view may not be std::string_view
  return absl::Status(status.code(), msg);
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += "\"";
  return out;
}

}  // namespace nodeplane::ctl
