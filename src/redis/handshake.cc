#include "redis/handshake.h"

#include <utility>

#include "redis/command_encoder.h"

namespace ncm::redis {

std::vector<std::string> HandshakeCommands(const HandshakeOptions& options) {
  std::vector<std::string> commands;
  if (!options.password.empty()) {
    commands.push_back(options.username.empty()
                           ? EncodeCommand({"AUTH", options.password})
                           : EncodeCommand({"AUTH", options.username, options.password}));
  }
  if (options.db != 0) commands.push_back(EncodeCommand({"SELECT", std::to_string(options.db)}));
  if (!options.client_name.empty()) {
    commands.push_back(EncodeCommand({"CLIENT", "SETNAME", options.client_name}));
  }
  if (options.confirm && commands.empty()) commands.push_back(EncodeCommand({"PING"}));
  return commands;
}

std::deque<std::unique_ptr<Request>> HandshakeRequests(const HandshakeOptions& options) {
  std::vector<std::string> commands = HandshakeCommands(options);
  std::deque<std::unique_ptr<Request>> requests;
  for (size_t i = 0; i < commands.size(); ++i) {
    auto request = std::make_unique<Request>();
    request->bytes = std::move(commands[i]);
    request->kind =
        i + 1 == commands.size() ? RequestKind::kHandshakeLast : RequestKind::kHandshake;
    request->secret = i == 0 && !options.password.empty();  // AUTH comes first
    request->deadline_ms = kNoDeadline;
    requests.push_back(std::move(request));
  }
  return requests;
}

std::deque<std::unique_ptr<Request>> HandshakeRequests(const HandshakeOptions& options,
                                                       const Credentials& credentials) {
  HandshakeOptions attempt = options;
  attempt.username = credentials.username;
  attempt.password = credentials.password;
  std::deque<std::unique_ptr<Request>> requests = HandshakeRequests(attempt);
  WipeString(&attempt.password);
  return requests;
}

}  // namespace ncm::redis
