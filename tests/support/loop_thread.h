// An I/O loop of a test's own: an io_context run by one thread inside an IoLoop::Scope, as
// HttpServer's I/O threads are, so clients that keep per-loop state (AsyncRedis, HttpClient in
// caller-thread mode, the gateway's rate limiter) can be driven without a server. Declare it
// before the client under test: the loop's io_context must outlive the client.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "runtime/http_server.h"

namespace mambogo::test {

class LoopThread {
 public:
  LoopThread()
      : work_(boost::asio::make_work_guard(ioc_)), thread_([this] {
          runtime::IoLoop::Scope loop(ioc_);
          id_ = std::this_thread::get_id();
          ioc_.run();
        }) {}
  ~LoopThread() { stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  void post(std::function<void()> fn) { boost::asio::post(ioc_, std::move(fn)); }
  // Ends the loop for good (IoLoop::running() turns false).
  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  std::thread::id id() const { return id_; }

 private:
  boost::asio::io_context ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<std::thread::id> id_{};
  std::thread thread_;
};

}  // namespace mambogo::test
