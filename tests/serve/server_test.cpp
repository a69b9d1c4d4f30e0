// ChatServer's stop(): it must end the listen loop whenever it is called, including before the
// listen thread has reached httplib's loop (a model that fails to load right after bind()).
#include "serve/server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

namespace vista::serve {
namespace {

ServerOptions any_port() {
  ServerOptions options;
  options.port = 0;
  return options;
}

// listen() on its own thread; true if it returned within the deadline.
bool listen_returns(ChatServer& server, std::chrono::seconds deadline, const std::function<void()>& meanwhile) {
  auto done = std::async(std::launch::async, [&server] { server.listen(); });
  meanwhile();
  const bool returned = done.wait_for(deadline) == std::future_status::ready;
  if (!returned) {
    server.stop();  // let the test end either way
    done.wait();
  }
  return returned;
}

TEST(ChatServer, StopBeforeTheListenLoopStartsStillEndsIt) {
  ChatServer server(any_port());
  ASSERT_GT(server.bind(), 0);
  server.stop();  // the listen thread does not exist yet
  EXPECT_TRUE(listen_returns(server, std::chrono::seconds(10), [] {}));
}

TEST(ChatServer, StopWhileListeningEndsIt) {
  ChatServer server(any_port());
  ASSERT_GT(server.bind(), 0);
  EXPECT_TRUE(listen_returns(server, std::chrono::seconds(10), [&server] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  }));
}

TEST(ChatServer, StopRacingTheListenThreadAlwaysEndsIt) {
  for (int i = 0; i < 20; ++i) {
    ChatServer server(any_port());
    ASSERT_GT(server.bind(), 0);
    ASSERT_TRUE(listen_returns(server, std::chrono::seconds(2), [&server] { server.stop(); })) << "round " << i;
  }
}

}  // namespace
}  // namespace vista::serve
