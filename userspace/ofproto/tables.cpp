// Flow tables: rule validation, OpenFlow flow_mod semantics, versioned publication.
// See tables.h.
#include "ofproto/tables.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <string>

#include "ofproto/key_map.h"

namespace vsw::ofproto {
namespace {

using openflow::ActionType;
using openflow::Instruction;
using openflow::InstructionType;

std::uint64_t cookie_of(const Rule* r) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(r));
}

// Every bit filter matches on, rule matches on too, with the same value: the rule is at
// least as specific as the filter (OpenFlow's non-strict selection).
bool subsumes(const classifier::Match& filter, const classifier::Match& rule) {
  for (std::size_t i = 0; i < classifier::kWords; ++i) {
    if ((filter.mask.w[i] & ~rule.mask.w[i]) != 0) return false;
    if ((rule.value.w[i] & filter.mask.w[i]) != filter.value.w[i]) return false;
  }
  return true;
}

// Some key matches both.
bool overlaps(const classifier::Match& a, const classifier::Match& b) {
  for (std::size_t i = 0; i < classifier::kWords; ++i)
    if (((a.value.w[i] ^ b.value.w[i]) & a.mask.w[i] & b.mask.w[i]) != 0) return false;
  return true;
}

bool actions_output_to(const std::vector<openflow::Action>* acts, std::uint32_t port) {
  if (!acts) return false;
  return std::any_of(acts->begin(), acts->end(), [&](const openflow::Action& a) {
    return a.type == ActionType::kOutput && a.arg == port;
  });
}

bool actions_use_group(const std::vector<openflow::Action>* acts, std::uint32_t group) {
  if (!acts) return false;
  return std::any_of(acts->begin(), acts->end(), [&](const openflow::Action& a) {
    return a.type == ActionType::kGroup && a.arg == group;
  });
}

// Decodes instructions into a Program; checks what OpenFlow requires of them.
Result<Program> compile(std::uint8_t table_id, const std::vector<Instruction>& ins) {
  Program p;
  unsigned seen = 0;
  for (const Instruction& i : ins) {
    const auto bit = 1U << (static_cast<unsigned>(i.type) & 15);
    if (i.type != InstructionType::kExperimenter && (seen & bit))
      return make_error(EINVAL,
                        std::string("duplicate instruction ") + openflow::instruction_name(i.type));
    seen |= bit;
    switch (i.type) {
      case InstructionType::kGotoTable:
        if (i.table_id <= table_id || i.table_id >= kNumTables)
          return make_error(EINVAL, "goto_table:" + std::to_string(i.table_id) + " in table " +
                                        std::to_string(table_id) + " does not go forward");
        p.goto_table = i.table_id;
        break;
      case InstructionType::kWriteMetadata:
        p.write_metadata = true;
        p.metadata = i.metadata;
        p.metadata_mask = i.mask;
        break;
      case InstructionType::kWriteActions:
        p.write = &i.actions;
        break;
      case InstructionType::kApplyActions:
        p.apply = &i.actions;
        break;
      case InstructionType::kClearActions:
        p.clear = true;
        break;
      default:
        return make_error(EOPNOTSUPP, std::string("instruction ") +
                                          openflow::instruction_name(i.type) + " is not supported");
    }
  }
  return p;
}

}  // namespace

void Rule::credit(std::uint64_t n_packets, std::uint64_t n_bytes, std::int64_t used_ms) const {
  counters->packets.fetch_add(n_packets, std::memory_order_relaxed);
  counters->bytes.fetch_add(n_bytes, std::memory_order_relaxed);
  if (!n_packets) return;
  if (table_matched) table_matched->packets.fetch_add(n_packets, std::memory_order_relaxed);
  // Revalidator threads credit concurrently, each with its own dump's time: keep the latest.
  std::int64_t seen = counters->used_ms.load(std::memory_order_relaxed);
  while (seen < used_ms &&
         !counters->used_ms.compare_exchange_weak(seen, used_ms, std::memory_order_relaxed)) {
  }
}

const std::vector<openflow::Instruction>& Rule::instructions() const {
  static const std::vector<openflow::Instruction> none;
  return actions ? actions->instructions : none;
}

