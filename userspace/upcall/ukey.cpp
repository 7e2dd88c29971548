// UkeyTable (see ukey.h).
#include "upcall/ukey.h"

#include <cstring>
#include <utility>

namespace vsw::upcall {

namespace {
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}
std::uint64_t hash_bytes(const void* p, std::size_t n, std::uint64_t h) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, b + i, 8);
    h = mix(h, w);
  }
  return h;
}
}  // namespace

std::size_t MatchHash::operator()(const dpif::Match& m) const noexcept {
  static_assert(sizeof(vsw_flow_key) % 8 == 0);
  return hash_bytes(&m.mask, sizeof m.mask, hash_bytes(&m.key, sizeof m.key, 0));
}

bool UkeyTable::insert(const UkeyPtr& uk) {
  std::lock_guard lock(mu_);
  auto [it, added] = map_.try_emplace(uk->match, uk);
  if (added) index(uk);
  return added;
}

UkeyPtr UkeyTable::find(const dpif::Match& m) const {
  std::lock_guard lock(mu_);
  auto it = map_.find(m);
  return it == map_.end() ? nullptr : it->second;
}

void UkeyTable::erase(const dpif::Match& m) {
  std::lock_guard lock(mu_);
  auto it = map_.find(m);
  if (it == map_.end()) return;
  unindex(*it->second);
  map_.erase(it);
}

void UkeyTable::update(const UkeyPtr& uk, dpif::Actions actions, std::vector<ofproto::MacTag> tags,
                       std::vector<ofproto::RuleId> rules) {
  std::lock_guard lock(mu_);
  auto it = map_.find(uk->match);
  const bool present = it != map_.end() && it->second == uk;
  if (present) unindex(*uk);
  uk->actions = std::move(actions);
  uk->tags = std::move(tags);
  uk->rules = std::move(rules);
  if (present) index(uk);
}

std::size_t UkeyTable::mark_tagged(const std::vector<ofproto::MacTag>& tags) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& t : tags) {
    auto it = by_tag_.find(t);
    if (it == by_tag_.end()) continue;
    for (Ukey* uk : it->second) {
      if (uk->dirty.exchange(true)) continue;
      dirty_.push_back(map_.at(uk->match));
      ++n;
    }
  }
  return n;
}

void UkeyTable::mark_all() {
  std::lock_guard lock(mu_);
  for (auto& [m, uk] : map_)
    if (!uk->dirty.exchange(true)) dirty_.push_back(uk);
}

std::vector<UkeyPtr> UkeyTable::take_dirty() {
  std::lock_guard lock(mu_);
  return std::exchange(dirty_, {});
}

void UkeyTable::requeue(const UkeyPtr& uk) {
  std::lock_guard lock(mu_);
  uk->dirty = true;
  dirty_.push_back(uk);
}

std::vector<UkeyPtr> UkeyTable::all() const {
  std::lock_guard lock(mu_);
  std::vector<UkeyPtr> out;
  out.reserve(map_.size());
  for (const auto& [m, uk] : map_) out.push_back(uk);
  return out;
}

std::size_t UkeyTable::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

void UkeyTable::index(const UkeyPtr& uk) {
  for (const auto& t : uk->tags) by_tag_[t].insert(uk.get());
}

void UkeyTable::unindex(const Ukey& uk) {
  for (const auto& t : uk.tags) {
    auto it = by_tag_.find(t);
    if (it == by_tag_.end()) continue;
    it->second.erase(const_cast<Ukey*>(&uk));
    if (it->second.empty()) by_tag_.erase(it);
  }
}

}  // namespace vsw::upcall
