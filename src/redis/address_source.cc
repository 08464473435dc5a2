#include "redis/address_source.h"

#include <netinet/in.h>

#include <cstring>
#include <memory>
#include <utility>

namespace ncm::redis {
namespace {

std::string AddressOf(const std::string& host, uint16_t port, const std::string& path) {
  if (!path.empty()) return path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// Worded like Node's: "getaddrinfo ENOTFOUND no-such-host: unknown node or service".
Failure LookupFailure(const std::string& code, const std::string& host, int status) {
  return Failure{ErrorKind::kConnection,
                 "getaddrinfo " + code + " " + host + ": " + uv_strerror(status), code};
}

}  // namespace

// One getaddrinfo on libuv's thread pool, owned by its callback (which libuv always runs,
// with UV_EAI_CANCELED after a successful cancel).
struct AddressSource::Lookup {
  uv_getaddrinfo_t req;
  AddressSource* owner = nullptr;  // null once cancelled or superseded
  Listener* listener = nullptr;
};

AddressSource::AddressSource(uv_loop_t* loop, std::string host, uint16_t port, std::string path)
    : loop_(loop),
      host_(std::move(host)),
      port_(port),
      path_(std::move(path)),
      address_(AddressOf(host_, port_, path_)) {}

AddressSource::~AddressSource() { Cancel(); }

void AddressSource::Resolve(Listener* listener) {
  Cancel();
  sockaddr_storage literal;
  if (uv_ip4_addr(host_.c_str(), port_, reinterpret_cast<sockaddr_in*>(&literal)) == 0 ||
      uv_ip6_addr(host_.c_str(), port_, reinterpret_cast<sockaddr_in6*>(&literal)) == 0) {
    listener->OnAddresses({literal});
    return;
  }
  auto lookup = std::make_unique<Lookup>();
  lookup->owner = this;
  lookup->listener = listener;
  lookup->req.data = lookup.get();
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(port_);
  int rc = uv_getaddrinfo(
      loop_, &lookup->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* result) {
        std::unique_ptr<Lookup> owned(static_cast<Lookup*>(req->data));
        std::unique_ptr<addrinfo, void (*)(addrinfo*)> answer(result, uv_freeaddrinfo);
        AddressSource* self = owned->owner;
        if (self == nullptr || status == UV_EAI_CANCELED || status == UV_ECANCELED) return;
        self->lookup_ = nullptr;
        if (status != 0 || result == nullptr) {
          const std::string code = status == UV_EAI_NONAME ? "ENOTFOUND" : uv_err_name(status);
          owned->listener->OnResolveFailed(LookupFailure(code, self->host_, status));
          return;
        }
        std::vector<sockaddr_storage> addresses;
        for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
          if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
          sockaddr_storage one;
          std::memcpy(&one, ai->ai_addr, ai->ai_addrlen);
          addresses.push_back(one);
        }
        if (addresses.empty()) {
          owned->listener->OnResolveFailed(
              Failure{ErrorKind::kConnection, "the host name has no address", "ENOTFOUND"});
        } else {
          owned->listener->OnAddresses(std::move(addresses));
        }
      },
      host_.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    listener->OnResolveFailed(LookupFailure(uv_err_name(rc), host_, rc));
    return;
  }
  lookup_ = lookup.release();  // owned by the callback above
}

void AddressSource::Cancel() {
  if (lookup_ == nullptr) return;
  // On success the callback runs with UV_EAI_CANCELED; a lookup already running cannot be
  // cancelled and its answer is dropped (owner cleared). Either way the callback frees it.
  lookup_->owner = nullptr;
  uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_->req));
  lookup_ = nullptr;
}

}  // namespace ncm::redis