bool Rule::outputs_to(std::uint32_t port) const {
  if (port == openflow::port::kAny) return true;
  return actions && (actions_output_to(actions->program.apply, port) ||
                     actions_output_to(actions->program.write, port));
}

bool Rule::uses_group(std::uint32_t group) const {
  if (group == openflow::kGroupAny) return true;
  return actions && (actions_use_group(actions->program.apply, group) ||
                     actions_use_group(actions->program.write, group));
}

PackedMatch::PackedMatch(const classifier::Match& m) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < classifier::kWords; ++i) {
    if (m.mask.w[i] == 0) continue;
    words_ |= 1U << i;
    ++n;
  }
  if (n == 0) return;
  data_ = std::make_unique<std::uint64_t[]>(2 * n);
  std::uint64_t* d = data_.get();
  for (std::size_t i = 0; i < classifier::kWords; ++i) {
    if (!(words_ & (1U << i))) continue;
    *d++ = m.value.w[i] & m.mask.w[i];
    *d++ = m.mask.w[i];
  }
}

std::size_t PackedMatch::hash() const noexcept {
  std::uint64_t h = words_;
  const int n = 2 * std::popcount(words_);
  for (int i = 0; i < n; ++i) h = (h ^ data_[i]) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

bool operator==(const PackedMatch& a, const PackedMatch& b) noexcept {
  if (a.words_ != b.words_) return false;
  const std::size_t n = 2 * static_cast<std::size_t>(std::popcount(a.words_));
  return std::equal(a.data_.get(), a.data_.get() + n, b.data_.get());
}

classifier::Match PackedMatch::unpack() const {
  classifier::Match m;
  const std::uint64_t* d = data_.get();
  for (std::size_t i = 0; i < classifier::kWords; ++i) {
    if (!(words_ & (1U << i))) continue;
    m.value.w[i] = *d++;
    m.mask.w[i] = *d++;
  }
  return m;
}

PackedOxm::PackedOxm(const openflow::Match& m) {
  if (m.fields.empty()) return;
  std::size_t n = 2;
  for (const openflow::OxmField& f : m.fields) n += openflow::oxm_wire_len(f) - 2;
  data_ = std::make_unique<std::uint8_t[]>(n);
  std::uint8_t* d = data_.get();
  const auto count = static_cast<std::uint16_t>(m.fields.size());  // a match is < 64 KiB
  *d++ = static_cast<std::uint8_t>(count >> 8);
  *d++ = static_cast<std::uint8_t>(count);
  for (const openflow::OxmField& f : m.fields) {
    *d++ = static_cast<std::uint8_t>(f.id);
    *d++ = f.has_mask ? 1 : 0;
    const std::size_t len = f.len();
    d = std::copy_n(f.value.begin(), len, d);
    if (f.has_mask) d = std::copy_n(f.mask.begin(), len, d);
  }
}

openflow::Match PackedOxm::unpack() const {
  openflow::Match m;
  if (!data_) return m;
  const std::uint8_t* d = data_.get();
  const unsigned count = unsigned{d[0]} << 8 | d[1];
  d += 2;
  m.fields.resize(count);
  for (openflow::OxmField& f : m.fields) {
    f.id = static_cast<openflow::OxmId>(*d++);
    f.has_mask = *d++ != 0;
    const std::size_t len = f.len();
    std::copy_n(d, len, f.value.begin());
    d += len;
    if (f.has_mask) {
      std::copy_n(d, len, f.mask.begin());
      d += len;
    }
  }
  return m;
}

std::size_t Tables::ActionsHash::of(const std::vector<openflow::Instruction>& ins) noexcept {
  // Only fields that operator== compares; enough to tell typical instruction lists apart.
  std::uint64_t h = ins.size();
  const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x9e3779b97f4a7c15ULL; };
  for (const Instruction& i : ins) {
    mix(static_cast<std::uint64_t>(i.type) << 8 | i.table_id);
    mix(i.metadata);
    mix(i.mask);
    mix(i.actions.size());
    for (const openflow::Action& a : i.actions) {
      mix(static_cast<std::uint64_t>(a.type) << 48 | std::uint64_t{a.max_len} << 32 | a.arg);
      if (a.type == ActionType::kSetField)
        mix(static_cast<std::uint64_t>(a.field.id) << 32 | a.field.value_u64());
    }
  }
  return h ^ (h >> 29);
}

