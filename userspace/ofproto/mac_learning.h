// A bridge's MAC learning table: (VLAN, MAC) -> port, with aging and a bounded size.
//
// What? NORMAL learns the source of every frame it switches (learn()) and looks up the
// destination (lookup()). Entries age out after `aging_s` seconds without a frame
// (expire(), called periodically by the daemon) and the table holds at most `capacity`
// entries: when full, a new entry evicts one from the port that holds the most entries
// (so one port flooding random source addresses cannot push out everybody else's), the
// least recently refreshed of that port's entries by a second-chance scan.
//
// Tags. A MacTag names one (VLAN, MAC) entry. Translation records the tags it read; every
// call that changes the table reports the tags whose meaning changed (a new entry, a
// move to another port, an eviction, an expiry, a flush), so the upcall layer revalidates
// only the megaflows carrying those tags, never all of them.
//
// Concurrency. Any thread may call anything. lookup() and the common learn() (the entry
// exists on the same port: a refresh) take a shared lock and touch one atomic; a new
// entry, a move and the maintenance calls take the lock exclusively.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "ofproto/clock.h"

namespace vsw::ofproto {

using Mac = std::array<std::uint8_t, 6>;

struct MacTag {
  std::uint16_t vlan = 0;  // 0..4095
  Mac mac{};

  [[nodiscard]] std::uint64_t packed() const {
    std::uint64_t v = vlan & 0xfffU;
    for (const std::uint8_t b : mac) v = v << 8 | b;
    return v;
  }
  static MacTag unpack(std::uint64_t v) {
    MacTag t;
    for (std::size_t i = t.mac.size(); i-- > 0;) {
      t.mac[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
    t.vlan = static_cast<std::uint16_t>(v & 0xfff);
    return t;
  }
  friend bool operator==(const MacTag&, const MacTag&) = default;
  friend bool operator<(const MacTag& a, const MacTag& b) { return a.packed() < b.packed(); }
};

// What NORMAL learns from a flow's packets: their source on the input port. A ukey keeps
// it so that the revalidator can replay the learning for a flow whose packets stay in the
// kernel (busy MACs do not age out, a MAC moving back is seen) without re-translating.
struct MacLearnRef {
  MacTag tag;
  std::uint32_t port = 0;  // OpenFlow port number
  friend bool operator==(const MacLearnRef&, const MacLearnRef&) = default;
};

struct MacTagHash {
  std::size_t operator()(const MacTag& t) const noexcept {
    std::uint64_t x = t.packed() * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(x ^ (x >> 29));
  }
};

class MacLearning {
 public:
  struct Options {
    std::size_t capacity = 8192;
    std::uint32_t aging_s = 300;
    Clock clock;  // empty: std::chrono::steady_clock
  };

  enum class Learned : std::uint8_t {
    kRefreshed,   // known on this port: age reset, nothing else changed
    kNew,         // a new entry
    kMoved,       // known on another port (old_port) before
    kNotLearned,  // capacity 0
  };
  struct LearnResult {
    Learned what = Learned::kNotLearned;
    std::uint32_t old_port = 0;     // kMoved: where it was
    std::optional<MacTag> evicted;  // kNew into a full table: the entry that made room
  };

  struct Entry {
    MacTag tag;
    std::uint32_t port = 0;
    std::int64_t age_ms = 0;  // since the last frame from it
  };
  struct Move {
    MacTag tag;
    std::uint32_t from = 0, to = 0;
    std::int64_t when_ms = 0;
  };
  static constexpr std::size_t kRecentMoves = 64;

  struct Stats {
    std::size_t entries = 0;
    std::size_t capacity = 0;
    std::uint32_t aging_s = 0;
    std::uint64_t learned = 0;  // new entries
    std::uint64_t moved = 0;
    std::uint64_t evicted = 0;
    std::uint64_t expired = 0;
  };

  explicit MacLearning(Options o);
  MacLearning() : MacLearning(Options{}) {}
  MacLearning(const MacLearning&) = delete;
  MacLearning& operator=(const MacLearning&) = delete;

  [[nodiscard]] std::optional<std::uint32_t> lookup(std::uint16_t vlan, const Mac& mac) const;
  LearnResult learn(std::uint16_t vlan, const Mac& mac, std::uint32_t port);

  // Maintenance; each returns the tags of the entries it removed.
  std::vector<MacTag> expire();  // entries idle for aging_s or longer
  std::vector<MacTag> flush_port(std::uint32_t port);
  std::vector<MacTag> flush();
  std::vector<MacTag> set_capacity(std::size_t n);  // evicts (fairly) down to n
  void set_aging(std::uint32_t seconds);

  // For fdb/show: every entry, sorted by VLAN then MAC.
  [[nodiscard]] std::vector<Entry> dump() const;
  [[nodiscard]] Stats stats() const;
  // The most recent moves (at most kRecentMoves, oldest first), cleared by the call: for
  // the daemon's rate-limited "MAC moved" log. stats().moved counts every move.
  std::vector<Move> take_moves();
  [[nodiscard]] std::int64_t now_ms() const;

 private:
  struct Slot {
    std::uint32_t port = 0;
    std::atomic<std::int64_t> used{0};  // last frame (ms); refreshed under the shared lock
    std::int64_t queued = 0;            // `used` when the slot went to the back of its queue
    std::list<std::uint64_t>::iterator pos;
  };
  using Table = std::unordered_map<std::uint64_t, Slot>;

  // Exclusive lock held.
  std::optional<MacTag> evict_one();
  void erase(Table::iterator it);

  Clock clock_;
  mutable std::shared_mutex mu_;
  Table table_;                                                         // packed tag -> slot
  std::unordered_map<std::uint32_t, std::list<std::uint64_t>> queues_;  // per port, oldest first
  std::deque<Move> moves_;                                              // recent moves, bounded
  std::size_t capacity_;
  std::atomic<std::uint32_t> aging_s_;
  std::atomic<std::uint64_t> learned_{0}, moved_{0}, evicted_{0}, expired_{0};
};

}  // namespace vsw::ofproto
