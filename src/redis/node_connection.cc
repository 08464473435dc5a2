#include "redis/node_connection.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "common/wipe.h"
#include "redis/command_encoder.h"

namespace ncm::redis {
namespace {

// Error replies a server sends on its own as soon as it accepts a connection, before reading
// anything, and then closes it: the connection was refused, whatever commands were written.
bool IsRefusal(const Reply& reply) {
  if (reply.type != ReplyType::kError) return false;
  const std::string_view text(reply.str);
  return text.starts_with("ERR max number of clients reached") ||  // maxclients
         text.starts_with("DENIED ");                              // protected mode
}

// Bytes handed to the reader at a time. Once a reply is taken and 1 KiB of its buffer has
// been read, hiredis moves everything still unread to the front of the buffer: fed a whole
// 64 KiB socket read of 4 KiB replies, it would move about 32 KiB per reply, eight times
// the reply itself. Fed a slice at a time, and drained before the next, what it moves
// stays below a slice. A slice that completes no reply is inside a longer one: the next
// is twice as large (up to the rest of the read), so a long reply is not parsed again from
// its start for every slice.
constexpr size_t kFeedSlice = 2 * 1024;
constexpr size_t kMaxFeedSlice = size_t{1} << 20;

}  // namespace

NodeConnection::NodeConnection(uv_loop_t* loop, std::unique_ptr<Transport> transport,
                               const NodeOptions& options, Listener* listener)
    : loop_(loop),
      options_(options),
      listener_(listener),
      transport_(std::move(transport)),
      reader_(options.limits, options.reply_buffers.get()),
      feed_slice_(kFeedSlice),
      last_activity_ms_(uv_now(loop)),
      health_timer_(loop, [this] { OnHealthTick(); }),
      ping_timer_(loop, [this] { OnPingTimeout(); }) {
  transport_->Start(this);
}

NodeConnection::~NodeConnection() = default;

bool NodeConnection::Write(std::deque<std::unique_ptr<Request>>* queue, Failure* failure) {
  if (queue->empty()) return true;
  std::vector<std::string> chunks;
  chunks.reserve(queue->size());
  WriteKind kind = WriteKind::kPlain;
  while (!queue->empty()) {
    auto request = std::move(queue->front());
    queue->pop_front();
    chunks.push_back(std::move(request->bytes));
    if (request->secret) {
      kind = WriteKind::kSecret;  // the transport wipes the bytes once it is done with them
      WipeString(&request->bytes);
    } else {
      request->bytes = std::string();
    }
    request->written = true;
    inflight_.push_back(std::move(request));
  }
  last_activity_ms_ = uv_now(loop_);
  int rc = UV_EPIPE;
  if (!lost_) {
    rc = transport_->Write(std::move(chunks), kind);
  } else if (kind == WriteKind::kSecret) {
    for (std::string& chunk : chunks) WipeString(&chunk);
  }
  if (rc != 0) {
    lost_ = true;
    *failure = Failure{ErrorKind::kConnection, std::string("write failed: ") + uv_strerror(rc),
                       uv_err_name(rc)};
    return false;
  }
  return true;
}

void NodeConnection::StartHealthChecks() {
  if (options_.health_interval_ms == 0) return;
  health_timer_.Start(options_.health_interval_ms, options_.health_interval_ms);
}

std::deque<std::unique_ptr<Request>> NodeConnection::TakeInflight() {
  std::deque<std::unique_ptr<Request>> taken;
  taken.swap(inflight_);
  return taken;
}

void NodeConnection::Close(bool reset) {
  lost_ = true;
  health_timer_.Stop();
  ping_timer_.Stop();
  transport_->Close(reset);
}

void NodeConnection::OnTransportRead(const char* data, size_t size) {
  if (lost_) return;
  DestroyGuard::Scope scope(&guard_);
  ReadStatus status = ReadStatus::kOk;
  // In slices (see kFeedSlice), each drained before the next goes in.
  for (size_t at = 0; at < size && status == ReadStatus::kOk;) {
    const size_t slice = std::min(feed_slice_, size - at);
    status = reader_.Feed(data + at, slice);
    at += slice;
    bool completed = false;
    while (status == ReadStatus::kOk) {
      std::unique_ptr<Reply> reply;
      status = reader_.Next(&reply);
      if (status != ReadStatus::kOk || !reply) break;
      completed = true;
      HandleReply(std::move(reply));
      if (scope.destroyed() || lost_) return;
    }
    feed_slice_ = completed ? kFeedSlice : std::min(feed_slice_ * 2, kMaxFeedSlice);
  }
  if (status != ReadStatus::kOk) {
    // The stream can no longer be trusted: every written command is rejected and the
    // connection is replaced.
    lost_ = true;
    const ErrorKind kind =
        status == ReadStatus::kTooLarge ? ErrorKind::kReplyTooLarge : ErrorKind::kProtocol;
    listener_->OnLost(Failure{kind, "bad reply from the server: " + reader_.error(), ""});
  }
}

void NodeConnection::OnTransportError(const TransportError& error) {
  if (lost_) return;
  lost_ = true;
  Failure failure;
  switch (error.op) {
    case TransportError::Op::kRead:
      if (error.status == UV_EOF) {
        failure = Failure{ErrorKind::kConnection, "connection closed by the server", "ECONNRESET"};
      } else {
        failure = Failure{ErrorKind::kConnection,
                          std::string("connection lost: ") + uv_strerror(error.status),
                          uv_err_name(error.status)};
      }
      break;
    case TransportError::Op::kWrite:
      failure =
          Failure{ErrorKind::kConnection, std::string("write failed: ") + uv_strerror(error.status),
                  uv_err_name(error.status)};
      break;
    case TransportError::Op::kTls:
      failure = Failure{ErrorKind::kTls, error.detail, error.code};
      break;
  }
  listener_->OnLost(failure);
}

void NodeConnection::HandleReply(std::unique_ptr<Reply> reply) {
  last_activity_ms_ = uv_now(loop_);
  if (replies_++ == 0 && reply->type == ReplyType::kError &&
      (inflight_.empty() || IsRefusal(*reply))) {
    lost_ = true;
    listener_->OnRefused(reply->str);
    return;
  }
  if (inflight_.empty()) {
    lost_ = true;
    listener_->OnLost(Failure{ErrorKind::kProtocol,
                              "bad reply from the server: a reply arrived with no command waiting",
                              ""});
    return;
  }
  std::unique_ptr<Request> request = std::move(inflight_.front());
  inflight_.pop_front();
  if (request->kind == RequestKind::kPing) {
    ping_timer_.Stop();
    if (reply->type != ReplyType::kError) listener_->OnHealthy();
    return;
  }
  listener_->OnReply(std::move(request), std::move(reply));
}

void NodeConnection::OnHealthTick() {
  if (lost_ || !inflight_.empty()) return;
  if (uv_now(loop_) - last_activity_ms_ < options_.health_interval_ms) return;
  std::deque<std::unique_ptr<Request>> ping;
  ping.push_back(std::make_unique<Request>());
  ping.back()->bytes = EncodeCommand({"PING"});
  ping.back()->kind = RequestKind::kPing;
  ping_timer_.Start(options_.ping_timeout_ms);
  Failure failure;
  if (!Write(&ping, &failure)) {
    lost_ = true;
    listener_->OnLost(failure);
  }
}

void NodeConnection::OnPingTimeout() {
  if (lost_) return;
  lost_ = true;
  // A reply that comes later would answer a command written after the PING: replace the
  // connection rather than wait.
  listener_->OnLost(Failure{ErrorKind::kTimeout,
                            "no reply within " + std::to_string(options_.ping_timeout_ms) +
                                " ms (commandTimeout); the connection was recycled and the "
                                "command is not re-sent",
                            "ETIMEDOUT"});
}

}  // namespace ncm::redis
