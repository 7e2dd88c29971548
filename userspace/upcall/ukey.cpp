// Interned values, Ukey and UkeyTable (see ukey.h).
#include "upcall/ukey.h"

#include <bit>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>
#include <variant>

namespace vsw::upcall {

namespace {

constexpr std::size_t kWords = sizeof(vsw_flow_key) / 8;
static_assert(sizeof(vsw_flow_key) % 8 == 0);
static_assert(kWords <= 16, "Mask::words has one bit per key word");

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

std::uint64_t word(const vsw_flow_key& k, std::size_t i) {
  std::uint64_t w;
  std::memcpy(&w, reinterpret_cast<const unsigned char*>(&k) + i * 8, 8);
  return w;
}

// One step of the match hash: the same sequence for a full Match and for a Ukey's
// compact key, as both visit the mask's non-zero words in order.
std::uint64_t match_step(std::uint64_t h, std::size_t i, std::uint64_t mask, std::uint64_t key) {
  return mix(mix(h, mask ^ i), key);
}

// ---- pools ------------------------------------------------------------------------------
template <class T>
struct Pool {
  using Node = typename Interned<T>::Node;
  struct Probe {
    const T* value;
    std::size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const Node* n) const noexcept { return n->hash; }
    std::size_t operator()(const Probe& p) const noexcept { return p.hash; }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const Node* a, const Node* b) const noexcept { return a == b; }
    bool operator()(const Node* a, const Probe& p) const {
      return a->hash == p.hash && a->value == *p.value;
    }
    bool operator()(const Probe& p, const Node* a) const {
      return a->hash == p.hash && a->value == *p.value;
    }
  };

  std::mutex mu;
  boost::unordered_flat_set<Node*, Hash, Eq> nodes;

  // Never destroyed: ukeys of threads still running at exit may release into it.
  static Pool& get() {
    static auto* pool = new Pool;
    return *pool;
  }
};

}  // namespace

// ---- Interned -----------------------------------------------------------------------------
template <class T>
Interned<T> Interned<T>::intern(const T& value) {
  auto& pool = Pool<T>::get();
  const std::size_t h = intern_hash(value);
  std::lock_guard lock(pool.mu);
  auto it = pool.nodes.find(typename Pool<T>::Probe{&value, h});
  if (it != pool.nodes.end()) {
    // Under the pool's lock a held node has at least one reference (the last one is
    // dropped under this lock, see ~Interned), so this never revives a dying node.
    (*it)->refs.fetch_add(1, std::memory_order_relaxed);
    return Interned(*it);
  }
  auto* n = new Node{{1}, h, value};
  pool.nodes.insert(n);
  return Interned(n);
}

template <class T>
Interned<T>::Interned(const Interned& o) noexcept : n_(o.n_) {
  if (n_) n_->refs.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
Interned<T>::~Interned() {
  if (!n_) return;
  // Drop a reference that is not the last without the lock; the last one only under the
  // pool's lock, so that intern() cannot find the node while it is being freed.
  std::uint32_t r = n_->refs.load(std::memory_order_relaxed);
  while (r > 1)
    if (n_->refs.compare_exchange_weak(r, r - 1, std::memory_order_acq_rel)) return;
  auto& pool = Pool<T>::get();
  std::lock_guard lock(pool.mu);
  if (n_->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;  // interned meanwhile
  pool.nodes.erase(n_);
  delete n_;
}

template <class T>
std::size_t Interned<T>::pool_size() {
  auto& pool = Pool<T>::get();
  std::lock_guard lock(pool.mu);
  return pool.nodes.size();
}

template class Interned<Mask>;
template class Interned<dpif::Actions>;
template class Interned<RuleList>;

bool operator==(const Mask& a, const Mask& b) {
  return std::memcmp(&a.bits, &b.bits, sizeof a.bits) == 0;
}

std::size_t intern_hash(const Mask& m) {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < kWords; ++i) h = mix(h, word(m.bits, i));
  return h;
}

std::size_t intern_hash(const dpif::Actions& actions) {
  std::uint64_t h = actions.size();
  for (const dpif::Action& a : actions) {
    h = mix(h, a.index());
    if (const auto* o = std::get_if<dpif::OutputAction>(&a)) {
      h = mix(h, o->port);
    } else if (const auto* u = std::get_if<dpif::UserspaceAction>(&a)) {
      h = mix(h, u->pid);
      for (const std::uint8_t b : u->cookie) h = mix(h, b);
    } else if (const auto* s = std::get_if<dpif::SetAction>(&a)) {
      auto opt = [&h](const auto& v) {
        h = mix(h, v.has_value());
        if (!v) return;
        if constexpr (std::is_integral_v<std::decay_t<decltype(*v)>>) {
          h = mix(h, *v);
        } else {
          for (const std::uint8_t b : *v) h = mix(h, b);
        }
      };
      opt(s->eth_src);
      opt(s->eth_dst);
      opt(s->ipv4_src);
      opt(s->ipv4_dst);
      opt(s->ipv4_tos);
      opt(s->ipv4_ttl);
      opt(s->l4_src);
      opt(s->l4_dst);
      opt(s->vlan_vid);
      opt(s->vlan_pcp);
      opt(s->ipv6_src);
      opt(s->ipv6_dst);
      opt(s->ipv6_tclass);
      opt(s->ipv6_hlimit);
      opt(s->ipv6_label);
      opt(s->arp_op);
      opt(s->arp_sha);
      opt(s->arp_tha);
      opt(s->arp_spa);
      opt(s->arp_tpa);
    } else if (const auto* v = std::get_if<dpif::PushVlanAction>(&a)) {
      h = mix(h, v->vid);
      h = mix(h, v->pcp);
    }
  }
  return h;
}

std::size_t intern_hash(const RuleList& rules) {
  std::uint64_t h = rules.size();
  for (const auto& r : rules) h = mix(h, reinterpret_cast<std::uintptr_t>(r.get()));
  return h;
}

// ---- Ukey ---------------------------------------------------------------------------------
std::size_t MatchHash::operator()(const dpif::Match& m) const noexcept {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    const std::uint64_t mw = word(m.mask, i);
    if (mw) h = match_step(h, i, mw, word(m.key, i));
  }
  return h;
}