Tables::Tables(classifier::Config config, Clock clock)
    : clock_(clock ? std::move(clock) : Clock(steady_ms)), rules_(kNumTables) {
  cls_.reserve(kNumTables);
  for (unsigned i = 0; i < kNumTables; ++i) {
    cls_.push_back(std::make_unique<classifier::Classifier>(config));
    matched_.push_back(std::make_shared<RuleCounters>());
    auto miss = std::make_shared<Rule>();
    miss->table_id = kAllTables;  // counter only: in no table
    miss->counters = std::make_shared<RuleCounters>();
    missed_.push_back(std::move(miss));
  }
}

Tables::Counts Tables::counts(std::uint8_t table_id) const {
  if (table_id >= kNumTables) return {};
  const std::uint64_t matched = matched_[table_id]->packets.load(std::memory_order_relaxed);
  const std::uint64_t missed = missed_[table_id]->counters->packets.load(std::memory_order_relaxed);
  return {matched + missed, matched};
}

Tables::~Tables() = default;

Result<std::shared_ptr<const RuleActions>> Tables::intern(std::uint8_t table_id,
                                                          std::vector<Instruction> ins) {
  const std::size_t hash = ActionsHash::of(ins);
  if (auto it = actions_.find(ActionsKey{&ins, hash}); it != actions_.end()) {
    // Equal instructions compile alike, but whether they are valid depends on the table.
    if (auto p = compile(table_id, (*it)->instructions); !p) return p.error();
    return *it;
  }
  auto made = std::make_shared<RuleActions>(std::move(ins));
  auto p = compile(table_id, made->instructions);
  if (!p) return p.error();
  made->program = *p;
  made->hash = hash;
  if (actions_.size() >= actions_sweep_at_) {
    std::erase_if(actions_, [](const auto& a) { return a.use_count() == 1; });
    actions_sweep_at_ = std::max<std::size_t>(64, 2 * actions_.size());
  }
  return *actions_.insert(std::move(made)).first;
}

// Normalizes spec.match in place (add() hands it to the classifier) and takes its
// instructions.
Result<std::shared_ptr<Rule>> Tables::make_rule(RuleSpec& spec) {
  if (spec.table_id >= kNumTables)
    return make_error(EINVAL, "table " + std::to_string(spec.table_id) + " does not exist");
  auto r = std::make_shared<Rule>();
  r->table_id = spec.table_id;
  spec.match.normalize();
  r->packed = PackedMatch(spec.match);
  r->priority = spec.priority;
  r->cookie = spec.cookie;
  r->idle_timeout = spec.idle_timeout;
  r->hard_timeout = spec.hard_timeout;
  r->flags = spec.flags;
  r->created_ms = clock_();
  r->modified_ms = r->created_ms;
  auto actions = intern(r->table_id, std::move(spec.instructions));
  if (!actions) return actions.error();
  r->actions = std::move(*actions);
  r->packed_oxm = PackedOxm(spec.oxm);
  r->counters = std::make_shared<RuleCounters>();
  r->counters->used_ms.store(r->created_ms, std::memory_order_relaxed);
  r->table_matched = matched_[r->table_id];
  return r;
}

void Tables::retire(std::shared_ptr<Rule> r) {
  retired_.retire(std::move(r));
}

void Tables::erase(std::shared_ptr<Rule> r, RemovedReason reason, std::int64_t now_ms) {
  cls_[r->table_id]->remove(r->match(), r->priority);
  RuleMap& map = rules_[r->table_id];
  if (auto it = map.find(r); it != map.end()) map.erase(it);
  stage(r->table_id);
  if (r->flags & kFlagSendFlowRem) removed_.push_back(RemovedRule{r, reason, now_ms});
  retire(std::move(r));
}

