// The pipeline walk, action execution, lazy commit of datapath actions. See xlate.h.
#include "ofproto/xlate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

#include "ofproto/controller_cookie.h"
#include "ofproto/key_map.h"
#include "ofproto/normal.h"

namespace vsw::ofproto {
namespace {

using openflow::Action;
using openflow::ActionType;
using openflow::OxmId;

constexpr std::uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd, kEthVlan = 0x8100, kEthArp = 0x0806;
constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17, kProtoSctp = 132;
constexpr std::uint16_t kNoBufferLen = 0xffff;  // OFPCML_NO_BUFFER: the whole packet
constexpr std::uint16_t kTagPresent = VSW_VLAN_TAG_PRESENT;

// OpenFlow 1.3 section 5.10: the order in which an action set runs.
int set_rank(ActionType t) {
  switch (t) {
    case ActionType::kCopyTtlIn:
      return 0;
    case ActionType::kPopVlan:
    case ActionType::kPopMpls:
    case ActionType::kPopPbb:
      return 1;
    case ActionType::kPushMpls:
      return 2;
    case ActionType::kPushPbb:
      return 3;
    case ActionType::kPushVlan:
      return 4;
    case ActionType::kCopyTtlOut:
      return 5;
    case ActionType::kDecMplsTtl:
    case ActionType::kDecNwTtl:
      return 6;
    case ActionType::kSetQueue:
      return 8;
    case ActionType::kGroup:
      return 9;
    case ActionType::kOutput:
      return 10;
    default:  // set_field, set_mpls_ttl, set_nw_ttl, experimenter
      return 7;
  }
}

// The action set: at most one action per type (per field for set_field).
class ActionSet {
 public:
  void clear() { acts_.clear(); }
  void write(const std::vector<Action>& list) {
    for (const Action& a : list) {
      auto same = std::find_if(acts_.begin(), acts_.end(), [&](const Action& b) {
        return b.type == a.type && (a.type != ActionType::kSetField || b.field.id == a.field.id);
      });
      if (same != acts_.end())
        *same = a;
      else
        acts_.push_back(a);
    }
  }
  // In execution order; an output is dropped when a group is present (OpenFlow 5.10).
  [[nodiscard]] std::vector<Action> ordered() const {
    std::vector<Action> out = acts_;
    std::stable_sort(out.begin(), out.end(), [](const Action& a, const Action& b) {
      return set_rank(a.type) < set_rank(b.type);
    });
    const bool group = std::any_of(out.begin(), out.end(),
                                   [](const Action& a) { return a.type == ActionType::kGroup; });
    if (group) std::erase_if(out, [](const Action& a) { return a.type == ActionType::kOutput; });
    return out;
  }
  [[nodiscard]] bool empty() const { return acts_.empty(); }

 private:
  std::vector<Action> acts_;
};

// Fields rewritten since the last commit.
enum Dirty : unsigned {
  kDirtyEthSrc = 1 << 0,
  kDirtyEthDst = 1 << 1,
  kDirtyIpv4Src = 1 << 2,
  kDirtyIpv4Dst = 1 << 3,
  kDirtyTos = 1 << 4,
  kDirtyTtl = 1 << 5,
  kDirtyL4Src = 1 << 6,
  kDirtyL4Dst = 1 << 7,
  kDirtyIpv6Src = 1 << 8,
  kDirtyIpv6Dst = 1 << 9,
  kDirtyLabel = 1 << 10,
  kDirtyArpOp = 1 << 11,
  kDirtyArpSha = 1 << 12,
  kDirtyArpTha = 1 << 13,
  kDirtyArpSpa = 1 << 14,
  kDirtyArpTpa = 1 << 15,
};

#define CONSULT(member) std::memset(&mask_.member, 0xff, sizeof mask_.member)

class Xlator {
 public:
  Xlator(const XlateContext& ctx, const vsw_flow_key& key)
      : ctx_(ctx), in_(key), flow_(key), ckey_(to_classifier(key)), dp_(key) {
    base_tci_ = flow_.vlan_tci;
    CONSULT(in_port);
    if (ctx_.observer) ctx_.observer->begin(key);
  }

