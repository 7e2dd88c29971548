// PacketInQueue: the bounded hand-off of packets for the controllers from the handler
// threads to the bridge's io_context (the OpenFlow connections' thread).
//
// What? A handler that receives an ACTION upcall of output:CONTROLLER (Udpif) offers the
// decoded packet here; the queue posts it to the io_context, where `deliver` (the bridge:
// connmgr's PACKET_IN fan-out) runs with it.
//
// Goals. A handler never blocks and never waits for the main thread: under a storm of
// packets for a slow or busy controller connection, the excess is dropped and counted, as
// the kernel drops misses it cannot queue. Memory stays bounded by `capacity` packets.
//
// Design. An atomic count of posted, not yet delivered packets; offer() reserves a slot
// with one fetch_add and gives it back if the queue is full (no lock of ours; Asio's post
// is thread-safe). The posted handler holds a shared_ptr to the queue, so close() on the
// io thread (the bridge going away) makes later deliveries no-ops, however many are
// still posted.
//
// Thread-safety. offer() and the counters from any thread; close() and `deliver` on the
// io_context's thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "ofproto/controller_cookie.h"

namespace vsw::upcall {

class PacketInQueue : public std::enable_shared_from_this<PacketInQueue> {
 public:
  using Deliver = std::function<void(ofproto::ControllerPacket&&)>;
  static constexpr std::size_t kDefaultCapacity = 1024;

  static std::shared_ptr<PacketInQueue> create(boost::asio::io_context& io, Deliver deliver,
                                               std::size_t capacity = kDefaultCapacity);
  PacketInQueue(const PacketInQueue&) = delete;
  PacketInQueue& operator=(const PacketInQueue&) = delete;
  ~PacketInQueue() = default;

  // Any thread, never blocks. False when `capacity` packets are already waiting (or the
  // queue is closed): the packet is dropped and counted.
  bool offer(ofproto::ControllerPacket&& p);
  // io thread: nothing is delivered any more.
  void close();

  [[nodiscard]] std::uint64_t delivered() const { return delivered_.load(); }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(); }
  [[nodiscard]] std::size_t pending() const { return pending_.load(); }

 private:
  PacketInQueue(boost::asio::io_context& io, Deliver deliver, std::size_t capacity)
      : io_(io), deliver_(std::move(deliver)), capacity_(capacity) {}

  boost::asio::io_context& io_;
  Deliver deliver_;  // io thread only; empty once closed
  const std::size_t capacity_;
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> delivered_{0}, dropped_{0};
};

}  // namespace vsw::upcall