Result<RuleId> Tables::add(RuleSpec spec) {
  auto made = make_rule(spec);
  if (!made) return made.error();
  std::shared_ptr<Rule> r = std::move(*made);
  RuleMap& map = rules_[r->table_id];
  classifier::Classifier& cls = *cls_[r->table_id];
  const classifier::Match& match = spec.match;  // normalized by make_rule
  if (r->flags & kFlagCheckOverlap) {
    for (const auto& other : map) {
      if (other->priority != r->priority) continue;
      const classifier::Match om = other->match();
      if (!(om == match) && overlaps(om, match))
        return make_error(
            EEXIST, "an overlapping rule of priority " + std::to_string(r->priority) + " exists");
    }
  }
  if (auto it = map.find(r); it != map.end()) {
    if (!(r->flags & kFlagResetCounts)) r->counters = (*it)->counters;
    cls.replace(match, r->priority, cookie_of(r.get()));
    retire(*it);
    map.erase(it);
  } else {
    if (const auto ec = cls.insert(match, r->priority, cookie_of(r.get())))
      return make_error(ec.value(), "classifier refused the rule");
  }
  map.insert(r);
  stage(r->table_id);
  return RuleId(r);
}

template <class F>
void Tables::for_selected(const RuleFilter& filter, F&& f) const {
  classifier::Match fm = filter.match;
  fm.normalize();
  const unsigned first = filter.table_id == kAllTables ? 0 : filter.table_id;
  const unsigned last = filter.table_id == kAllTables ? kNumTables : filter.table_id + 1U;
  for (unsigned t = first; t < last && t < kNumTables; ++t) {
    for (const auto& r : rules_[t]) {
      if (filter.strict && r->priority != filter.priority) continue;
      const classifier::Match m = r->match();
      if (filter.strict ? !(m == fm) : !subsumes(fm, m)) continue;
      if ((r->cookie & filter.cookie_mask) != (filter.cookie & filter.cookie_mask)) continue;
      if (!r->outputs_to(filter.out_port) || !r->uses_group(filter.out_group)) continue;
      f(r);
    }
  }
}

Result<std::size_t> Tables::modify(const RuleFilter& filter,
                                   const std::vector<openflow::Instruction>& instructions,
                                   bool reset_counts) {
  std::vector<std::shared_ptr<Rule>> selected;
  for_selected(filter, [&](const std::shared_ptr<Rule>& r) { selected.push_back(r); });
  // Build every replacement first, so a refused instruction list changes nothing.
  std::vector<std::shared_ptr<Rule>> fresh;
  for (const auto& old : selected) {
    RuleSpec spec{old->table_id,     old->match(),      old->priority, old->cookie, instructions,
                  old->idle_timeout, old->hard_timeout, old->flags,    old->oxm()};
    auto made = make_rule(spec);
    if (!made) return made.error();
    if (!reset_counts) (*made)->counters = old->counters;
    (*made)->created_ms = old->created_ms;
    fresh.push_back(std::move(*made));
  }
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const auto& r = fresh[i];
    cls_[r->table_id]->replace(r->match(), r->priority, cookie_of(r.get()));
    RuleMap& map = rules_[r->table_id];
    if (auto it = map.find(r); it != map.end()) map.erase(it);
    map.insert(r);
    retire(std::move(selected[i]));
    stage(r->table_id);
  }
  return fresh.size();
}

std::size_t Tables::remove(const RuleFilter& filter, std::vector<RuleId>* removed,
                           RemovedReason reason) {
  std::vector<std::shared_ptr<Rule>> selected;
  for_selected(filter, [&](const std::shared_ptr<Rule>& r) { selected.push_back(r); });
  const std::int64_t now = selected.empty() ? 0 : clock_();
  for (auto& r : selected) {
    if (removed) removed->push_back(r);
    erase(std::move(r), reason, now);
  }
  return selected.size();
}

std::size_t Tables::expire(std::int64_t now_ms) {
  std::vector<std::pair<std::shared_ptr<Rule>, RemovedReason>> expired;
  for (const RuleMap& map : rules_) {
    for (const auto& r : map) {
      if (r->hard_timeout && now_ms > r->modified_ms + std::int64_t{r->hard_timeout} * 1000) {
        expired.emplace_back(r, RemovedReason::kHardTimeout);
      } else if (r->idle_timeout && now_ms > r->counters->used_ms.load(std::memory_order_relaxed) +
                                                 std::int64_t{r->idle_timeout} * 1000) {
        expired.emplace_back(r, RemovedReason::kIdleTimeout);
      }
    }
  }
  for (auto& [r, reason] : expired) erase(std::move(r), reason, now_ms);
  return expired.size();
}

