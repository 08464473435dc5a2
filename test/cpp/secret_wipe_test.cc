// Unit tests of the wiping of the secrets the native side keeps: the password of a Config
// and of HandshakeOptions, the key and passphrase of TlsOptions. A secret short enough to
// sit inside the string object (no heap block) is placed in storage the test owns, so the
// bytes can be read back after the object is destroyed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "redis/config.h"
#include "redis/handshake.h"
#include "redis/tls_context.h"

namespace ncm::redis {
namespace {

constexpr char kSecret[] = "s3cr3t!";  // short: kept inside the std::string itself

template <typename T>
struct Storage {
  alignas(T) unsigned char bytes[sizeof(T)];
  bool Holds(const char* text) const {
    const size_t n = std::strlen(text);
    return std::search(bytes, bytes + sizeof(bytes), text, text + n) != bytes + sizeof(bytes);
  }
};

// Builds a T in owned storage, lets `fill` put the secret in it, then destroys it.
template <typename T, typename Fill>
bool SecretSurvivesDestruction(Fill fill) {
  Storage<T> storage;
  T* object = new (storage.bytes) T();
  fill(object);
  EXPECT_TRUE(storage.Holds(kSecret));  // the test would prove nothing otherwise
  object->~T();
  return storage.Holds(kSecret);
}

// Builds a T in owned storage, moves it into another, then destroys the moved-from one.
template <typename T, typename Fill>
bool SecretSurvivesMove(Fill fill) {
  Storage<T> storage;
  T* object = new (storage.bytes) T();
  fill(object);
  T moved(std::move(*object));
  object->~T();
  return storage.Holds(kSecret);
}

TEST(SecretWipeTest, ConfigPassword) {
  EXPECT_FALSE(SecretSurvivesDestruction<Config>([](Config* c) { c->password = kSecret; }));
  EXPECT_FALSE(SecretSurvivesMove<Config>([](Config* c) { c->password = kSecret; }));
}

TEST(SecretWipeTest, HandshakePassword) {
  EXPECT_FALSE(SecretSurvivesDestruction<HandshakeOptions>(
      [](HandshakeOptions* h) { h->password = kSecret; }));
  EXPECT_FALSE(
      SecretSurvivesMove<HandshakeOptions>([](HandshakeOptions* h) { h->password = kSecret; }));
}

TEST(SecretWipeTest, TlsKeyAndPassphrase) {
  EXPECT_FALSE(SecretSurvivesDestruction<TlsOptions>([](TlsOptions* t) { t->key = kSecret; }));
  EXPECT_FALSE(
      SecretSurvivesDestruction<TlsOptions>([](TlsOptions* t) { t->passphrase = kSecret; }));
}

}  // namespace
}  // namespace ncm::redis