  XlateResult run() {
    if (may_receive()) pipeline();
    return finish();
  }

  // PACKET_OUT: the controller's action list instead of the pipeline; output:TABLE in it
  // runs the pipeline from table 0 on the packet as the actions have left it so far.
  XlateResult run_actions(const std::vector<Action>& actions) {
    packet_out_ = true;
    if (may_receive()) execute(actions);
    return finish();
  }

 private:
  // Tables from table 0 to the end of the pipeline, then the action set.
  void pipeline() {
    in_pipeline_ = true;
    set_.clear();
    unsigned table = 0;
    while (!failed() && !stop_) {
      if (ckey_stale_) {
        update_classifier(flow_, ckey_);
        ckey_stale_ = false;
      }
      const Rule* rule = ctx_.tables.lookup(static_cast<std::uint8_t>(table), ckey_, &wc_);
      if (ctx_.observer) ctx_.observer->table(static_cast<std::uint8_t>(table), rule);
      if (!rule) {  // table miss: drop what the action set holds
        result_.rules.push_back(ctx_.tables.miss_counter(static_cast<std::uint8_t>(table)));
        break;
      }
      rule_ = rule;
      if (auto id = rule->weak_from_this().lock()) result_.rules.push_back(std::move(id));
      const Program& p = rule->actions->program;
      if (p.apply) execute(*p.apply);
      if (failed() || stop_) break;
      if (p.clear) set_.clear();
      if (p.write) set_.write(*p.write);
      if (p.write_metadata) {
        const std::uint64_t md = ckey_.get(classifier::Field::kMetadata);
        ckey_.set(classifier::Field::kMetadata,
                  (md & ~p.metadata_mask) | (p.metadata & p.metadata_mask));
      }
      if (p.goto_table < 0) {
        const std::vector<Action> set = set_.ordered();
        if (ctx_.observer) ctx_.observer->action_set(set);
        execute(set);
        break;
      }
      table = static_cast<unsigned>(p.goto_table);
    }
    in_pipeline_ = false;
  }

  // The input port's config (PORT_MOD): NO_RECV or PORT_DOWN drops everything from it.
  bool may_receive() {
    const PortTable::Port* p = ctx_.ports.by_dp(in_.in_port);
    if (!p || p->receives()) return true;
    result_.reason = "input port " + std::to_string(p->info.ofport) + " is configured " +
                     ((p->info.config & port_config::kPortDown) ? "down" : "no-receive");
    return false;
  }

  // Whether an explicit output (output:PORT, IN_PORT, LOCAL) may use datapath port dp: it
  // must exist (the datapath's own port always does) and not be configured down or
  // no-forward. The link state is not read here (a down link's packets are lost anyway).
  [[nodiscard]] bool may_output(std::uint32_t dp) {
    const PortTable::Port* p = ctx_.ports.by_dp(dp);
    if (!p) return dp == VSW_PORT_LOCAL;
    if (!(p->info.config & (port_config::kPortDown | port_config::kNoFwd))) return true;
    note_ = "output port " + std::to_string(p->info.ofport) + " is configured " +
            ((p->info.config & port_config::kPortDown) ? "down" : "no-forward");
    return false;
  }

  [[nodiscard]] bool failed() const { return failed_; }
  void fail(std::string why) {
    if (failed_) return;
    failed_ = true;
    result_.reason = std::move(why);
  }

  [[nodiscard]] std::uint16_t eth_type() {
    CONSULT(eth_type);
    return ntohs(flow_.eth_type);
  }
  [[nodiscard]] bool is_ip() {
    const std::uint16_t t = eth_type();
    return t == kEthIpv4 || t == kEthIpv6;
  }
  [[nodiscard]] std::uint8_t ip_proto() {
    CONSULT(ip_proto);
    return flow_.ip_proto;
  }
  [[nodiscard]] std::uint16_t vlan_tci() {
    CONSULT(vlan_tci);
    return ntohs(flow_.vlan_tci);
  }

