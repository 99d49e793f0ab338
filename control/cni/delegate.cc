#include "control/cni/delegate.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

extern char** environ;

namespace nodeplane::cni {
namespace {

std::string FindInPath(const std::string& type, const std::string& cni_path) {
  if (type.find('/') != std::string::npos) return "";  // a type is a name, never a path
  size_t start = 0;
  while (start <= cni_path.size()) {
    size_t end = cni_path.find(':', start);
    if (end == std::string::npos) end = cni_path.size();
    const std::string dir = cni_path.substr(start, end - start);
    if (!dir.empty()) {
      const std::string candidate = dir + "/" + type;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

DelegateResult RunDelegate(const std::string& type, const std::string& cni_path, const Json& config,
                           const std::map<std::string, std::string>& env_overrides) {
  DelegateResult out;
  const std::string binary = FindInPath(type, cni_path);
  if (binary.empty()) {
    out.error = CniError{kInvalidConfig, "ipam plugin \"" + type + "\" not found in CNI_PATH",
                         "CNI_PATH=" + cni_path};
    return out;
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (!env_overrides.contains(key)) env.push_back(kv);
  }
  for (const auto& [k, v] : env_overrides) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in[2], outp[2];
  if (pipe(in) != 0 || pipe(outp) != 0) {
    out.error = CniError{kIoFailure, "pipe: " + std::string(std::strerror(errno)), ""};
    return out;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(outp[1], 1);
    close(in[0]);
    close(in[1]);
    close(outp[0]);
    close(outp[1]);
    char* argv[] = {const_cast<char*>(binary.c_str()), nullptr};
    execve(binary.c_str(), argv, envp.data());
    _exit(127);
  }
  close(in[0]);
  close(outp[1]);
  WriteAll(in[1], config.dump());
  close(in[1]);
  std::string stdout_text;
  char buf[4096];
  for (ssize_t n; (n = read(outp[0], buf, sizeof buf)) > 0;) stdout_text.append(buf, static_cast<size_t>(n));
  close(outp[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Json parsed;
  if (!stdout_text.empty()) {
    try {
      parsed = Json::parse(stdout_text);
    } catch (const Json::exception&) {
      out.error = CniError{kDecodeFailure, "ipam plugin \"" + type + "\" printed no JSON", stdout_text.substr(0, 200)};
      return out;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = parsed.is_object() && parsed.contains("code") && parsed["code"].is_number_integer()
                         ? parsed["code"].get<int>() : kIoFailure;
    const std::string msg = parsed.is_object() ? parsed.value("msg", "") : "";
    out.error = CniError{code, "ipam plugin \"" + type + "\": " + (msg.empty() ? "failed" : msg),
                         parsed.is_object() ? parsed.value("details", "") : ""};
    return out;
  }
  out.result = parsed;
  return out;
}

}  // namespace nodeplane::cni
