#include "redis/tcp_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "common/wipe.h"

namespace ncm::redis {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

// Everything libuv may still use after the transport is gone, freed by the close callback.
struct TcpTransport::Socket {
  TcpTransport* owner = nullptr;  // null once the transport let go: calls are dropped
  bool is_pipe = false;
  bool opened = false;  // the handle was initialized (and must be closed)
  uv_tcp_t tcp;
  uv_pipe_t pipe;
  uv_connect_t connect_req;
  std::unique_ptr<char[]> buffer;  // for reads

  uv_handle_t* handle() {
    return is_pipe ? reinterpret_cast<uv_handle_t*>(&pipe) : reinterpret_cast<uv_handle_t*>(&tcp);
  }
  uv_stream_t* stream() {
    return is_pipe ? reinterpret_cast<uv_stream_t*>(&pipe) : reinterpret_cast<uv_stream_t*>(&tcp);
  }
};

// The bytes of one uv_write, kept alive until its callback.
struct TcpTransport::WriteBatch {
  uv_write_t req;
  Socket* socket = nullptr;
  std::vector<std::string> chunks;
  std::vector<uv_buf_t> bufs;
  bool secret = false;  // WriteKind::kSecret: wiped when freed

  ~WriteBatch() {
    if (!secret) return;
    for (std::string& chunk : chunks) WipeString(&chunk);
  }
};

TcpTransport::TcpTransport(uv_loop_t* loop) : loop_(loop) {
  auto socket = std::make_unique<Socket>();
  socket->owner = this;
  socket->connect_req.data = socket.get();
  socket_ = socket.release();  // freed by Close()
}

TcpTransport::~TcpTransport() { Close(false); }

int TcpTransport::Connect(const sockaddr* address, ConnectListener* listener) {
  connect_listener_ = listener;
  uv_tcp_init(loop_, &socket_->tcp);
  socket_->tcp.data = socket_;
  socket_->opened = true;
  uv_tcp_nodelay(&socket_->tcp, 1);
  return uv_tcp_connect(&socket_->connect_req, &socket_->tcp, address,
                        [](uv_connect_t* req, int status) {
                          auto* socket = static_cast<Socket*>(req->data);
                          if (socket->owner == nullptr) return;
                          TcpTransport* self = socket->owner;
                          self->connect_listener_->OnConnect(self, status);
                        });
}

void TcpTransport::ConnectPipe(const std::string& path, ConnectListener* listener) {
  connect_listener_ = listener;
  socket_->is_pipe = true;
  uv_pipe_init(loop_, &socket_->pipe, 0);
  socket_->pipe.data = socket_;
  socket_->opened = true;
  uv_pipe_connect(&socket_->connect_req, &socket_->pipe, path.c_str(),
                  [](uv_connect_t* req, int status) {
                    auto* socket = static_cast<Socket*>(req->data);
                    if (socket->owner == nullptr) return;
                    TcpTransport* self = socket->owner;
                    self->connect_listener_->OnConnect(self, status);
                  });
}

void TcpTransport::SetKeepAlive(uint32_t delay_ms) {
  if (socket_ == nullptr || socket_->is_pipe || !socket_->opened || delay_ms == 0) return;
  const unsigned delay_s = std::max(1u, delay_ms / 1000);
  uv_tcp_keepalive(&socket_->tcp, 1, delay_s);
#if defined(__linux__)
  // Probe every second, give up after 3 probes, and bound unacknowledged writes the same way.
  uv_os_fd_t fd;
  if (uv_fileno(socket_->handle(), &fd) == 0) {
    int interval = 1;
    int count = 3;
    unsigned int user_timeout = delay_s * 1000 + 3000;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
#ifdef TCP_USER_TIMEOUT
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
#endif
  }
#endif
}

void TcpTransport::Start(Listener* listener) {
  listener_ = listener;
  if (socket_ == nullptr) return;
  uv_read_start(
      socket_->stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* socket = static_cast<Socket*>(handle->data);
        if (!socket->buffer) socket->buffer = std::make_unique<char[]>(kReadChunk);
        buf->base = socket->buffer.get();
        buf->len = kReadChunk;
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* socket = static_cast<Socket*>(stream->data);
        if (socket->owner == nullptr || nread == 0) return;
        Listener* listener = socket->owner->listener_;
        // Both calls may destroy the transport: nothing here touches it afterwards (the
        // buffer belongs to the socket, which lives until the close callback).
        if (nread < 0) {
          TransportError error;
          error.op = TransportError::Op::kRead;
          error.status = static_cast<int>(nread);
          listener->OnTransportError(error);
        } else {
          listener->OnTransportRead(buf->base, static_cast<size_t>(nread));
        }
      });
}

int TcpTransport::Write(std::vector<std::string> chunks, WriteKind kind) {
  auto batch = std::make_unique<WriteBatch>();
  batch->secret = kind == WriteKind::kSecret;
  batch->chunks = std::move(chunks);  // wiped with the batch, also when not written
  if (socket_ == nullptr) return UV_EPIPE;
  batch->socket = socket_;
  batch->req.data = batch.get();
  batch->bufs.reserve(batch->chunks.size());
  for (std::string& chunk : batch->chunks) {
    batch->bufs.push_back(uv_buf_init(chunk.data(), static_cast<unsigned>(chunk.size())));
  }
  int rc = uv_write(&batch->req, socket_->stream(), batch->bufs.data(),
                    static_cast<unsigned>(batch->bufs.size()), [](uv_write_t* req, int status) {
                      std::unique_ptr<WriteBatch> owned(static_cast<WriteBatch*>(req->data));
                      TcpTransport* self = owned->socket->owner;
                      if (status == 0 || self == nullptr) return;
                      TransportError error;
                      error.op = TransportError::Op::kWrite;
                      error.status = status;
                      self->listener_->OnTransportError(error);
                    });
  if (rc != 0) return rc;
  batch.release();  // owned by the write callback above
  return 0;
}

void TcpTransport::Close(bool reset) {
  if (socket_ == nullptr) return;
  Socket* socket = socket_;
  socket_ = nullptr;
  socket->owner = nullptr;
  std::unique_ptr<Socket> owned(socket);
  if (!socket->opened) return;  // never connected: nothing for libuv to close
  const uv_close_cb on_closed = [](uv_handle_t* handle) {
    std::unique_ptr<Socket> freed(static_cast<Socket*>(handle->data));
  };
  // uv_tcp_close_reset: SO_LINGER 0, so the kernel discards what it still holds to send and
  // answers with RST. It refuses a handle that is shutting down; then a plain close.
  if (!reset || socket->is_pipe || uv_tcp_close_reset(&socket->tcp, on_closed) != 0) {
    uv_close(socket->handle(), on_closed);
  }
  owned.release();  // freed by the close callback above
}

}  // namespace ncm::redis