  void execute(const std::vector<Action>& list) {
    for (const Action& a : list) {
      if (failed() || stop_) return;
      switch (a.type) {
        case ActionType::kOutput:
          output(a.arg, a.max_len);
          break;
        case ActionType::kPushVlan:
          if (a.arg != kEthVlan) {
            fail("push_vlan of ethertype " + std::to_string(a.arg) + " is not supported");
          } else if (vlan_tci() & kTagPresent) {
            fail("push_vlan on a tagged packet (QinQ) is not supported");
          } else {
            flow_.vlan_tci = htons(kTagPresent);  // VID 0, PCP 0 until set_field
            ckey_stale_ = true;
          }
          break;
        case ActionType::kPopVlan:
          (void)vlan_tci();
          flow_.vlan_tci = 0;
          ckey_stale_ = true;
          break;
        case ActionType::kSetField:
          set_field(a.field);
          break;
        case ActionType::kSetNwTtl:
        case ActionType::kDecNwTtl:
          set_ttl(a);
          break;
        case ActionType::kGroup:
          if (!group(a.arg)) return;  // no such group: the rest of this list is skipped
          break;
        default:
          fail(std::string("action ") + openflow::action_name(a.type) + " is not supported");
          break;
      }
    }
  }

  // IPv4 TTL, or the IPv6 hop limit (as Open vSwitch does).
  void set_ttl(const Action& a) {
    const std::uint16_t t = eth_type();
    if (t != kEthIpv4 && t != kEthIpv6) return;  // no IP header: nothing to do
    if (a.type == ActionType::kSetNwTtl) {
      flow_.ip_ttl = static_cast<std::uint8_t>(a.arg);
    } else {
      CONSULT(ip_ttl);
      if (flow_.ip_ttl <= 1) {
        stop_ = true;  // TTL exceeded: the packet goes no further, except to the
        if (result_.reason.empty()) result_.reason = "dec_nw_ttl: TTL exceeded";
        // controllers that asked for INVALID_TTL (SET_ASYNC; not by default), whole, as in
        // Open vSwitch.
        controller(kNoBufferLen, PacketInReason::kInvalidTtl);
        return;
      }
      --flow_.ip_ttl;
    }
    dirty_ |= kDirtyTtl;
    ckey_stale_ = true;
  }

