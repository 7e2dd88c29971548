// See epoch.h.
#include "classifier/epoch.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace vsw::classifier {
namespace {

// The calling thread's slot, taken lazily and returned when the thread exits.
struct ThreadSlot {
  std::size_t index = Epoch::kMaxReaders;  // kMaxReaders = none yet
  unsigned depth = 0;                      // nesting of ReadGuards
  ~ThreadSlot();
};
thread_local ThreadSlot t_slot;

}  // namespace

Epoch& Epoch::global() {
  static Epoch instance;
  return instance;
}

std::size_t Epoch::acquire_slot() {
  for (std::size_t i = 0; i < kMaxReaders; ++i) {
    bool expected = false;
    if (!slots_[i].used.load(std::memory_order_relaxed) &&
        slots_[i].used.compare_exchange_strong(expected, true)) {
      // synchronize() scans slots below the high-water mark only.
      std::size_t hw = high_.load();
      while (hw < i + 1 && !high_.compare_exchange_weak(hw, i + 1)) {
      }
      return i;
    }
  }
  std::fprintf(stderr, "vsw classifier: more than %zu concurrent reader threads\n", kMaxReaders);
  std::abort();
}

void Epoch::release_slot(std::size_t i) {
  slots_[i].epoch.store(0);
  slots_[i].used.store(false);
}

ThreadSlot::~ThreadSlot() {
  if (index != Epoch::kMaxReaders) Epoch::global().release_slot(index);
}

Epoch::ReadGuard::ReadGuard() {
  if (t_slot.depth++ > 0) return;
  Epoch& e = global();
  if (t_slot.index == kMaxReaders) t_slot.index = e.acquire_slot();
  e.slots_[t_slot.index].epoch.store(e.epoch_.load());
}

Epoch::ReadGuard::~ReadGuard() {
  if (--t_slot.depth > 0) return;
  global().slots_[t_slot.index].epoch.store(0);
}

std::uint64_t Epoch::advance() {
  return epoch_.fetch_add(1) + 1;
}

bool Epoch::poll(std::uint64_t ticket) const {
  const std::size_t n = high_.load();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t e = slots_[i].epoch.load();
    if (e != 0 && e < ticket) return false;
  }
  return true;
}

void Epoch::synchronize() {
  const std::uint64_t ticket = advance();
  for (unsigned spins = 0; !poll(ticket);)
    if (++spins > 64) std::this_thread::yield();
}

}  // namespace vsw::classifier
