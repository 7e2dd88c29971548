// See connection.h.
#include "openflow/connection.h"

#include <sys/socket.h>

#include <cstring>

#include <boost/asio/as_tuple.hpp>

namespace vsw::openflow {
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

std::shared_ptr<Connection> Connection::create(Socket socket, ConnectionOptions options,
                                               MessageFn on_message, CloseFn on_close) {
  return std::shared_ptr<Connection>(
      new Connection(std::move(socket), options, std::move(on_message), std::move(on_close)));
}

Connection::Connection(Socket socket, ConnectionOptions options, MessageFn on_message,
                       CloseFn on_close)
    : socket_(std::move(socket)),
      options_(options),
      on_message_(std::move(on_message)),
      on_close_(std::move(on_close)),
      wake_writer_(socket_.get_executor()),
      probe_timer_(socket_.get_executor()),
      closed_(socket_.get_executor()) {
  wake_writer_.expires_at(std::chrono::steady_clock::time_point::max());
  closed_.expires_at(std::chrono::steady_clock::time_point::max());
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);  // flush_replies() writes without waiting
  auto ep = socket_.remote_endpoint(ec);
  if (!ec && ep.data()->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(ep.data());
    char buf[64];
    snprintf(buf, sizeof buf, "%s:%u",
             asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)).to_string().c_str(),
             ntohs(sin->sin_port));
    peer_ = buf;
  } else {
    peer_ = "unix";
  }
}

Connection::~Connection() = default;

void Connection::start() {
  last_rx_ = std::chrono::steady_clock::now();
  send(make_hello(next_xid()));
  auto self = shared_from_this();
  auto ex = socket_.get_executor();
  asio::co_spawn(
      ex, [self] { return self->reader(); }, asio::detached);
  asio::co_spawn(
      ex, [self] { return self->writer(); }, asio::detached);
  if (options_.probe_interval.count() > 0)
    asio::co_spawn(
        ex, [self] { return self->prober(); }, asio::detached);
}

void Connection::send(const Message& m) {
  Bytes b;
  encode_into(b, m);
  send_bytes(std::move(b));
}

void Connection::send_bytes(Bytes b) {
  if (!open_) return;
  queue_.push_back(std::move(b));
  if (!in_dispatch_) wake_writer_.cancel();  // else the reader flushes after the dispatch
}

uint32_t Connection::send_request(Message m, ReplyFn on_reply) {
  m.xid = next_xid();
  pending_[m.xid] = std::move(on_reply);
  send(m);
  return m.xid;
}

void Connection::close() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ec;
  socket_.shutdown(Socket::shutdown_both, ec);
  socket_.close(ec);
  wake_writer_.cancel();
  probe_timer_.cancel();
  closed_.cancel();
  pending_.clear();
  if (on_close_) on_close_(*this);
}

asio::awaitable<void> Connection::wait_closed() {
  auto self = shared_from_this();
  while (open_) co_await closed_.async_wait(kTuple);
}

// Reads whatever the socket has (up to kReadSize) and dispatches every complete message in
// it, so a burst of small messages (FLOW_MOD, BARRIER, ...) costs one read, not two per
// message. A partial message stays at the front of the buffer for the next read. The
// replies to what one read brought are then written at once, in one gathered write
// (flush_replies()), before the next read.
asio::awaitable<void> Connection::reader() {
  constexpr size_t kReadSize = 2 * (kMaxMessageLen + 1);
  Bytes buf(kReadSize);
  size_t have = 0;  // bytes at buf[0, have)
  while (open_) {
    // A non-blocking read first; the wait only when the socket has nothing yet.
    boost::system::error_code ec;
    const size_t n = socket_.read_some(asio::buffer(buf.data() + have, buf.size() - have), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      auto [wait_ec] = co_await socket_.async_wait(Socket::wait_read, kTuple);
      if (wait_ec) break;
      continue;
    }
    if (ec) break;  // end of stream or an error
    have += n;
    last_rx_ = std::chrono::steady_clock::now();
    probe_sent_ = false;
    in_dispatch_ = true;
    const auto used = dispatch_complete(ByteSpan(buf.data(), have));
    in_dispatch_ = false;
    if (!used || stop_reading_) break;
    flush_replies();
    std::memmove(buf.data(), buf.data() + *used, have - *used);
    have -= *used;
  }
  // Let queued messages (e.g. a HELLO_FAILED error) go out before closing.
  if (open_ && !queue_.empty()) {
    wake_writer_.cancel();
    asio::steady_timer t(socket_.get_executor(), std::chrono::milliseconds(100));
    co_await t.async_wait(kTuple);
  }
  close();
}

