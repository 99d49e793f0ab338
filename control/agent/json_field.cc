#include "control/agent/json_field.h"

namespace nodeplane::agent {
namespace {

const char* TypeName(const Json& v) { return v.type_name(); }

}  // namespace

const Json& JsonField::Null() {
  static const Json null;
  return null;
}

bool JsonField::Has(const std::string& key) const { return (*this)[key].Present(); }

JsonField JsonField::operator[](const std::string& key) const {
  if (value_->is_null()) return JsonField(Null(), Child(key));
  if (!value_->is_object()) Fail(std::string("expected an object, got ") + TypeName(*value_));
  auto it = value_->find(key);
  return JsonField(it == value_->end() ? Null() : *it, Child(key));
}

std::vector<JsonField> JsonField::Items() const {
  std::vector<JsonField> out;
  if (value_->is_null()) return out;
  if (!value_->is_array()) Fail(std::string("expected an array, got ") + TypeName(*value_));
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) {
    out.emplace_back((*value_)[i], path_ + "[" + std::to_string(i) + "]");
  }
  return out;
}

std::string JsonField::Str(const std::string& key, const std::string& fallback) const {
  JsonField f = (*this)[key];
  if (!f.Present()) return fallback;
  if (!f.value().is_string()) f.Fail(std::string("expected a string, got ") + TypeName(f.value()));
  return f.value().get<std::string>();
}

std::string JsonField::RequiredStr(const std::string& key) const {
  std::string s = Str(key);
  if (s.empty()) (*this)[key].Fail("required");
  return s;
}

int64_t JsonField::Int(const std::string& key, int64_t lo, int64_t hi, int64_t fallback) const {
  JsonField f = (*this)[key];
  if (!f.Present()) return fallback;
  if (!f.value().is_number_integer()) {
    f.Fail(std::string("expected an integer, got ") + TypeName(f.value()));
  }
  const int64_t v = f.value().get<int64_t>();
  if (v < lo || v > hi) {
    f.Fail(std::to_string(v) + " outside " + std::to_string(lo) + "-" + std::to_string(hi));
  }
  return v;
}

bool JsonField::Bool(const std::string& key, bool fallback) const {
  JsonField f = (*this)[key];
  if (!f.Present()) return fallback;
  if (!f.value().is_boolean()) f.Fail(std::string("expected a boolean, got ") + TypeName(f.value()));
  return f.value().get<bool>();
}

std::vector<std::string> JsonField::StrList(const std::string& key) const {
  std::vector<std::string> out;
  for (const JsonField& item : (*this)[key].Items()) {
    if (!item.value().is_string()) {
      item.Fail(std::string("expected a string, got ") + TypeName(item.value()));
    }
    out.push_back(item.value().get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> JsonField::StrMap(const std::string& key) const {
  std::map<std::string, std::string> out;
  JsonField f = (*this)[key];
  if (!f.Present()) return out;
  if (!f.value().is_object()) f.Fail(std::string("expected an object, got ") + TypeName(f.value()));
  for (auto it = f.value().begin(); it != f.value().end(); ++it) {
    if (!it.value().is_string()) {
      f[it.key()].Fail(std::string("expected a string, got ") + TypeName(it.value()));
    }
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

}  // namespace nodeplane::agent
