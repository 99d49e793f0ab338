// CtPipe: runs frames through the pipeline's stages up to nat_rewrite, as RunPipeline does, with a
// stand-in for the decisions svc_lb and policy make between ct_lookup and ct_commit (a test sets
// meta.xlate_* or meta.policy_gen_ok through `decide`). Owns a small conntrack table the snapshot
// points to. Test-only.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/packet_meta.h"
#include "dataplane/core/snapshot.h"
#include "dataplane/stages/arp_respond.h"
#include "dataplane/stages/ct_commit.h"
#include "dataplane/stages/ct_lookup.h"
#include "dataplane/stages/eth_parse.h"
#include "dataplane/stages/nat_rewrite.h"
#include "dataplane/stages/vxlan_decap.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/test_eal.h"
#include "dataplane/testing/topology.h"

namespace nodeplane::dp::testing {

struct CtOutcome {
  Edge edge = Edge::kNext;
  std::string_view decided_by;
  PacketMeta meta{};
  Bytes bytes;
};

class CtPipe {
 public:
  using Decide = std::function<void(PacketMeta&)>;

  explicit CtPipe(uint32_t entries = 64) {
    Eal();
    std::string error;
    static int n = 0;
    const std::string name = "ct_pipe" + std::to_string(n++);
    if (!ct_.Init(Conntrack::Limits{.entries = entries}, nullptr, &error, name.c_str())) {
      ADD_FAILURE() << error;
    }
    snap_ = StandardTopology().Build();
    snap_->conntrack = &ct_;
  }

  Snapshot& snap() { return *snap_; }
  Conntrack& ct() { return ct_; }
  uint64_t drops(DropReason r) const { return counters_.drops[static_cast<uint8_t>(r)]; }
  uint64_t events(Counter c) const { return counters_.events[static_cast<uint8_t>(c)]; }

  CtOutcome Run(const Bytes& frame, uint16_t in_port, const Decide& decide = {}) {
    return RunBurst({frame}, in_port, decide).front();
  }

  std::vector<CtOutcome> RunBurst(const std::vector<Bytes>& frames, uint16_t in_port,
                                  const Decide& decide = {}) {
    std::vector<CtOutcome> out(frames.size());
    std::vector<rte_mbuf*> mbufs(frames.size());
    Burst b;
    for (size_t i = 0; i < frames.size(); ++i) {
      mbufs[i] = ToMbuf(frames[i], in_port);
      b.pkts[b.n++] = mbufs[i];
    }
    StageContext ctx{*snap_, counters_, 0};
    Step<EthParseStage>(ctx, b, mbufs, out);
    Step<VxlanDecapStage>(ctx, b, mbufs, out);
    Step<ArpRespondStage>(ctx, b, mbufs, out);
    Step<CtLookupStage>(ctx, b, mbufs, out);
    if (decide) {
      for (uint16_t i = 0; i < b.n; ++i) decide(Meta(b.pkts[i]));
    }
    Step<CtCommitStage>(ctx, b, mbufs, out);
    Step<NatRewriteStage>(ctx, b, mbufs, out);
    for (size_t i = 0; i < mbufs.size(); ++i) {
      out[i].meta = Meta(mbufs[i]);
      out[i].bytes = FromMbuf(mbufs[i]);
      rte_pktmbuf_free(mbufs[i]);
    }
    return out;
  }

  // The entry of the connection whose original or reply tuple this is.
  CtEntry* Find(const CtKey& k) const {
    uint64_t hits = 0;
    CtEntry* e[1] = {nullptr};
    bool reply[1];
    ct_.LookupBulk(&k, 1, &hits, e, reply);
    return hits != 0 ? e[0] : nullptr;
  }

 private:
  template <typename S>
  void Step(StageContext& ctx, Burst& b, const std::vector<rte_mbuf*>& mbufs,
            std::vector<CtOutcome>& out) {
    if (b.n == 0) return;
    Verdicts v;
    S::Process(ctx, b, v);
    uint16_t kept = 0;
    for (uint16_t i = 0; i < b.n; ++i) {
      for (size_t j = 0; j < mbufs.size(); ++j) {
        if (mbufs[j] != b.pkts[i]) continue;
        out[j].edge = v.edge[i];
        out[j].decided_by = S::kName;
      }
      if (v.edge[i] == Edge::kNext) b.pkts[kept++] = b.pkts[i];
      if (v.edge[i] == Edge::kDrop) ctx.counters.Drop(Meta(b.pkts[i]).drop);
    }
    b.n = kept;
  }

  Conntrack ct_;
  std::unique_ptr<Snapshot> snap_;
  WorkerCounters counters_;
};

inline CtKey Tuple(Ip4 src, uint16_t sport, Ip4 dst, uint16_t dport, uint8_t proto) {
  return CtKey{src.be, dst.be, htons(sport), htons(dport), proto, {}};
}

}  // namespace nodeplane::dp::testing
