// What the vsw-dpctl command-layer tests share: a Dpif that is FakeDpif plus datapath and
// port counters a test sets (the fake counts flows only), and Harness, which runs one
// command line against it and captures exit code, stdout and stderr.
#pragma once

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/dpctl.h"
#include "dpif/dpif_fake.h"

namespace vsw::testing {

// FakeDpif with injectable lookup and port counters. Every call goes to the fake; dp_get,
// dp_list and port_list add the counters set here.
class CountingDpif final : public dpif::Dpif {
 public:
  using R = dpif::Result<void>;
  std::shared_ptr<dpif::FakeDpif> fake = std::make_shared<dpif::FakeDpif>();
  std::map<std::string, vsw_dp_stats, std::less<>> dp_stats;  // all but n_flows
  std::map<std::pair<std::string, std::uint32_t>, vsw_vport_stats> port_stats;

  void set_lookups(const std::string& dp, std::uint64_t hit, std::uint64_t missed,
                   std::uint64_t lost, std::uint64_t masks = 0, std::uint64_t mask_hit = 0,
                   std::uint64_t microflow_hit = 0) {
    vsw_dp_stats& s = dp_stats[dp];
    s.n_hit = hit;
    s.n_missed = missed;
    s.n_lost = lost;
    s.n_masks = masks;
    s.n_mask_hit = mask_hit;
    s.n_microflow_hit = microflow_hit;
  }

  dpif::Result<dpif::DatapathInfo> dp_create(std::string_view n) override {
    return fake->dp_create(n);
  }
  R dp_delete(std::string_view n) override { return fake->dp_delete(n); }
  dpif::Result<dpif::DatapathInfo> dp_get(std::string_view n) override {
    auto info = fake->dp_get(n);
    if (info) add(*info);
    return info;
  }
  dpif::Result<std::vector<dpif::DatapathInfo>> dp_list() override {
    auto l = fake->dp_list();
    if (l)
      for (auto& info : *l) add(info);
    return l;
  }
  R dp_set_upcall_pid(std::string_view dp, std::uint32_t pid) override {
    return fake->dp_set_upcall_pid(dp, pid);
  }
  R dp_set_upcall_pids(std::string_view dp, std::span<const std::uint32_t> pids) override {
    return fake->dp_set_upcall_pids(dp, pids);
  }
  dpif::Result<dpif::PortInfo> port_add(std::string_view dp, std::string_view iface,
                                        std::optional<std::uint32_t> no,
                                        std::uint32_t pid) override {
    return fake->port_add(dp, iface, no, pid);
  }
  R port_del(std::string_view dp, std::string_view iface) override {
    return fake->port_del(dp, iface);
  }
  dpif::Result<std::vector<dpif::PortInfo>> port_list(std::string_view dp) override {
    auto l = fake->port_list(dp);
    if (l)
      for (auto& p : *l)
        if (auto it = port_stats.find({std::string(dp), p.port_no}); it != port_stats.end())
          p.stats = it->second;
    return l;
  }
  R port_set_upcall_pid(std::string_view dp, std::uint32_t no, std::uint32_t pid) override {
    return fake->port_set_upcall_pid(dp, no, pid);
  }
  R flow_put(std::string_view dp, const dpif::Match& m, const dpif::Actions& a, dpif::FlowPut mode,
             bool clear) override {
    return fake->flow_put(dp, m, a, mode, clear);
  }
  dpif::Result<dpif::FlowEntry> flow_get(std::string_view dp, const dpif::Match& m) override {
    return fake->flow_get(dp, m);
  }
  dpif::Result<dpif::FlowEntry> flow_del(std::string_view dp, const dpif::Match& m) override {
    return fake->flow_del(dp, m);
  }
  R flow_flush(std::string_view dp) override { return fake->flow_flush(dp); }
  R flow_dump(std::string_view dp,
              const std::function<void(const dpif::FlowEntry&)>& each) override {
    return fake->flow_dump(dp, each);
  }
  R execute(std::string_view dp, const vsw_flow_key& key, std::span<const std::uint8_t> packet,
            const dpif::Actions& actions) override {
    return fake->execute(dp, key, packet, actions);
  }
  R operate(std::string_view dp, std::span<dpif::Op> ops) override {
    return fake->operate(dp, ops);
  }

 private:
  void add(dpif::DatapathInfo& info) const {
    auto it = dp_stats.find(info.name);
    if (it == dp_stats.end()) return;
    const std::uint64_t flows = info.stats.n_flows;
    info.stats = it->second;
    info.stats.n_flows = flows;
  }
};

struct Run {
  int rc;
  std::string out, err;
};

class Harness {
 public:
  Run operator()(const std::vector<std::string>& args, const cli::Environment& env = {}) {
    std::ostringstream out, err;
    auto d = dpif_;
    int rc = cli::run(
        args,
        [d]() -> dpif::Result<std::shared_ptr<dpif::Dpif>> {
          return std::shared_ptr<dpif::Dpif>(d);
        },
        out, err, env);
    return {rc, out.str(), err.str()};
  }
  std::shared_ptr<CountingDpif> dpif_ = std::make_shared<CountingDpif>();
  std::shared_ptr<dpif::FakeDpif> fake_ = dpif_->fake;
};

inline int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace vsw::testing
