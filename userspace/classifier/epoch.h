// Epoch-based reclamation: lets lock-free readers use memory a writer has unpublished.
//
// What? Readers bracket every access to published data with a ReadGuard; a writer that
// has replaced a published pointer calls synchronize() and may free the old object once
// it returns, because every reader that could still hold the old pointer has left.
//
// Design. A global epoch counter and one cache-line slot per reader thread (at most
// kMaxReaders threads at once; a thread takes a slot on its first guard and gives it back
// when it exits). Entering stores the current epoch in the thread's slot; leaving stores
// zero. synchronize() advances the epoch to E and waits until every slot is zero or >= E.
// All accesses are sequentially consistent, which gives the store-load ordering the
// argument needs: a reader whose slot store the writer did not see loads the published
// pointer after the writer's replacement and so sees the new object.
//
// Cost: a reader pays one seq_cst store on entry and one on exit (guards nest for free).
// synchronize() reads only the slots below the highest ever taken (a reader raises that
// mark before it can enter a guard), so its cost grows with the number of reader threads,
// not with kMaxReaders.
// A writer blocks in synchronize() while any older reader is still inside its guard;
// readers never block.
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

  // Writer side: waits until every reader that entered before the call has left.
  // Must not be called while the calling thread holds a ReadGuard.
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
