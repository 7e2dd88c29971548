// Epoch-based reclamation: lets lock-free readers use memory a writer has unpublished.
//
// What? Readers bracket every access to published data with a ReadGuard. A writer that
// has unlinked an object (replaced the published pointer to it) takes a ticket with
// advance() and may free the object once poll(ticket) is true: every reader that could
// still hold the old pointer has left its guard. poll() never waits, so a writer keeps
// retired objects in a list and frees them on a later poll (the classifier does, at each
// publish() and reclaim()); synchronize() is the blocking form (advance, then poll until
// true).
//
// Design. A global epoch counter and one cache-line slot per reader thread (at most
// kMaxReaders threads at once; a thread takes a slot on its first guard and gives it back
// when it exits). Entering stores the current epoch in the thread's slot; leaving stores
// zero. advance() increments the epoch to E and returns E; poll(E) is true when every slot
// is zero or >= E. All accesses are sequentially consistent, which gives the store-load
// ordering the argument needs: a reader whose slot store poll() did not see loads the
// published pointer after the writer's replacement (which came before advance()) and so
// sees the new object; a reader whose slot holds a value >= E loaded the epoch after
// advance() and likewise sees only new objects. (A reader that loaded the epoch before
// advance() but stored it after a poll() may turn a later poll(E) false again; it too sees
// only new objects, so freeing at the first true answer is safe.) At any moment, poll(E)
// implies poll(E') for every E' < E, so tickets can be polled oldest first.
//
// Cost: a reader pays one seq_cst store on entry and one on exit (guards nest for free).
// advance() is one atomic increment; poll() reads only the slots below the highest ever
// taken (a reader raises that mark before it can enter a guard), so its cost grows with
// the number of reader threads, not with kMaxReaders. Readers never block; a writer
// blocks only in synchronize().
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vsw::classifier {

class Epoch {
 public:
  static constexpr std::size_t kMaxReaders = 256;

  // The process-wide instance every classifier uses.
  static Epoch& global();

  // Reader side: any thread, lock-free, nests.
  class ReadGuard {
   public:
    ReadGuard();
    ~ReadGuard();
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;
  };

  // Writer side, never blocks: starts a grace period and returns its ticket. Memory
  // unlinked before the call may be freed once poll(ticket) is true.
  std::uint64_t advance();
  // Never blocks: whether every reader that was inside a guard when advance() returned
  // `ticket` has left it.
  [[nodiscard]] bool poll(std::uint64_t ticket) const;
  // Blocking: waits until every reader that entered before the call has left. Must not be
  // called while the calling thread holds a ReadGuard (it would wait for itself).
  void synchronize();

  // Internal: gives a thread's slot back when the thread exits.
  void release_slot(std::size_t i);

 private:
  friend class ReadGuard;
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> epoch{0};  // 0 = not inside a guard
    std::atomic<bool> used{false};        // owned by a live thread
  };
  std::size_t acquire_slot();

  std::atomic<std::uint64_t> epoch_{1};
  std::atomic<std::size_t> high_{0};  // slots ever taken are below it
  std::array<Slot, kMaxReaders> slots_{};
};

}  // namespace vsw::classifier
