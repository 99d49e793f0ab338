#include "control/agent/kube_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace nodeplane::agent {
namespace {

struct Transfer {
  CURL* curl = nullptr;
  const std::function<bool(std::string_view)>* on_line = nullptr;
  const std::atomic<bool>* stop = nullptr;
  std::string pending;   // a partial line, or the whole body of a non-streamed / non-200 answer
  bool stopped = false;
};

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  t->pending.append(data, len);
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (t->on_line == nullptr || code != 200) return len;
  size_t start = 0;
  for (size_t nl; (nl = t->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(t->pending.data() + start, nl - start);
    if (!line.empty() && !(*t->on_line)(line)) {
      t->stopped = true;
      return 0;  // aborts the transfer
    }
  }
  t->pending.erase(0, start);
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->stop != nullptr && t->stop->load()) {
    t->stopped = true;
    return 1;
  }
  return 0;
}

void SetBlob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

KubeClient::KubeClient(KubeConfig config) : config_(std::move(config)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string KubeClient::Token() const {
  if (!config_.token_file.empty()) {
    auto t = ReadFile(config_.token_file);
    if (t.ok()) {
      std::string s = *t;
      s.erase(s.find_last_not_of(" \r\n\t") + 1);
      return s;
    }
  }
  return config_.token;
}

HttpResult KubeClient::Get(const std::string& path, std::chrono::seconds timeout) const {
  return Run(path, timeout, nullptr, nullptr);
}

HttpResult KubeClient::Stream(const std::string& path, std::chrono::seconds timeout,
                              const std::function<bool(std::string_view)>& on_line,
                              const std::atomic<bool>* stop) const {
  return Run(path, timeout, &on_line, stop);
}

HttpResult KubeClient::Run(const std::string& path, std::chrono::seconds timeout,
                           const std::function<bool(std::string_view)>* on_line,
                           const std::atomic<bool>* stop) const {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  HttpResult result;
  if (!curl) {
    result.error = "curl_easy_init failed";
    return result;
  }
  CURL* c = curl.get();
  Transfer t;
  t.curl = c;
  t.on_line = on_line;
  t.stop = stop;
  const std::string url = config_.server + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  const std::string token = Token();
  const std::string auth = "Authorization: Bearer " + token;
  if (!token.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (!config_.ca_pem.empty()) SetBlob(c, CURLOPT_CAINFO_BLOB, config_.ca_pem);
  if (!config_.client_cert_pem.empty()) {
    SetBlob(c, CURLOPT_SSLCERT_BLOB, config_.client_cert_pem);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    SetBlob(c, CURLOPT_SSLKEY_BLOB, config_.client_key_pem);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
  result.stopped = t.stopped;
  if (on_line == nullptr || result.status != 200) result.body = std::move(t.pending);
  if (rc != CURLE_OK && !t.stopped) result.error = curl_easy_strerror(rc);
  return result;
}

}  // namespace nodeplane::agent
