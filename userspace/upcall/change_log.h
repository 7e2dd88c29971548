// ChangeLog: the recent changes of forwarding state (MAC learned, moved, evicted, aged out;
// "everything" for a rule or port change), numbered by the revalidation sequence.
//
// A handler translates a miss at sequence S and installs its megaflow only if nothing that
// changed since S concerns it. Comparing sequence numbers alone makes every translation
// that overlaps any change stale: under misses from new source MACs (each one a change)
// one handler's learning skipped another's unrelated installs (5-16 of 4,000 in the unit
// test; more the longer translations overlap). The log lets a handler ask
// the precise question: did a change after S touch a MAC-table entry this translation read?
// The log keeps the last kCapacity changes; a question reaching further back than that is
// answered "yes" (safe: the miss is executed anyway and the next one installs).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "ofproto/mac_learning.h"

namespace vsw::upcall {

class ChangeLog {
 public:
  static constexpr std::size_t kCapacity = 1024;

  // Records one change and returns its sequence number (the previous one plus one).
  // `tags` empty means the change may concern every translation.
  std::uint64_t add(std::span<const ofproto::MacTag> tags);
  // The sequence number of the last change (0 before any).
  [[nodiscard]] std::uint64_t seq() const;
  // Whether a change numbered above `since` concerns a translation that read `tags`; the
  // change numbered `own` (the caller's own learning, 0 for none) does not count.
  [[nodiscard]] bool touched_since(std::uint64_t since, std::span<const ofproto::MacTag> tags,
                                   std::uint64_t own = 0) const;

 private:
  struct Entry {
    std::uint64_t seq = 0;
    bool everything = false;
    std::vector<ofproto::MacTag> tags;
  };
  mutable std::mutex mu_;                // guards ring_ and writes to last_
  std::array<Entry, kCapacity> ring_{};  // ring_[seq % kCapacity] holds change `seq`
  std::atomic<std::uint64_t> last_{0};   // read without the lock by seq()
};

}  // namespace vsw::upcall
