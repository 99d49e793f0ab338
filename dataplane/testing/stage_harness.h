// StageHarness<S>: runs frames through one stage the way the pipeline would. The stages before S
// (pipeline order, as in dataplane/core/pipeline.cc) run first to fill PacketMeta exactly as they
// do in production; the outcome says which stage decided, with the meta and bytes it left.
#pragma once
#include <gtest/gtest.h>

#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/core/stage.h"
#include "dataplane/core/worker_counters.h"
#include "dataplane/stages/arp_respond.h"
#include "dataplane/stages/ct_commit.h"
#include "dataplane/stages/ct_fastpath.h"
#include "dataplane/stages/ct_lookup.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/stages/host_exception.h"
#include "dataplane/stages/ip4_forward.h"
#include "dataplane/stages/ip4_lookup.h"
#include "dataplane/stages/nat_rewrite.h"
#include "dataplane/stages/svc_lb.h"
#include "dataplane/stages/policy.h"
#include "dataplane/stages/vxlan_decap.h"
#include "dataplane/stages/vxlan_encap.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"

namespace nodeplane::dp::testing {

// The order of dataplane/core/pipeline.cc's RunPipeline (pipeline_test.cc checks the two agree by
// running the same frames through both).
using PipelineStages =
    std::tuple<EthParseStage, VxlanDecapStage, ArpRespondStage, CtLookupStage, CtFastpathStage,
               SvcLbStage, PolicyStage, CtCommitStage, NatRewriteStage, Ip4LookupStage,
               Ip4ForwardStage, VxlanEncapStage, HostExceptionStage>;

struct Input {
  Bytes frame;
  uint16_t in_port = 0;
  uint64_t ol_flags = 0;  // rx offload flags as a driver would set them
  uint32_t rss = 0;       // the RSS hash a driver would set (with RTE_MBUF_F_RX_RSS_HASH)
};

struct Outcome {
  Edge edge = Edge::kNext;
  std::string_view decided_by;  // the stage that chose `edge` (S itself for kNext)
  PacketMeta meta{};
  Bytes bytes;  // the frame as that stage left it
};

template <Stage S>
class StageHarness {
 public:
  explicit StageHarness(const Snapshot& snap, uint16_t worker = 0)
      : snap_(snap), worker_(worker), in_use_before_(MbufsInUse()) {}

  // One frame as a burst of one.
  Outcome Run(const Bytes& frame, uint16_t in_port, uint64_t ol_flags = 0) {
    return RunBurst({Input{frame, in_port, ol_flags}}).front();
  }

  // A burst (up to kBurstMax frames); outcomes in input order. Every mbuf is freed on return.
  std::vector<Outcome> RunBurst(const std::vector<Input>& inputs) {
    if (inputs.size() > kBurstMax) {
      ADD_FAILURE() << "a burst holds at most " << kBurstMax << " packets, got " << inputs.size();
      return std::vector<Outcome>(inputs.size());
    }
    std::vector<Outcome> out(inputs.size());
    std::vector<rte_mbuf*> mbufs(inputs.size());
    Burst b;
    for (size_t i = 0; i < inputs.size(); ++i) {
      mbufs[i] = ToMbuf(inputs[i].frame, inputs[i].in_port);
      mbufs[i]->ol_flags = inputs[i].ol_flags;
      mbufs[i]->hash.rss = inputs[i].rss;
      b.pkts[b.n++] = mbufs[i];
    }
    StageContext ctx{snap_, counters_, worker_};
    RunUpTo(ctx, b, mbufs, out, std::make_index_sequence<std::tuple_size_v<PipelineStages>>{});
    for (size_t i = 0; i < mbufs.size(); ++i) {
      out[i].meta = Meta(mbufs[i]);
      out[i].bytes = FromMbuf(mbufs[i]);
      rte_pktmbuf_free(mbufs[i]);
    }
    return out;
  }

  const WorkerCounters& counters() const { return counters_; }
  uint64_t drops(DropReason r) const { return counters_.drops[static_cast<uint8_t>(r)]; }
  uint64_t events(Counter c) const { return counters_.events[static_cast<uint8_t>(c)]; }
  // Mbufs this harness allocated and did not give back (must be 0 after every Run).
  int leaked_mbufs() const {
    return static_cast<int>(MbufsInUse()) - static_cast<int>(in_use_before_);
  }

 private:
  template <size_t... I>
  void RunUpTo(StageContext& ctx, Burst& b, const std::vector<rte_mbuf*>& mbufs,
               std::vector<Outcome>& out, std::index_sequence<I...>) {
    bool done = false;
    (RunIf<std::tuple_element_t<I, PipelineStages>>(ctx, b, mbufs, out, done), ...);
  }

  template <typename T>
  void RunIf(StageContext& ctx, Burst& b, const std::vector<rte_mbuf*>& mbufs,
             std::vector<Outcome>& out, bool& done) {
    if (done) return;
    if constexpr (std::is_same_v<T, S>) done = true;
    if (b.n == 0) return;
    Verdicts v;
    T::Process(ctx, b, v);
    uint16_t kept = 0;
    for (uint16_t i = 0; i < b.n; ++i) {
      const size_t at = IndexOf(mbufs, b.pkts[i]);
      out[at].edge = v.edge[i];
      out[at].decided_by = T::kName;
      if (v.edge[i] == Edge::kNext) b.pkts[kept++] = b.pkts[i];
      if (v.edge[i] == Edge::kDrop)
        ctx.counters.Drop(Meta(b.pkts[i]).drop);  // as the pipeline does
    }
    b.n = kept;
  }

  static size_t IndexOf(const std::vector<rte_mbuf*>& mbufs, const rte_mbuf* m) {
    for (size_t i = 0; i < mbufs.size(); ++i) {
      if (mbufs[i] == m) return i;
    }
    return 0;
  }

  const Snapshot& snap_;
  const uint16_t worker_;
  const unsigned in_use_before_;
  WorkerCounters counters_;
};

}  // namespace nodeplane::dp::testing
