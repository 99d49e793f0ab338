// Reading Kubernetes JSON objects with errors that name the field: a JsonField is a value and its
// path inside the object ("spec.ports[1].targetPort"). Missing and null fields read as defaults,
// fields of the wrong type throw FieldError, which the translators turn into INVALID_ARGUMENT
// naming the object as well. Exceptions never leave control/agent.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nodeplane::agent {

using Json = nlohmann::json;

class FieldError : public std::runtime_error {
 public:
  FieldError(const std::string& path, const std::string& what)
      : std::runtime_error(path + ": " + what) {}
};

class JsonField {
 public:
  JsonField(const Json& value, std::string path) : value_(&value), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const Json& value() const { return *value_; }
  // Present and not null.
  bool Present() const { return !value_->is_null(); }
  bool Has(const std::string& key) const;

  // A member (a null field when absent); the value must be an object or null.
  JsonField operator[](const std::string& key) const;
  // The elements of an array (none when absent).
  std::vector<JsonField> Items() const;

  std::string Str(const std::string& key, const std::string& fallback = "") const;
  // A string that must be present and non-empty.
  std::string RequiredStr(const std::string& key) const;
  int64_t Int(const std::string& key, int64_t lo, int64_t hi, int64_t fallback = 0) const;
  bool Bool(const std::string& key, bool fallback) const;
  std::vector<std::string> StrList(const std::string& key) const;
  std::map<std::string, std::string> StrMap(const std::string& key) const;

  [[noreturn]] void Fail(const std::string& what) const { throw FieldError(path_, what); }

 private:
  static const Json& Null();
  std::string Child(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  const Json* value_;
  std::string path_;
};

}  // namespace nodeplane::agent
