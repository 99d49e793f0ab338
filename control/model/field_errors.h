// The shared vocabulary of API validation: field paths ("services[0].ports[1].node_port") and the
// INVALID_ARGUMENT that names one, plus the Kubernetes name rules every kind checks. One place, so
// every kind's errors read the same.
#pragma once
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nodeplane::ctl {

// "pods[0]" + "ips" → "pods[0].ips"; a top-level message (empty prefix) → "ips".
inline std::string Sub(const std::string& field, const std::string& name) {
  return field.empty() ? name : field + "." + name;
}
// "pods" + 2 → "pods[2]".
inline std::string At(const std::string& field, int i) { return absl::StrCat(field, "[", i, "]"); }

inline absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// RFC 1123 label (namespaces, Service names) or, with dots, subdomain (object names), as
// Kubernetes validates them.
inline bool IsDns1123(const std::string& s, size_t max_len, bool dots_allowed) {
  if (s.empty() || s.size() > max_len) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && !(dots_allowed && c == '.')) return false;
  }
  return true;
}

// A Kubernetes label value: empty, or at most 63 alphanumerics, '-', '_' and '.', beginning and
// ending with an alphanumeric.
inline bool IsLabelValue(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace nodeplane::ctl
