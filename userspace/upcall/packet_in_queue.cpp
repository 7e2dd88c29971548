// Bounded hand-off of controller packets to the io_context. See packet_in_queue.h.
#include "upcall/packet_in_queue.h"

#include <boost/asio/post.hpp>

namespace vsw::upcall {

std::shared_ptr<PacketInQueue> PacketInQueue::create(boost::asio::io_context& io, Deliver deliver,
                                                     std::size_t capacity) {
  return std::shared_ptr<PacketInQueue>(new PacketInQueue(io, std::move(deliver), capacity));
}

bool PacketInQueue::offer(ofproto::ControllerPacket&& p) {
  if (closed_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (pending_.fetch_add(1, std::memory_order_acq_rel) >= capacity_) {
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  boost::asio::post(io_, [self = shared_from_this(), p = std::move(p)]() mutable {
    self->pending_.fetch_sub(1, std::memory_order_acq_rel);
    if (!self->deliver_) return;
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
    self->deliver_(std::move(p));
  });
  return true;
}

void PacketInQueue::close() {
  closed_.store(true);
  deliver_ = nullptr;
}

}  // namespace vsw::upcall
