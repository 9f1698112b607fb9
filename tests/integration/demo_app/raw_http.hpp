#pragma once
// A keep-alive HTTP/1.1 client connection for the app server's tests: several
// requests on one connection, and a look at whether the server closed it.

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/child_process.hpp"

namespace lbctl::test {

class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port) : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (m_fd >= 0) ::close(m_fd);
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
  }
  ~HttpConnection() { ::close(m_fd); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send_get(const std::string& path) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(m_fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("send failed");
  }

  // One response (by Content-Length); status 0 when the connection ends or `timeout` passes first.
  HttpReply read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    HttpReply reply;
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto header_end = m_buffer.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::string headers = m_buffer.substr(0, header_end);
        std::size_t length = 0;
        if (const auto at = headers.find("Content-Length: "); at != std::string::npos) length = std::stoul(headers.substr(at + 16));
        if (m_buffer.size() >= header_end + 4 + length) {
          reply.status = std::stoi(m_buffer.substr(9, 3));
          reply.body = m_buffer.substr(header_end + 4, length);
          m_buffer.erase(0, header_end + 4 + length);
          return reply;
        }
      }
      if (!receive(end)) return reply;
    }
  }

  // True when the server closes the connection (EOF) within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (!receive(end)) return m_eof;
    }
    return false;
  }

 private:
  // Appends what arrives before `end`; false on EOF, error or timeout.
  bool receive(std::chrono::steady_clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      m_eof = true;
      return false;
    }
    m_buffer.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int m_fd;
  std::string m_buffer;
  bool m_eof = false;
};

}  // namespace lbctl::test