// Writes what the dispatch queued without waiting: a non-blocking gathered write when the
// writer is idle. Whatever the socket does not take now (a full send buffer) is left to the
// writer coroutine, as everything queued outside a dispatch (asynchronous messages) is.
void Connection::flush_replies() {
  if (queue_.empty() || !open_) return;
  if (writer_busy_) {
    wake_writer_.cancel();
    return;
  }
  std::vector<asio::const_buffer>& bufs = flush_bufs_;
  bufs.clear();
  for (const auto& b : queue_) bufs.emplace_back(asio::buffer(b));
  boost::system::error_code ec;
  size_t n = socket_.write_some(bufs, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    n = 0;
  } else if (ec) {
    close();
    return;
  }
  // Drop the messages written whole; the first one written in part keeps only its rest.
  size_t whole = 0;
  while (whole < queue_.size() && n >= queue_[whole].size()) n -= queue_[whole++].size();
  if (whole == queue_.size()) {
    queue_.clear();
    return;
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(whole));
  queue_.front().erase(queue_.front().begin(),
                       queue_.front().begin() + static_cast<std::ptrdiff_t>(n));
  wake_writer_.cancel();
}

std::optional<size_t> Connection::dispatch_complete(ByteSpan data) {
  size_t off = 0;
  while (open_ && !stop_reading_ && data.size() - off >= kHeaderLen) {
    const ByteSpan rest = data.subspan(off);
    const auto h = peek_header(rest);
    if (h->length < kHeaderLen) {  // cannot find the next message: give up on the stream
      OfError e = make_error(ErrType::kBadRequest, code::kBadLen);
      e.data.assign(rest.begin(), rest.begin() + kHeaderLen);
      send(error_reply(e, h->xid));
      return std::nullopt;
    }
    if (rest.size() < h->length) break;  // the rest of it comes with a later read
    off += h->length;
    auto r = decode(rest.first(h->length));
    if (!r.ok()) {
      send(error_reply(r.error(), h->xid));
      continue;
    }
    dispatch(r.value());
  }
  return off;
}

void Connection::dispatch(Message& m) {
  switch (m.type()) {
    case MsgType::kHello: {
      auto v = negotiate_version(m);
      if (!v.ok()) {
        OfError e = v.error();
        Bytes raw = encode(m);
        e.data.assign(raw.begin(), raw.begin() + long(std::min(raw.size(), kErrorDataMax)));
        send(error_reply(e, m.xid));
        // Stop reading; the reader then flushes the error and closes. (Error-code overload:
        // nothing may throw out of a detached coroutine.)
        boost::system::error_code ec;
        socket_.shutdown(Socket::shutdown_receive, ec);
        stop_reading_ = true;
        return;
      }
      negotiated_ = true;
      return;
    }
    case MsgType::kEchoRequest:
      send(Message{kVersion13, m.xid, EchoReply{std::get<EchoRequest>(m.body).data}});
      return;
    case MsgType::kEchoReply:
      if (!pending_.count(m.xid)) return;  // our probe
      break;
    default:
      break;
  }
  auto it = pending_.find(m.xid);
  if (it != pending_.end()) {
    ReplyFn fn = it->second;
    bool more = false;
    if (auto* mp = std::get_if<MultipartReply>(&m.body)) more = mp->flags & kMpReplyMore;
    if (!more) pending_.erase(it);
    fn(m);
    return;
  }
  if (on_message_) on_message_(*this, m);
}

asio::awaitable<void> Connection::writer() {
  auto self = shared_from_this();
  std::vector<asio::const_buffer> bufs;
  while (open_) {
    if (queue_.empty()) {
      co_await wake_writer_.async_wait(kTuple);
      continue;
    }
    // Gather everything queued into one write; send() queues into the emptied queue_
    // meanwhile.
    writing_.swap(queue_);
    bufs.clear();
    for (const auto& b : writing_) bufs.emplace_back(asio::buffer(b));
    writer_busy_ = true;
    auto [ec, n] = co_await asio::async_write(socket_, bufs, kTuple);
    writer_busy_ = false;
    writing_.clear();
    if (ec) break;
  }
  close();
}

asio::awaitable<void> Connection::prober() {
  auto self = shared_from_this();
  auto interval = options_.probe_interval;
  auto tick = std::max(interval / 4, std::chrono::milliseconds(1));
  while (open_) {
    probe_timer_.expires_after(tick);
    co_await probe_timer_.async_wait(kTuple);
    if (!open_) break;
    auto now = std::chrono::steady_clock::now();
    if (probe_sent_) {
      if (now - probe_sent_at_ >= interval) {
        close();  // peer silent for a whole second interval
        break;
      }
    } else if (now - last_rx_ >= interval) {
      probe_sent_ = true;
      probe_sent_at_ = now;
      send(Message{kVersion13, next_xid(), EchoRequest{}});
    }
  }
}

}  // namespace vsw::openflow
