// Deferred freeing for the writer thread: objects that lock-free readers may still be
// using (a replaced Rule, an old PortTable) are kept until a grace period has passed.
//
// retire() queues an object the writer has already unlinked from what readers can reach;
// seal() closes the queue with a ticket from classifier::Epoch::advance() (call it after
// the unlinking is published); reclaim() frees every sealed batch whose ticket
// Epoch::poll() reports passed. Nothing here waits for readers. Writer thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "classifier/epoch.h"

namespace vsw::ofproto {

class RetireList {
 public:
  void retire(std::shared_ptr<const void> p) { pending_.push_back(std::move(p)); }
  void seal() {
    if (pending_.empty()) return;
    batches_.push_back({classifier::Epoch::global().advance(), std::move(pending_)});
    pending_.clear();
  }
  void reclaim() {
    auto& epoch = classifier::Epoch::global();
    while (!batches_.empty() && epoch.poll(batches_.front().ticket)) batches_.pop_front();
  }
  // Objects retired and not yet freed.
  [[nodiscard]] std::size_t size() const {
    std::size_t n = pending_.size();
    for (const auto& b : batches_) n += b.objects.size();
    return n;
  }

 private:
  struct Batch {
    std::uint64_t ticket;
    std::vector<std::shared_ptr<const void>> objects;
  };
  std::vector<std::shared_ptr<const void>> pending_;
  std::deque<Batch> batches_;
};

}  // namespace vsw::ofproto
