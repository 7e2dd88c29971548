// An OpenFlow 1.3 connection over a byte stream (TCP or Unix), on Boost.Asio coroutines.
//
// What? Connection frames the stream into messages (a message may arrive split over many
// reads or glued to others), exchanges HELLOs and negotiates 1.3, answers ECHO_REQUESTs,
// probes an idle peer with its own ECHO_REQUEST and drops it if nothing arrives for another
// interval, matches replies to requests by xid, and hands every other decoded message to its
// owner's callback. A message the codec refuses is answered with the OFPT_ERROR the codec
// chose (the offending bytes included) and the connection stays up; a header whose length is
// below 8 cannot be framed past and closes the connection.
//
// Basic design. Three coroutines per connection on one io_context: reader (frame, decode,
// dispatch), writer (drains a queue of encoded messages; send() never blocks), and prober
// (inactivity timer). Each holds a shared_ptr to the connection, so it lives until all three
// have ended; close() cancels them. A read takes whatever the socket holds and dispatches
// every complete message in it; the replies they queued are then written by the reader
// itself in one non-blocking gathered write, so a request/reply exchange (FLOW_MOD +
// BARRIER from ovs-ofctl) costs one read and one write and no hop through the writer, which
// only drains what a full socket buffer left and what is sent outside a dispatch.
//
// Concurrency. Single-threaded: every member runs on the io_context's thread; send() and
// close() must be called from it too (post() to it from elsewhere). A slow peer only grows
// its own queue; it never blocks other connections on the same io_context.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "openflow/codec.h"

namespace vsw::openflow {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

struct ConnectionOptions {
  // Idle time before we send an ECHO_REQUEST; the peer is dropped when another interval
  // passes without any message. Zero disables the probe.
  std::chrono::milliseconds probe_interval{5000};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using MessageFn = std::function<void(Connection&, Message&)>;
  using CloseFn = std::function<void(Connection&)>;
  using ReplyFn = std::function<void(const Message&)>;

  static std::shared_ptr<Connection> create(Socket socket, ConnectionOptions options,
                                            MessageFn on_message, CloseFn on_close = {});
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Sends our HELLO and starts the coroutines.
  void start();
  // Queues a message (its xid is kept as given).
  void send(const Message& m);
  void send_bytes(Bytes b);
  // Sends a request with a fresh xid; `on_reply` gets every reply with that xid (all parts of
  // a multipart reply, or an OFPT_ERROR). Returns the xid.
  uint32_t send_request(Message m, ReplyFn on_reply);
  uint32_t next_xid() { return next_xid_++; }
  void close();

  bool is_open() const { return open_; }
  bool negotiated() const { return negotiated_; }
  // Messages queued and not yet written (a slow peer's backlog).
  size_t queued() const { return queue_.size(); }
  const std::string& peer() const { return peer_; }
  // Completes when the connection has closed.
  asio::awaitable<void> wait_closed();

 private:
  Connection(Socket socket, ConnectionOptions options, MessageFn on_message, CloseFn on_close);
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> prober();
  // Dispatches every complete message at the front of data; the bytes they took, or none if
  // the stream cannot be framed (a BAD_LEN error is queued).
  std::optional<size_t> dispatch_complete(ByteSpan data);
  void flush_replies();
  void dispatch(Message& m);

  Socket socket_;
  ConnectionOptions options_;
  MessageFn on_message_;
  CloseFn on_close_;
  std::string peer_;

  bool open_ = true;
  bool negotiated_ = false;
  uint32_t next_xid_ = 1;
  // Encoded messages waiting for the writer, and the batch it is writing: swapped per write
  // and cleared after it, so their capacity is reused rather than allocated per message.
  std::vector<Bytes> queue_;
  std::vector<Bytes> writing_;
  bool stop_reading_ = false;  // a failed HELLO: dispatch nothing more (the rest is unread)
  bool in_dispatch_ = false;   // the reader is dispatching: it writes the replies afterwards
  bool writer_busy_ = false;   // the writer's async_write is under way (writing_ in flight)
  std::vector<asio::const_buffer> flush_bufs_;  // flush_replies()'s gather list, reused
  asio::steady_timer wake_writer_;              // cancelled to wake the writer
  asio::steady_timer probe_timer_;
  asio::steady_timer closed_;  // expires never; cancelled on close
  std::chrono::steady_clock::time_point last_rx_;
  bool probe_sent_ = false;
  std::chrono::steady_clock::time_point probe_sent_at_;
  std::unordered_map<uint32_t, ReplyFn> pending_;  // xid -> reply callback
};

}  // namespace vsw::openflow