  void set_field(const openflow::OxmField& f) {
    unsigned dirty = 0;
    switch (f.id) {
      case OxmId::kEthSrc:
        dirty = kDirtyEthSrc;
        break;
      case OxmId::kEthDst:
        dirty = kDirtyEthDst;
        break;
      case OxmId::kIpv4Src:
      case OxmId::kIpv4Dst:
        if (eth_type() != kEthIpv4) return;
        dirty = f.id == OxmId::kIpv4Src ? kDirtyIpv4Src : kDirtyIpv4Dst;
        break;
      case OxmId::kIpv6Src:
      case OxmId::kIpv6Dst:
        if (eth_type() != kEthIpv6) return;
        dirty = f.id == OxmId::kIpv6Src ? kDirtyIpv6Src : kDirtyIpv6Dst;
        break;
      case OxmId::kIpv6Flabel:
        if (eth_type() != kEthIpv6) return;
        dirty = kDirtyLabel;
        break;
      case OxmId::kArpOp:
      case OxmId::kArpSpa:
      case OxmId::kArpTpa:
      case OxmId::kArpSha:
      case OxmId::kArpTha:
        if (eth_type() != kEthArp) return;
        dirty = f.id == OxmId::kArpOp    ? kDirtyArpOp
                : f.id == OxmId::kArpSpa ? kDirtyArpSpa
                : f.id == OxmId::kArpTpa ? kDirtyArpTpa
                : f.id == OxmId::kArpSha ? kDirtyArpSha
                                         : kDirtyArpTha;
        break;
      case OxmId::kIpDscp:
      case OxmId::kIpEcn: {
        const std::uint16_t t = eth_type();
        if (t != kEthIpv4 && t != kEthIpv6) return;
        // The datapath rewrites the whole TOS / traffic class byte: the bits kept come
        // from the packet.
        mask_.ip_tos |= f.id == OxmId::kIpDscp ? 0x03 : 0xfc;
        dirty = kDirtyTos;
        break;
      }
      case OxmId::kTcpSrc:
      case OxmId::kTcpDst:
      case OxmId::kUdpSrc:
      case OxmId::kUdpDst: {
        const bool tcp = f.id == OxmId::kTcpSrc || f.id == OxmId::kTcpDst;
        const bool ip = is_ip();
        if (!ip || ip_proto() != (tcp ? kProtoTcp : kProtoUdp)) return;
        dirty = (f.id == OxmId::kTcpSrc || f.id == OxmId::kUdpSrc) ? kDirtyL4Src : kDirtyL4Dst;
        break;
      }
      case OxmId::kVlanVid:
      case OxmId::kVlanPcp: {
        const std::uint16_t tci = vlan_tci();
        if (!(tci & kTagPresent)) return;  // OpenFlow 1.2+: set_field does not push a tag
        const auto v = static_cast<std::uint16_t>(f.value_u64());
        const std::uint16_t next =
            f.id == OxmId::kVlanVid
                ? static_cast<std::uint16_t>((tci & ~VSW_VLAN_VID_MASK) | (v & VSW_VLAN_VID_MASK))
                : static_cast<std::uint16_t>((tci & ~(7U << VSW_VLAN_PCP_SHIFT)) |
                                             ((v & 7U) << VSW_VLAN_PCP_SHIFT));
        flow_.vlan_tci = htons(next);
        ckey_stale_ = true;
        return;
      }
      default:
        return fail(std::string("set_field ") + openflow::oxm_info(f.id).name +
                    " is not supported");
    }
    if (auto r = set_oxm(flow_, f); !r) return fail(r.error().message);
    dirty_ |= dirty;
    ckey_stale_ = true;
  }

  // ---- groups ----
  static constexpr unsigned kMaxGroupDepth = 32;

  [[nodiscard]] const Group* find_group(std::uint32_t id) const {
    return ctx_.groups ? ctx_.groups->find(id) : nullptr;
  }

  // Runs group `id`; false if it does not exist.
  bool group(std::uint32_t id) {
    const Group* g = find_group(id);
    if (!g) {
      note_ = "group " + std::to_string(id) + " does not exist";
      return false;
    }
    if (group_depth_ >= kMaxGroupDepth) {
      fail("group chaining deeper than " + std::to_string(kMaxGroupDepth) + " groups");
      return true;
    }
    ++group_depth_;
    switch (g->type) {
      case GroupType::kAll:
      case GroupType::kIndirect:
        result_.rules.push_back(g->counter);
        for (const GroupBucket& b : g->buckets) {
          if (failed()) break;
          bucket(b);
        }
        break;
      case GroupType::kSelect:
      case GroupType::kFastFailover: {
        const GroupBucket* b =
            g->type == GroupType::kSelect ? select_bucket(*g) : first_live(*g, 0);
        if (b) {
          result_.rules.push_back(g->counter);
          bucket(*b);
        } else {
          note_ = "group " + std::to_string(id) + " has no live bucket";
        }
        break;
      }
    }
    --group_depth_;
    return true;
  }

  // One bucket on a copy of the packet: afterwards the packet is as before the bucket, and
  // the fields the bucket rewrote in the datapath are marked for rewriting back.
  void bucket(const GroupBucket& b) {
    result_.rules.push_back(b.counter);
    const vsw_flow_key flow = flow_;
    const classifier::FlowKey ckey = ckey_;
    const bool stale = ckey_stale_;
    const unsigned dirty = dirty_, outer_committed = committed_;
    committed_ = 0;
    execute(b.actions);
    const unsigned rewritten = committed_;
    flow_ = flow;
    ckey_ = ckey;
    ckey_stale_ = stale;
    dirty_ = still_dirty(dirty | rewritten);
    committed_ = outer_committed | rewritten;
    stop_ = false;  // a TTL that ran out in a bucket ends only that bucket
  }

