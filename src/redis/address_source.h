// AddressSource: where to dial for one configured endpoint. A unix socket path is used as
// it is; an IP literal answers at once; a host name is looked up with getaddrinfo on
// libuv's thread pool, and every address it has is offered (e.g. localhost: ::1 and
// 127.0.0.1), to be tried in order. (A Sentinel-backed source would answer the same two
// calls with the address the sentinels name.)
//
// Loop thread only. A lookup that was cancelled, or that answers after a newer one started,
// is ignored; the source may be destroyed with a lookup still running on the thread pool.
#ifndef NCM_REDIS_ADDRESS_SOURCE_H_
#define NCM_REDIS_ADDRESS_SOURCE_H_

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "redis/failure.h"

namespace ncm::redis {

class AddressSource {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // At least one address, in the order to try them.
    virtual void OnAddresses(std::vector<sockaddr_storage> addresses) = 0;
    virtual void OnResolveFailed(const Failure& failure) = 0;
  };

  // `path` (a unix socket) wins over host and port when not empty.
  AddressSource(uv_loop_t* loop, std::string host, uint16_t port, std::string path);
  ~AddressSource();  // Cancel()
  AddressSource(const AddressSource&) = delete;
  AddressSource& operator=(const AddressSource&) = delete;

  bool is_path() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  const std::string& host() const { return host_; }
  // "host:port", "[v6]:port" or the socket path: how messages name the endpoint.
  const std::string& address() const { return address_; }

  // Finds the addresses of host:port and reports them to `listener`: before returning for
  // an IP literal (or when the lookup cannot start), later for a host name. Cancels a lookup
  // still under way. Not for a unix socket path.
  void Resolve(Listener* listener);

  // Forgets the lookup under way: its answer, if it still comes, is dropped. A lookup still
  // queued on the thread pool is removed from it (so it cannot hold up a closing loop).
  void Cancel();

 private:
  struct Lookup;

  uv_loop_t* const loop_;
  const std::string host_;
  const uint16_t port_;
  const std::string path_;
  const std::string address_;
  Lookup* lookup_ = nullptr;  // the lookup under way, owned by its callback
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_ADDRESS_SOURCE_H_
