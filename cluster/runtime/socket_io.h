// Socket fast paths shared by http_server.cpp and http_client.cpp (the only two files that
// include Asio). A small response or request fits the socket's send buffer at once, so an
// async write (a timer wait for its deadline, a posted completion, a coroutine suspension and
// resumption) usually buys nothing: write_now() tries the plain non-blocking send first and
// the caller falls back to the async path, with its deadline, only for what is left.
#pragma once

#include <cstddef>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

namespace mambogo::runtime {

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