  // Of `bits`, those whose field differs between the packet and the datapath's packet (the
  // bits of fields not listed here stay set: at worst a redundant SET).
  [[nodiscard]] unsigned still_dirty(unsigned bits) const {
    struct Field {
      unsigned bit;
      std::size_t offset, size;
    };
    static constexpr Field kFields[] = {
        {kDirtyEthSrc, offsetof(vsw_flow_key, eth_src), 6},
        {kDirtyEthDst, offsetof(vsw_flow_key, eth_dst), 6},
        {kDirtyIpv4Src, offsetof(vsw_flow_key, ipv4_src), 4},
        {kDirtyIpv4Dst, offsetof(vsw_flow_key, ipv4_dst), 4},
        {kDirtyTos, offsetof(vsw_flow_key, ip_tos), 1},
        {kDirtyTtl, offsetof(vsw_flow_key, ip_ttl), 1},
        {kDirtyL4Src, offsetof(vsw_flow_key, tp_src), 2},
        {kDirtyL4Dst, offsetof(vsw_flow_key, tp_dst), 2},
    };
    const auto* a = reinterpret_cast<const std::uint8_t*>(&flow_);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&dp_);
    for (const Field& f : kFields)
      if ((bits & f.bit) && std::memcmp(a + f.offset, b + f.offset, f.size) == 0) bits &= ~f.bit;
    return bits;
  }

  [[nodiscard]] bool port_live(std::uint32_t ofport) const {
    namespace P = openflow::port;
    if (ofport == P::kController) return true;  // not tracked: taken as live
    const PortTable::Port* p = ctx_.ports.by_ofport(ofport);
    return p && p->info.up && !(p->info.config & port_config::kPortDown);
  }

  [[nodiscard]] bool bucket_live(const Group& g, const GroupBucket& b, unsigned depth) const {
    if (depth >= kMaxGroupDepth) return false;
    if (g.type == GroupType::kSelect && b.weight == 0) return false;
    const bool watch_port = b.watch_port != openflow::port::kAny;
    const bool watch_group = b.watch_group != openflow::kGroupAny;
    if (!watch_port && !watch_group) return true;
    if (watch_port && port_live(b.watch_port)) return true;
    if (watch_group) {
      const Group* w = find_group(b.watch_group);
      if (w && first_live(*w, depth + 1)) return true;
    }
    return false;
  }

  [[nodiscard]] const GroupBucket* first_live(const Group& g, unsigned depth) const {
    for (const GroupBucket& b : g.buckets)
      if (bucket_live(g, b, depth)) return &b;
    return nullptr;
  }

