// MAC learning table. See mac_learning.h.
#include "ofproto/mac_learning.h"

#include <algorithm>
#include <mutex>

namespace vsw::ofproto {
namespace {

std::uint64_t key_of(std::uint16_t vlan, const Mac& mac) {
  return MacTag{vlan, mac}.packed();
}

}  // namespace

MacLearning::MacLearning(Options o)
    : clock_(o.clock ? std::move(o.clock) : Clock(steady_ms)),
      capacity_(o.capacity),
      aging_s_(o.aging_s) {}

std::int64_t MacLearning::now_ms() const {
  return clock_();
}

std::optional<std::uint32_t> MacLearning::lookup(std::uint16_t vlan, const Mac& mac) const {
  std::shared_lock lock(mu_);
  const auto it = table_.find(key_of(vlan, mac));
  if (it == table_.end()) return std::nullopt;
  return it->second.port;
}

MacLearning::LearnResult MacLearning::learn(std::uint16_t vlan, const Mac& mac,
                                            std::uint32_t port) {
  const std::uint64_t key = key_of(vlan, mac);
  const std::int64_t now = clock_();
  {
    std::shared_lock lock(mu_);
    const auto it = table_.find(key);
    if (it != table_.end() && it->second.port == port) {
      it->second.used.store(now, std::memory_order_relaxed);
      return {Learned::kRefreshed, 0, std::nullopt};
    }
  }
  std::unique_lock lock(mu_);
  LearnResult r;
  auto it = table_.find(key);
  if (it != table_.end()) {
    Slot& s = it->second;
    s.used.store(now, std::memory_order_relaxed);
    if (s.port == port) return {Learned::kRefreshed, 0, std::nullopt};  // raced with another
    auto& from = queues_[s.port];
    from.erase(s.pos);
    if (from.empty()) queues_.erase(s.port);
    r.what = Learned::kMoved;
    r.old_port = s.port;
    auto& to = queues_[port];
    s.pos = to.insert(to.end(), key);
    s.port = port;
    s.queued = now;
    moved_.fetch_add(1, std::memory_order_relaxed);
    if (moves_.size() == kRecentMoves) moves_.pop_front();
    moves_.push_back(Move{MacTag::unpack(key), r.old_port, port, now});
    return r;
  }
  if (capacity_ == 0) return r;
  if (table_.size() >= capacity_) r.evicted = evict_one();
  auto [slot, inserted] = table_.try_emplace(key);
  (void)inserted;
  Slot& s = slot->second;
  s.port = port;
  s.used.store(now, std::memory_order_relaxed);
  s.queued = now;
  auto& q = queues_[port];
  s.pos = q.insert(q.end(), key);
  learned_.fetch_add(1, std::memory_order_relaxed);
  r.what = Learned::kNew;
  return r;
}

void MacLearning::erase(Table::iterator it) {
  auto q = queues_.find(it->second.port);
  q->second.erase(it->second.pos);
  if (q->second.empty()) queues_.erase(q);
  table_.erase(it);
}

std::optional<MacTag> MacLearning::evict_one() {
  if (queues_.empty()) return std::nullopt;
  // The port with the most entries (the lowest number among equals, for determinism).
  auto victim = queues_.begin();
  for (auto it = queues_.begin(); it != queues_.end(); ++it) {
    const std::size_t a = it->second.size(), b = victim->second.size();
    if (a > b || (a == b && it->first < victim->first)) victim = it;
  }
  auto& q = victim->second;
  // Second chance: an entry refreshed since it was queued goes to the back, once.
  for (std::size_t n = q.size(); n > 1; --n) {
    Slot& s = table_.find(q.front())->second;
    const std::int64_t used = s.used.load(std::memory_order_relaxed);
    if (used <= s.queued) break;
    s.queued = used;
    q.splice(q.end(), q, q.begin());
  }
  const std::uint64_t key = q.front();
  erase(table_.find(key));
  evicted_.fetch_add(1, std::memory_order_relaxed);
  return MacTag::unpack(key);
}

std::vector<MacTag> MacLearning::expire() {
  const std::int64_t limit =
      clock_() - static_cast<std::int64_t>(aging_s_.load(std::memory_order_relaxed)) * 1000;
  std::vector<MacTag> out;
  std::unique_lock lock(mu_);
  for (auto it = table_.begin(); it != table_.end();) {
    const auto next = std::next(it);
    if (it->second.used.load(std::memory_order_relaxed) <= limit) {
      out.push_back(MacTag::unpack(it->first));
      erase(it);
    }
    it = next;
  }
  expired_.fetch_add(out.size(), std::memory_order_relaxed);
  return out;
}

std::vector<MacTag> MacLearning::flush_port(std::uint32_t port) {
  std::vector<MacTag> out;
  std::unique_lock lock(mu_);
  const auto q = queues_.find(port);
  if (q == queues_.end()) return out;
  for (const std::uint64_t key : q->second) {
    out.push_back(MacTag::unpack(key));
    table_.erase(key);
  }
  queues_.erase(q);
  return out;
}

std::vector<MacTag> MacLearning::flush() {
  std::vector<MacTag> out;
  std::unique_lock lock(mu_);
  out.reserve(table_.size());
  for (const auto& [key, slot] : table_) out.push_back(MacTag::unpack(key));
  table_.clear();
  queues_.clear();
  return out;
}

std::vector<MacTag> MacLearning::set_capacity(std::size_t n) {
  std::vector<MacTag> out;
  std::unique_lock lock(mu_);
  capacity_ = n;
  while (table_.size() > capacity_) {
    if (auto t = evict_one()) out.push_back(*t);
  }
  return out;
}

void MacLearning::set_aging(std::uint32_t seconds) {
  aging_s_.store(seconds, std::memory_order_relaxed);
}

std::vector<MacLearning::Entry> MacLearning::dump() const {
  const std::int64_t now = clock_();
  std::vector<Entry> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(table_.size());
    for (const auto& [key, s] : table_)
      out.push_back(
          Entry{MacTag::unpack(key), s.port, now - s.used.load(std::memory_order_relaxed)});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });
  return out;
}

MacLearning::Stats MacLearning::stats() const {
  Stats s;
  {
    std::shared_lock lock(mu_);
    s.entries = table_.size();
    s.capacity = capacity_;
  }
  s.aging_s = aging_s_.load(std::memory_order_relaxed);
  s.learned = learned_.load(std::memory_order_relaxed);
  s.moved = moved_.load(std::memory_order_relaxed);
  s.evicted = evicted_.load(std::memory_order_relaxed);
  s.expired = expired_.load(std::memory_order_relaxed);
  return s;
}

std::vector<MacLearning::Move> MacLearning::take_moves() {
  std::unique_lock lock(mu_);
  std::vector<Move> out(moves_.begin(), moves_.end());
  moves_.clear();
  return out;
}

}  // namespace vsw::ofproto