Result<void> Tables::apply(const openflow::FlowMod& fm, std::vector<RuleId>* removed) {
  auto match = from_oxm(fm.match);
  if (!match) return match.error();
  return apply(fm, *match, removed);
}

Result<void> Tables::apply(const openflow::FlowMod& fm, const classifier::Match& match,
                           std::vector<RuleId>* removed) {
  using Cmd = openflow::FlowModCommand;
  const auto cmd = static_cast<Cmd>(fm.command);
  if (fm.table_id == kAllTables && cmd != Cmd::kDelete && cmd != Cmd::kDeleteStrict)
    return make_error(EINVAL, "table ALL is valid only for delete");
  switch (cmd) {
    case Cmd::kAdd: {
      auto r = add(RuleSpec{fm.table_id, match, fm.priority, fm.cookie, fm.instructions,
                            fm.idle_timeout, fm.hard_timeout, fm.flags, fm.match});
      if (!r) return r.error();
      return {};
    }
    case Cmd::kModify:
    case Cmd::kModifyStrict: {
      RuleFilter f{fm.table_id, match,     cmd == Cmd::kModifyStrict,
                   fm.priority, fm.cookie, fm.cookie_mask};
      auto n = modify(f, fm.instructions, (fm.flags & kFlagResetCounts) != 0);
      if (!n) return n.error();
      return {};
    }
    case Cmd::kDelete:
    case Cmd::kDeleteStrict: {
      RuleFilter f{fm.table_id, match,       cmd == Cmd::kDeleteStrict,
                   fm.priority, fm.cookie,   fm.cookie_mask,
                   fm.out_port, fm.out_group};
      remove(f, removed);
      return {};
    }
  }
  return make_error(EINVAL, "unknown flow_mod command " + std::to_string(fm.command));
}

void Tables::stage(std::uint8_t table_id) {
  if (staged_.test(table_id)) return;
  staged_.set(table_id);
  staged_ids_.push_back(table_id);
}

std::uint64_t Tables::publish() {
  if (staged_.any()) {
    seq_.fetch_add(1, std::memory_order_seq_cst);  // odd: lookups from now on retry
    for (const std::uint8_t t : staged_ids_) cls_[t]->publish();
    seq_.fetch_add(1, std::memory_order_seq_cst);
    staged_.reset();
    staged_ids_.clear();
  }
  // Lookups that started before the publications above may still hold a retired Rule*.
  retired_.seal();
  retired_.reclaim();
  return version();
}

std::size_t Tables::reclaim() {
  retired_.reclaim();
  return retired_.size();
}

std::vector<RuleId> Tables::rules(std::uint8_t table_id) const {
  std::vector<RuleId> out;
  for (unsigned t = 0; t < kNumTables; ++t) {
    if (table_id != kAllTables && t != table_id) continue;
    for (const auto& r : rules_[t]) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const RuleId& a, const RuleId& b) {
    if (a->table_id != b->table_id) return a->table_id < b->table_id;
    return a->priority > b->priority;
  });
  return out;
}

std::vector<RuleId> Tables::select(const RuleFilter& filter) const {
  std::vector<RuleId> out;
  for_selected(filter, [&](const std::shared_ptr<Rule>& r) { out.push_back(r); });
  std::sort(out.begin(), out.end(), [](const RuleId& a, const RuleId& b) {
    if (a->table_id != b->table_id) return a->table_id < b->table_id;
    return a->priority > b->priority;
  });
  return out;
}

std::size_t Tables::size() const {
  std::size_t n = 0;
  for (const auto& m : rules_) n += m.size();
  return n;
}

const Rule* Tables::lookup(std::uint8_t table_id, const classifier::FlowKey& key,
                           classifier::FlowKey* wc) const {
  if (table_id >= kNumTables) return nullptr;
  const auto hit = cls_[table_id]->lookup(key, wc);
  if (!hit) return nullptr;
  // The classifier's cookie holds the Rule's address (set in publish).
  return reinterpret_cast<const Rule*>(  // NOLINT(performance-no-int-to-ptr)
      static_cast<std::uintptr_t>(hit->cookie));
}

}  // namespace vsw::ofproto
