// ChangeLog (see change_log.h).
#include "upcall/change_log.h"

#include <algorithm>

namespace vsw::upcall {

std::uint64_t ChangeLog::add(std::span<const ofproto::MacTag> tags) {
  std::lock_guard lock(mu_);
  const std::uint64_t seq = last_.load(std::memory_order_relaxed) + 1;
  Entry& e = ring_[seq % kCapacity];
  e.seq = seq;
  e.everything = tags.empty();
  e.tags.assign(tags.begin(), tags.end());
  last_.store(seq, std::memory_order_release);  // published after its entry
  return seq;
}

std::uint64_t ChangeLog::seq() const {
  return last_.load(std::memory_order_acquire);
}

bool ChangeLog::touched_since(std::uint64_t since, std::span<const ofproto::MacTag> tags,
                              std::uint64_t own) const {
  if (last_.load(std::memory_order_acquire) <= since) return false;  // the usual case: no lock
  std::lock_guard lock(mu_);
  const std::uint64_t last = last_.load(std::memory_order_relaxed);
  if (last - since > kCapacity) return true;  // the oldest changes asked about are gone
  for (std::uint64_t s = since + 1; s <= last; ++s) {
    if (s == own) continue;
    const Entry& e = ring_[s % kCapacity];
    if (e.everything) return true;
    for (const auto& t : e.tags)
      if (std::find(tags.begin(), tags.end(), t) != tags.end()) return true;
  }
  return false;
}

}  // namespace vsw::upcall