static_assert(alignof(Ukey) >= alignof(std::uint64_t) && sizeof(Ukey) % 8 == 0,
              "the key words follow the Ukey");

UkeyPtr Ukey::make(const dpif::Match& m, const dpif::Actions& actions,
                   std::span<const ofproto::MacTag> tags, const RuleList& rules,
                   const ofproto::MacLearnRef& learns) {
  Mask mask;
  mask.bits = m.mask;
  for (std::size_t i = 0; i < kWords; ++i)
    if (word(m.mask, i)) mask.words = static_cast<std::uint16_t>(mask.words | (1U << i));
  const auto n_words = static_cast<std::size_t>(std::popcount(mask.words));

  void* mem = ::operator new(sizeof(Ukey) + n_words * sizeof(std::uint64_t));
  UkeyPtr uk(new (mem) Ukey());
  std::uint64_t h = 0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    if (!(mask.words & (1U << i))) continue;
    const std::uint64_t mw = word(m.mask, i);
    const std::uint64_t kw = word(m.key, i) & mw;
    uk->words()[j++] = kw;
    h = match_step(h, i, mw, kw);
  }
  uk->hash_ = h;
  uk->mask_ = Interned<Mask>::intern(mask);
  uk->actions_ = Interned<dpif::Actions>::intern(actions);
  uk->rules_ = Interned<RuleList>::intern(rules);
  uk->set_tags(tags);
  uk->learns_ = learns;
  return uk;
}

void intrusive_ptr_add_ref(Ukey* uk) noexcept {
  uk->refs_.fetch_add(1, std::memory_order_relaxed);
}

void intrusive_ptr_release(Ukey* uk) noexcept {
  if (uk->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  uk->~Ukey();
  ::operator delete(static_cast<void*>(uk));
}

dpif::Match Ukey::match() const {
  dpif::Match m;
  m.mask = mask_->bits;
  std::size_t j = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    if (!(mask_->words & (1U << i))) continue;
    std::memcpy(reinterpret_cast<unsigned char*>(&m.key) + i * 8, &words()[j++], 8);
  }
  return m;
}

bool Ukey::has_match(const dpif::Match& m) const {
  if (std::memcmp(&m.mask, &mask_->bits, sizeof m.mask) != 0) return false;
  std::size_t j = 0;
  for (std::size_t i = 0; i < kWords; ++i) {
    const std::uint64_t kw = word(m.key, i);
    if (mask_->words & (1U << i)) {
      if (kw != words()[j++]) return false;
    } else if (kw != 0) {
      return false;  // not normalized: not the same match
    }
  }
  return true;
}

bool Ukey::same_match(const Ukey& o) const {
  if (hash_ != o.hash_ || !(mask_ == o.mask_)) return false;
  const auto n = static_cast<std::size_t>(std::popcount(mask_->words));
  return std::memcmp(words(), o.words(), n * sizeof(std::uint64_t)) == 0;
}

std::vector<ofproto::MacTag> Ukey::tags() const {
  std::vector<ofproto::MacTag> out;
  out.reserve(n_tags_);
  for (std::size_t i = 0; i < n_tags_; ++i) out.push_back(slot(i).tag);
  return out;
}

void Ukey::set_tags(std::span<const ofproto::MacTag> tags) {
  const std::size_t n = tags.size();
  more_.reset();
  if (n > kInlineTags) more_ = std::make_unique<TagSlot[]>(n);
  n_tags_ = static_cast<std::uint32_t>(n);
  for (std::size_t i = 0; i < n; ++i) slot(i) = TagSlot{tags[i]};
}

// ---- UkeyTable ----------------------------------------------------------------------------
UkeyTable::UkeyTable() = default;
UkeyTable::~UkeyTable() = default;

