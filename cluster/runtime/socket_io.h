// The Asio types and socket fast paths shared by http_server.cpp and http_client.cpp (the only
// two files that include Asio).
//
// Every I/O object and coroutine is bound to the concrete io_context executor rather than
// Asio's default any_io_executor: the type-erased executor is copied, queried and destroyed
// on every operation and showed up as a few percent of the gateway's CPU in profiles.
//
// A small response or request fits the socket's send buffer at once, so an
// async write (a timer wait for its deadline, a posted completion, a coroutine suspension and
// resumption) usually buys nothing: write_now() tries the plain non-blocking send first and
// the caller falls back to the async path, with its deadline, only for what is left.
#pragma once

#include <chrono>
#include <cstddef>
#include <utility>  // before Asio 1.74: awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

namespace mambogo::runtime {

namespace io {
using Executor = boost::asio::io_context::executor_type;
template <class T>
using Task = boost::asio::awaitable<T, Executor>;
inline constexpr boost::asio::use_awaitable_t<Executor> use_task{};
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Resolver = boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor>;
using Stream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor>;
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
}  // namespace io

// Sends as much of `data` as the socket takes without blocking and returns how many bytes
// that was. ec is set only for a real failure (reset, broken pipe), never for a full send
// buffer. The socket must be in non-blocking mode (socket.non_blocking(true)).
template <class Socket>
std::size_t write_now(Socket& socket, boost::asio::const_buffer data, boost::system::error_code& ec) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const std::size_t n = socket.write_some(data + sent, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
      ec = {};
      break;
    }
    if (ec) break;
    sent += n;
  }
  return sent;
}

}  // namespace mambogo::runtime
