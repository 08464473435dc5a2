// Stress harness for ConnectionManager without Node, for ThreadSanitizer/ASan runs: an owner
// thread submits, closes and stops managers while their I/O threads deliver replies.
// Needs a redis-server on 127.0.0.1:<port>. Built by CMakeLists.txt with the rest of the
// Redis layer (ncm_redis); scripts/test-tsan.sh builds and runs it under ThreadSanitizer,
// over plain TCP and over TLS (the server's CA certificate as a PEM file). Every other block
// of three rounds uses a credentials provider, answered from a thread of its own (as the JS
// thread answers in the addon), also after the manager was stopped.
//   ./build-cpp/connection_manager_stress <port> [rounds] [ca-file]
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "redis/connection_manager.h"
#include "redis/tls_context.h"

namespace {

using ncm::redis::Completion;
using ncm::redis::ConnectionManager;
using ncm::redis::CredentialsAnswer;
using ncm::redis::Request;

// Answers credential requests from its own thread, never from the I/O thread's call: the
// attempt waits (its connect timeout running) while the answer crosses back. The server's
// default user has no password, so any password with the user name 'default' logs in.
class Responder {
 public:
  void Start(ConnectionManager* manager) {
    thread_ = std::thread([this, manager] {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        cv_.wait(lock, [&] { return stop_ || !attempts_.empty(); });
        if (attempts_.empty()) return;  // stopping, nothing left to answer
        const uint64_t attempt = attempts_.front();
        attempts_.erase(attempts_.begin());
        lock.unlock();
        CredentialsAnswer answer;
        answer.attempt = attempt;
        answer.ok = true;
        answer.credentials.username = "default";
        answer.credentials.password = "stress-password";
        ++answered_;
        // False after StopAndJoin: the answer is dropped, its password wiped.
        manager->ProvideCredentials(std::move(answer));
        lock.lock();
      }
    });
  }
  void Ask(uint64_t attempt) {
    std::lock_guard<std::mutex> lock(mutex_);
    attempts_.push_back(attempt);
    cv_.notify_one();
  }
  // Answers what is still queued (possibly after the manager stopped), then ends.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }
  uint64_t answered() const { return answered_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<uint64_t> attempts_;
  bool stop_ = false;
  uint64_t answered_ = 0;  // written by the thread, read after Stop()
  std::thread thread_;
};

class CountingSink : public ncm::redis::Sink {
 public:
  explicit CountingSink(Responder* responder) : responder_(responder) {}

  void Deliver(std::vector<Completion> batch) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Completion& c : batch) {
      ++done_;
      if (c.error != ncm::redis::ErrorKind::kNone) ++errors_;
      if (c.error == ncm::redis::ErrorKind::kNone && c.reply &&
          c.reply->type == ncm::redis::ReplyType::kString) {
        // Values embed their id: a misrouted reply is a failure.
        ++checked_;
        if (c.reply->str != "v" + std::to_string(c.id - 1)) {
          ++wrong_;
          std::fprintf(
              stderr, "id %llu: got %s, expected v%llu (errors so far in this round: %llu)\n",
              static_cast<unsigned long long>(c.id), c.reply->str.c_str(),
              static_cast<unsigned long long>(c.id - 1), static_cast<unsigned long long>(errors_));
        }
      }
    }
    cv_.notify_all();
  }
  void Closed() override {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    cv_.notify_all();
  }
  void RequestCredentials(uint64_t attempt) override {
    if (responder_ == nullptr) {
      std::fprintf(stderr, "credentials asked for without a provider\n");
      std::abort();
    }
    responder_->Ask(attempt);
  }
  void WaitFor(uint64_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return done_ >= n; });
  }
  void WaitClosed() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return closed_; });
  }
  uint64_t done() {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
  }
  uint64_t checked() {
    std::lock_guard<std::mutex> lock(mutex_);
    return checked_;
  }
  uint64_t wrong() {
    std::lock_guard<std::mutex> lock(mutex_);
    return wrong_;
  }

 private:
  Responder* const responder_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t done_ = 0;
  uint64_t wrong_ = 0;
  uint64_t checked_ = 0;
  uint64_t errors_ = 0;
  bool closed_ = false;
};

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <port> [rounds] [ca-file]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 50;
  // TLS: one context for every manager, as a process that shares settings would have.
  std::shared_ptr<const ncm::redis::TlsContext> tls;
  if (argc > 3) {
    std::ifstream file(argv[3]);
    std::stringstream pem;
    pem << file.rdbuf();
    ncm::redis::TlsOptions options;
    options.ca = pem.str();
    std::string error;
    tls = ncm::redis::TlsContext::Create(options, &error);
    if (!tls) {
      std::fprintf(stderr, "TLS: %s\n", error.c_str());
      return 2;
    }
  }
  uint64_t wrong = 0;
  uint64_t checked = 0;
  for (int round = 0; round < rounds; ++round) {
    ncm::redis::Config config;
    config.port = static_cast<uint16_t>(std::atoi(argv[1]));
    config.command_timeout_ms = 2000;
    config.connect_timeout_ms = 5000;
    config.tls = tls;
    config.credentials_provider = (round / 3) % 2 == 1;
    Responder responder;
    auto sink = std::make_shared<CountingSink>(config.credentials_provider ? &responder : nullptr);
    auto manager = std::make_unique<ConnectionManager>(config, sink);
    if (config.credentials_provider) responder.Start(manager.get());
    const uint64_t n = 2000;
    for (uint64_t i = 0; i < n; ++i) {
      auto request = std::make_unique<Request>();
      request->id = i + 1;
      // Each GET reads the key the SET just before it wrote: its value names that SET. Keys
      // are per round: commands of a round that ended by a hard stop may still be executed
      // by the server (it drains a closed client's input) after the next round began.
      const std::string key =
          "cm" + std::to_string(round) + ":" + std::to_string((i - i % 2) % 100);
      request->bytes =
          i % 2 == 0 ? Encode({"SET", key, "v" + std::to_string(i + 1)}) : Encode({"GET", key});
      manager->Submit(std::move(request));
    }
    switch (round % 3) {
      case 0:  // everything answered, then a graceful close
        sink->WaitFor(n);
        manager->Close(1000);
        sink->WaitClosed();
        manager->Join();
        break;
      case 1:  // graceful close with commands in flight: all still settle
        manager->Close(1000);
        sink->WaitClosed();
        manager->Join();
        if (sink->done() != n) {
          std::fprintf(stderr, "round %d: %llu of %llu settled\n", round,
                       static_cast<unsigned long long>(sink->done()),
                       static_cast<unsigned long long>(n));
          return 1;
        }
        break;
      default:  // hard stop mid-flight (what the env cleanup hook does)
        manager->StopAndJoin();
        break;
    }
    responder.Stop();
    if (config.credentials_provider && round % 3 != 2 && responder.answered() == 0) {
      std::fprintf(stderr, "round %d: the provider was never asked\n", round);
      return 1;
    }
    manager.reset();
    wrong += sink->wrong();
    checked += sink->checked();
  }
  std::printf("%s: %d rounds, %llu values checked, %llu wrong\n", tls ? "TLS" : "TCP", rounds,
              static_cast<unsigned long long>(checked), static_cast<unsigned long long>(wrong));
  return wrong == 0 ? 0 : 1;
}