UkeyPtr UkeyTable::claim(const dpif::Match& m, const dpif::Actions& actions,
                         std::span<const ofproto::MacTag> tags, const RuleList& rules,
                         std::uint64_t created_ms, const ofproto::MacLearnRef& learns,
                         std::size_t limit) {
  {
    std::lock_guard lock(mu_);
    if (set_.contains(m)) return {};
  }
  // Made outside the lock (allocation, interning); a claim that races with another for
  // the same megaflow loses below.
  UkeyPtr uk = Ukey::make(m, actions, tags, rules, learns);
  uk->created_ms = created_ms;
  return insert(uk, limit) ? uk : UkeyPtr();
}

bool UkeyTable::insert(const UkeyPtr& uk, std::size_t limit) {
  std::lock_guard lock(mu_);
  if (set_.size() >= limit || !set_.insert(uk).second) return false;
  index(*uk);
  size_.store(set_.size(), std::memory_order_relaxed);
  return true;
}

UkeyPtr UkeyTable::find(const dpif::Match& m) const {
  std::lock_guard lock(mu_);
  auto it = set_.find(m);
  return it == set_.end() ? UkeyPtr() : *it;
}

bool UkeyTable::holds(const Ukey& uk) const {
  std::lock_guard lock(mu_);
  return holds_locked(uk);
}

bool UkeyTable::holds_locked(const Ukey& uk) const {
  return set_.find(&uk) != set_.end();
}

void UkeyTable::erase(const dpif::Match& m) {
  std::lock_guard lock(mu_);
  auto it = set_.find(m);
  if (it == set_.end()) return;
  erase_locked(UkeyPtr(*it));
}

void UkeyTable::erase(const Ukey& uk) {
  std::lock_guard lock(mu_);
  auto it = set_.find(&uk);
  if (it == set_.end()) return;
  erase_locked(UkeyPtr(*it));
}

void UkeyTable::erase_locked(const UkeyPtr& uk) {
  unindex(*uk);
  set_.erase(uk.get());
  size_.store(set_.size(), std::memory_order_relaxed);
  erased_.fetch_add(1, std::memory_order_relaxed);
}

void UkeyTable::update(const UkeyPtr& uk, const dpif::Actions& actions,
                       std::span<const ofproto::MacTag> tags, const RuleList& rules,
                       const ofproto::MacLearnRef& learns) {
  std::lock_guard lock(mu_);
  const bool present = holds_locked(*uk);
  if (present) unindex(*uk);
  if (!(*uk->actions_ == actions)) uk->actions_ = Interned<dpif::Actions>::intern(actions);
  if (*uk->rules_ != rules) uk->rules_ = Interned<RuleList>::intern(rules);
  uk->set_tags(tags);
  uk->learns_ = learns;
  if (present) index(*uk);
}

std::size_t UkeyTable::mark_tagged(std::span<const ofproto::MacTag> tags) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& t : tags) {
    auto it = by_tag_.find(t);
    if (it == by_tag_.end()) continue;
    Ukey* uk = it->second.uk;
    std::uint32_t s = it->second.slot;
    while (uk) {
      const Ukey::TagSlot& slot = uk->slot(s);
      if (!uk->dirty.exchange(true)) {
        dirty_.emplace_back(uk);
        ++n;
      }
      uk = slot.next;
      s = slot.next_slot;
    }
  }
  return n;
}

void UkeyTable::mark_all() {
  std::lock_guard lock(mu_);
  for (const UkeyPtr& uk : set_)
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
  return {set_.begin(), set_.end()};
}

std::size_t UkeyTable::indexed_tags() const {
  std::lock_guard lock(mu_);
  return by_tag_.size();
}

// Puts each of uk's tag slots at the head of its tag's list.
void UkeyTable::index(Ukey& uk) {
  for (std::uint32_t i = 0; i < uk.n_tags_; ++i) {
    Ukey::TagSlot& s = uk.slot(i);
    Head& head = by_tag_[s.tag];
    s.prev = nullptr;
    s.next = head.uk;
    s.next_slot = head.slot;
    if (head.uk) {
      Ukey::TagSlot& old = head.uk->slot(head.slot);
      old.prev = &uk;
      old.prev_slot = i;
    }
    head = Head{&uk, i};
  }
}

// Takes each of uk's tag slots out of its tag's list (dropping lists left empty).
void UkeyTable::unindex(Ukey& uk) {
  for (std::uint32_t i = 0; i < uk.n_tags_; ++i) {
    Ukey::TagSlot& s = uk.slot(i);
    if (s.prev) {
      Ukey::TagSlot& p = s.prev->slot(s.prev_slot);
      p.next = s.next;
      p.next_slot = s.next_slot;
    } else if (auto it = by_tag_.find(s.tag); it != by_tag_.end()) {
      if (s.next)
        it->second = Head{s.next, s.next_slot};
      else
        by_tag_.erase(it);
    }
    if (s.next) {
      Ukey::TagSlot& n = s.next->slot(s.next_slot);
      n.prev = s.prev;
      n.prev_slot = s.prev_slot;
    }
    s.prev = s.next = nullptr;
  }
}

}  // namespace vsw::upcall
