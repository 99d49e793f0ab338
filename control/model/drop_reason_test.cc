// Checks that drop_reasons.def and the API's nodeplane.v1.DropReason agree name for name
// (DROP_REASON_ + the .def's proto name) and number for number, in both directions, through the
// protobuf descriptor; and that the .def's numbers can index the per-worker counter arrays.
#include "nodeplane/drop_reason.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "nodeplane/counter.h"
#include "nodeplane/v1/stats.pb.h"

namespace nodeplane {
namespace {

struct DefEntry {
  int number;
  std::string proto_name;
  std::string metric_name;
};

std::vector<DefEntry> DropReasonsDef() {
  return {
#define NP_DROP_REASON(num, cpp, proto, metric, text) {num, #proto, #metric},
#include "nodeplane/drop_reasons.def"
#undef NP_DROP_REASON
  };
}

TEST(DropReasonDef, EveryReasonIsInTheProtoEnumWithTheSameNumber) {
  const google::protobuf::EnumDescriptor* e = v1::DropReason_descriptor();
  for (const DefEntry& d : DropReasonsDef()) {
    const std::string name = "DROP_REASON_" + d.proto_name;
    const google::protobuf::EnumValueDescriptor* by_name = e->FindValueByName(name);
    ASSERT_NE(by_name, nullptr) << name << " (drop_reasons.def number " << d.number
                                << ") is missing from stats.proto's DropReason";
    EXPECT_EQ(by_name->number(), d.number) << name;
    const google::protobuf::EnumValueDescriptor* by_number = e->FindValueByNumber(d.number);
    ASSERT_NE(by_number, nullptr);
    EXPECT_EQ(by_number->name(), name) << "number " << d.number;
  }
}

TEST(DropReasonDef, EveryProtoValueIsInTheDefWithTheSameNumber) {
  const google::protobuf::EnumDescriptor* e = v1::DropReason_descriptor();
  const std::vector<DefEntry> def = DropReasonsDef();
  for (int i = 0; i < e->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = e->value(i);
    bool found = false;
    for (const DefEntry& d : def) {
      if ("DROP_REASON_" + d.proto_name == v->name()) {
        found = true;
        EXPECT_EQ(d.number, v->number()) << v->name();
      }
    }
    EXPECT_TRUE(found) << v->name() << " = " << v->number()
                       << " is in stats.proto but not in drop_reasons.def";
  }
  EXPECT_EQ(static_cast<size_t>(e->value_count()), def.size());
}

TEST(DropReasonDef, NumbersAreUniqueAndIndexTheCounters) {
  // WorkerCounters::drops has kDropReasonCount slots indexed by the number; numbers are reserved
  // in blocks per area, so unused ones below the highest are allowed (and read "unknown").
  std::set<int> numbers;
  for (const DefEntry& d : DropReasonsDef()) {
    EXPECT_GE(d.number, 0);
    EXPECT_LT(d.number, kDropReasonCount) << d.proto_name;
    EXPECT_TRUE(numbers.insert(d.number).second) << "number " << d.number << " used twice";
  }
  EXPECT_EQ(*numbers.rbegin() + 1, kDropReasonCount) << "no slot beyond the highest number";
  for (int n = 0; n < kDropReasonCount; ++n) {
    if (!numbers.contains(n)) {
      EXPECT_EQ(DropReasonName(static_cast<DropReason>(n)), "unknown");
    }
  }
  EXPECT_EQ(static_cast<int>(DropReason::kUnspecified), 0);
}

TEST(DropReasonDef, NamesAreUniqueAndResolvable) {
  std::set<std::string> metrics, protos;
  for (const DefEntry& d : DropReasonsDef()) {
    EXPECT_TRUE(metrics.insert(d.metric_name).second) << d.metric_name;
    EXPECT_TRUE(protos.insert(d.proto_name).second) << d.proto_name;
    const auto r = static_cast<DropReason>(d.number);
    EXPECT_EQ(DropReasonName(r), d.metric_name);
    EXPECT_EQ(DropReasonProtoName(r), d.proto_name);
    EXPECT_FALSE(DropReasonText(r).empty());
  }
  EXPECT_EQ(DropReasonName(static_cast<DropReason>(200)), "unknown");
}

TEST(CounterDef, NumbersAreDenseFromZeroSoTheyIndexTheCounters) {
  std::set<int> numbers;
  std::set<std::string> names;
  const std::vector<std::pair<int, std::string>> def = {
#define NP_COUNTER(num, cpp, metric, text) {num, #metric},
#include "nodeplane/counters.def"
#undef NP_COUNTER
  };
  for (const auto& [num, name] : def) {
    EXPECT_LT(num, kCounterCount) << name;
    EXPECT_TRUE(numbers.insert(num).second) << "number " << num << " used twice";
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(CounterName(static_cast<Counter>(num)), name);
  }
  EXPECT_EQ(numbers.size(), kCounterCount);
}

}  // namespace
}  // namespace nodeplane