  static std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 29);
  }
  static std::uint64_t mix_bytes(std::uint64_t h, const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) h = mix(h, p[i]);
    return h;
  }

  // The flow's hash for SELECT (Open vSwitch's default fields); every field read goes
  // into the megaflow.
  std::uint64_t flow_hash() {
    CONSULT(eth_src);
    CONSULT(eth_dst);
    std::uint64_t h = mix_bytes(0, flow_.eth_src, sizeof flow_.eth_src);
    h = mix_bytes(h, flow_.eth_dst, sizeof flow_.eth_dst);
    const std::uint16_t type = eth_type();
    h = mix(h, type);
    h = mix(h, vlan_tci() & (VSW_VLAN_VID_MASK | kTagPresent));
    std::uint8_t proto = 0;
    if (type == kEthIpv4) {
      CONSULT(ipv4_src);
      CONSULT(ipv4_dst);
      h = mix(mix(h, flow_.ipv4_src), flow_.ipv4_dst);
      proto = ip_proto();
    } else if (type == kEthIpv6) {
      CONSULT(ipv6_src);
      CONSULT(ipv6_dst);
      h = mix_bytes(h, flow_.ipv6_src, sizeof flow_.ipv6_src);
      h = mix_bytes(h, flow_.ipv6_dst, sizeof flow_.ipv6_dst);
      proto = ip_proto();
    }
    h = mix(h, proto);
    if (proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp) {
      CONSULT(tp_src);
      CONSULT(tp_dst);
      h = mix(mix(h, flow_.tp_src), flow_.tp_dst);
    }
    return h;
  }

  // Rendezvous hashing, as Open vSwitch's default select method: every live bucket scores
  // a 16-bit hash of (flow hash, bucket index) times its weight; the highest wins (the last
  // on a tie). Removing a bucket moves only the flows it had.
  const GroupBucket* select_bucket(const Group& g) {
    const std::uint64_t basis = flow_hash();
    const GroupBucket* best = nullptr;
    std::uint64_t best_score = 0;
    for (std::size_t i = 0; i < g.buckets.size(); ++i) {
      const GroupBucket& b = g.buckets[i];
      if (!bucket_live(g, b, 0)) continue;
      const std::uint64_t score = (mix(basis, i) & 0xffff) * b.weight;
      if (score >= best_score) {
        best = &b;
        best_score = score;
      }
    }
    return best;
  }

  // ---- outputs ----
  void output(std::uint32_t port, std::uint16_t max_len) {
    namespace P = openflow::port;
    switch (port) {
      case P::kInPort:
        if (in_.in_port != kNoInPort && may_output(in_.in_port)) emit_output(in_.in_port);
        return;
      case P::kAll:  // every port but the input port, NO_FLOOD or not
      case P::kFlood:
        for (const PortTable::Port& p : ctx_.ports.all())
          if (p.dp_port != in_.in_port && (port == P::kAll ? p.forwards() : p.floods()))
            emit_output(p.dp_port);
        return;
      case P::kNormal:
        normal();
        return;
      case P::kController:
        controller(max_len);
        return;
      case P::kTable:
        if (packet_out_ && !in_pipeline_) return pipeline();
        return fail("output to TABLE is valid only in packet-out");
      case P::kAny:
        return fail("output to ANY is not a port");
      default:
        break;
    }
    const auto dp = dp_port_from_of(port);
    if (!dp || *dp == in_.in_port) return;  // back out of the input port needs IN_PORT
    if (port == P::kLocal) {
      if (may_output(*dp)) emit_output(*dp);  // the datapath's own port always exists
      return;
    }
    const PortTable::Port* p = ctx_.ports.by_dp(*dp);
    if (p && p->info.up && may_output(*dp)) emit_output(*dp);
  }

  // output:CONTROLLER: a USERSPACE action whose cookie says what the PACKET_IN reports
  // (controller_cookie.h). The packet goes up as it is now, after the rewrites so far.
  // A table-miss rule (priority 0, empty match) sends NO_MATCH, as in Open vSwitch.
  void controller(std::uint16_t max_len, std::optional<PacketInReason> reason = std::nullopt) {
    const PortTable::Port* in = ctx_.ports.by_dp(in_.in_port);
    if (in && (in->info.config & port_config::kNoPacketIn)) {
      note_ = "input port " + std::to_string(in->info.ofport) + " is configured no-packet-in";
      return;
    }
    ControllerCookie c;
    c.max_len = max_len;
    c.rule_cookie = ~0ULL;  // no rule (a packet-out): all-ones, as Open vSwitch sends
    if (rule_) {
      c.table_id = rule_->table_id;
      c.rule_cookie = rule_->cookie;
      if (rule_->priority == 0 && rule_->packed.matches_all()) c.reason = PacketInReason::kNoMatch;
    }
    if (reason) c.reason = *reason;
    c.metadata = ckey_.get(classifier::Field::kMetadata);
    commit();
    result_.actions.emplace_back(dpif::UserspaceAction{0, encode_controller_cookie(c)});
  }

  void normal() {
    NormalDecision d = normal_switch(flow_, ctx_.ports, ctx_.macs, ctx_.may_learn);
    if (ctx_.observer) ctx_.observer->normal(d);
    mask_or(mask_, d.mask);
    for (const MacTag& t : d.tags)
      if (std::find(result_.tags.begin(), result_.tags.end(), t) == result_.tags.end())
        result_.tags.push_back(t);
    if (ctx_.changed) ctx_.changed->insert(ctx_.changed->end(), d.changed.begin(), d.changed.end());
    if (d.learns && !result_.learns) result_.learns = d.learns;
    if (d.outputs.empty()) {
      if (d.drop_reason) note_ = d.drop_reason;
      return;
    }
    // Emit the outputs that need the packet's current tag first, then one group per tag.
    const __be16 saved = flow_.vlan_tci;
    std::vector<std::uint16_t> order;
    const std::uint16_t now = ntohs(base_tci_);
    if (std::any_of(d.outputs.begin(), d.outputs.end(),
                    [&](const NormalOutput& o) { return o.tci == now; }))
      order.push_back(now);
    for (const NormalOutput& o : d.outputs)
      if (std::find(order.begin(), order.end(), o.tci) == order.end()) order.push_back(o.tci);
    for (const std::uint16_t tci : order) {
      flow_.vlan_tci = htons(tci);
      for (const NormalOutput& o : d.outputs)
        if (o.tci == tci) emit_output(o.dp_port);
    }
    flow_.vlan_tci = saved;
  }

  void emit_output(std::uint32_t dp_port) {
    commit();
    result_.actions.emplace_back(dpif::OutputAction{dp_port});
  }

  // Makes the datapath packet look like flow_: one SET for rewritten fields, then the tag.
  void commit() {
    if (dirty_) {
      dpif::SetAction s;
      const bool v6 = ntohs(flow_.eth_type) == kEthIpv6;
      if (dirty_ & kDirtyEthSrc) s.eth_src = to_dp_mac(flow_.eth_src);
      if (dirty_ & kDirtyEthDst) s.eth_dst = to_dp_mac(flow_.eth_dst);
      if (dirty_ & kDirtyIpv4Src) s.ipv4_src = flow_.ipv4_src;
      if (dirty_ & kDirtyIpv4Dst) s.ipv4_dst = flow_.ipv4_dst;
      if (dirty_ & kDirtyTos) (v6 ? s.ipv6_tclass : s.ipv4_tos) = flow_.ip_tos;
      if (dirty_ & kDirtyTtl) (v6 ? s.ipv6_hlimit : s.ipv4_ttl) = flow_.ip_ttl;
      if (dirty_ & kDirtyL4Src) s.l4_src = ntohs(flow_.tp_src);
      if (dirty_ & kDirtyL4Dst) s.l4_dst = ntohs(flow_.tp_dst);
      if (dirty_ & kDirtyIpv6Src) s.ipv6_src = to_dp_ipv6(flow_.ipv6_src);
      if (dirty_ & kDirtyIpv6Dst) s.ipv6_dst = to_dp_ipv6(flow_.ipv6_dst);
      if (dirty_ & kDirtyLabel) s.ipv6_label = ntohl(flow_.ipv6_label);
      if (dirty_ & kDirtyArpOp) s.arp_op = ntohs(flow_.arp_op);
      if (dirty_ & kDirtyArpSha) s.arp_sha = to_dp_mac(flow_.arp_sha);
      if (dirty_ & kDirtyArpTha) s.arp_tha = to_dp_mac(flow_.arp_tha);
      if (dirty_ & kDirtyArpSpa) s.arp_spa = flow_.arp_spa;
      if (dirty_ & kDirtyArpTpa) s.arp_tpa = flow_.arp_tpa;
      result_.actions.emplace_back(s);
      committed_ |= dirty_;
      dirty_ = 0;
      dp_ = flow_;  // every rewritable field now agrees (the tag: base_tci_)
    }
    const std::uint16_t from = ntohs(base_tci_), to = ntohs(flow_.vlan_tci);
    if ((from & to & kTagPresent) && from != to) {
      // Tagged before and after: rewrite VID/PCP in place, which keeps the tag's DEI bit
      // and TPID (a pop and push would clear DEI and make the tag 802.1Q).
      CONSULT(vlan_tci);
      dpif::SetAction s;
      if ((from ^ to) & VSW_VLAN_VID_MASK) s.vlan_vid = to & VSW_VLAN_VID_MASK;
      if ((from ^ to) >> VSW_VLAN_PCP_SHIFT)
        s.vlan_pcp = static_cast<std::uint8_t>(to >> VSW_VLAN_PCP_SHIFT);
      result_.actions.emplace_back(s);
      base_tci_ = flow_.vlan_tci;
    }
    if (flow_.vlan_tci != base_tci_) {
      CONSULT(vlan_tci);  // whether a pop is needed depends on the received tag
      if (from & kTagPresent) result_.actions.emplace_back(dpif::PopVlanAction{});
      if (to & kTagPresent) {
        result_.actions.emplace_back(
            dpif::PushVlanAction{static_cast<std::uint16_t>(to & VSW_VLAN_VID_MASK),
                                 static_cast<std::uint8_t>(to >> VSW_VLAN_PCP_SHIFT)});
      }
      base_tci_ = flow_.vlan_tci;
    }
  }

  static dpif::Mac to_dp_mac(const std::uint8_t* p) {
    dpif::Mac m;
    std::memcpy(m.data(), p, m.size());
    return m;
  }
  static dpif::Ipv6 to_dp_ipv6(const std::uint8_t* p) {
    dpif::Ipv6 a;
    std::memcpy(a.data(), p, a.size());
    return a;
  }

  XlateResult finish() {
    if (ctx_.observer) ctx_.observer->end(flow_);
    if (failed_) result_.actions.clear();
    if (result_.actions.size() > VSW_MAX_ACTIONS) {
      result_.actions.clear();
      result_.reason = "more than " + std::to_string(VSW_MAX_ACTIONS) + " datapath actions";
    }
    if (result_.actions.empty() && result_.reason.empty()) result_.reason = note_;
    vsw_flow_key mask = to_datapath_mask(wc_);
    mask_or(mask, mask_);
    result_.megaflow = megaflow(in_, mask);
    return std::move(result_);
  }

  const XlateContext& ctx_;
  const vsw_flow_key& in_;    // as received
  vsw_flow_key flow_;         // as the pipeline has modified it
  classifier::FlowKey ckey_;  // flow_ for the classifier, plus metadata and registers
  bool ckey_stale_ = false;   // flow_ changed since ckey_ was derived from it
  classifier::FlowKey wc_;    // the classifier's consulted bits
  vsw_flow_key mask_{};       // other consulted bits
  __be16 base_tci_ = 0;       // the datapath packet's tag after the actions emitted so far
  unsigned dirty_ = 0;        // Dirty bits not yet committed
  unsigned committed_ = 0;    // Dirty bits committed inside the current group bucket
  vsw_flow_key dp_;           // the datapath's packet as of the last SET (groups' undo)
  unsigned group_depth_ = 0;  // groups being run (chaining)
  ActionSet set_;
  const Rule* rule_ = nullptr;  // the rule whose actions run (the last one matched)
  bool failed_ = false;         // an unsupported action: drop, result_.reason says why
  bool stop_ = false;           // the packet was consumed (TTL exceeded)
  bool packet_out_ = false;     // translating a PACKET_OUT's actions (output:TABLE allowed)
  bool in_pipeline_ = false;    // inside the tables (output:TABLE refused there)
  std::string note_;            // why NORMAL dropped, for an otherwise silent drop
  XlateResult result_;
};

#undef CONSULT

}  // namespace

XlateResult xlate(const XlateContext& ctx, const vsw_flow_key& key) {
  return Xlator(ctx, key).run();
}

XlateResult xlate_actions(const XlateContext& ctx, const vsw_flow_key& key,
                          const std::vector<openflow::Action>& actions) {
  return Xlator(ctx, key).run_actions(actions);
}

}  // namespace vsw::ofproto
