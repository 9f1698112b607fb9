#include "health/curl_prober.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <curl/curl.h>
#include <fmt/format.h>
#include <mutex>
#include <optional>
#include <poll.h>
#include <unordered_map>
#include <vector>

#include "core/async_semaphore.hpp"

namespace lbctl::health {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr long k_read_buffer_bytes = 2048;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One GET in flight, shared by the waiting coroutine and the multi handle.
struct Transfer {
  explicit Transfer(asio::any_io_executor executor) : done(executor, asio::steady_timer::time_point::max()) {}
  ~Transfer() {
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  CURL* easy = nullptr;
  std::string request_body;          // a POST's body; curl reads it in place
  curl_slist* headers = nullptr;
  std::string body;
  bool truncated = false;
  char error[CURL_ERROR_SIZE] = {};
  std::optional<ProbeOutcome> outcome;
  asio::steady_timer done;  // expires (at min) once outcome is set
};

// A socket curl asked us to watch. The descriptor only borrows curl's fd:
// it is released, never closed, because curl closes its own sockets.
struct SocketWatch {
  SocketWatch(asio::io_context& io, curl_socket_t fd_) : descriptor(io), fd(fd_) {}
  ~SocketWatch() {
    if (descriptor.is_open()) descriptor.release();
  }

  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  int wanted = 0;  // CURL_POLL_IN, CURL_POLL_OUT or both
  bool waiting_read = false;
  bool waiting_write = false;
  bool closed = false;  // curl said CURL_POLL_REMOVE
};

ProbeFailure failure(ProbeError kind, std::string message, milliseconds latency = milliseconds(0)) {
  return ProbeFailure{kind, std::move(message), latency};
}

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* transfer = static_cast<Transfer*>(userp);
  const std::size_t bytes = size * count;
  const std::size_t room = k_max_body_bytes - transfer->body.size();
  if (bytes > room) {
    // Stop reading: a health answer that long says nothing more past the cap.
    transfer->body.append(data, room);
    transfer->truncated = true;
    return 0;
  }
  transfer->body.append(data, bytes);
  return bytes;
}

ProbeOutcome outcome_of(Transfer& transfer, CURLcode code) {
  curl_off_t total_us = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_TOTAL_TIME_T, &total_us);
  const milliseconds latency(total_us / 1000);
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.truncated)) {
    long status = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
    return HttpResponse{static_cast<int>(status), std::move(transfer.body), latency, transfer.truncated};
  }
  std::string message = transfer.error[0] != '\0' ? transfer.error : curl_easy_strerror(code);
  if (code == CURLE_OPERATION_TIMEDOUT) return std::unexpected(failure(ProbeError::timeout, message, latency));
  if (code == CURLE_COULDNT_CONNECT) {
    long os_errno = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno == ECONNREFUSED) return std::unexpected(failure(ProbeError::connection_refused, message, latency));
  }
  return std::unexpected(failure(ProbeError::other, message, latency));
}

// "::1" must be bracketed in a URL; "[::1]" and names are used as given.
std::string url_host(const std::string& host) {
  if (!host.empty() && host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

class CurlProber::Multi {
 public:
  Multi(asio::io_context& io, std::size_t max_in_flight)
      : m_io(io), m_timer(io), m_turns(std::max<std::size_t>(1, max_in_flight)) {
    init_curl_once();
    m_multi = curl_multi_init();
    if (m_multi == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &Multi::on_socket);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &Multi::on_timer);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
  }

  ~Multi() {
    m_closing = true;  // curl's callbacks during cleanup find nothing to do
    m_turns.close();   // checks waiting their turn end; none starts here again
    m_alive.reset();   // handlers still queued on the io_context find us gone
    for (auto& [easy, transfer] : m_transfers) {
      curl_multi_remove_handle(m_multi, easy);
      curl_easy_cleanup(easy);
      transfer->easy = nullptr;
      transfer->outcome = std::unexpected(failure(ProbeError::other, "health checker shut down"));
      transfer->done.expires_at(asio::steady_timer::time_point::min());
    }
    for (auto& [fd, watch] : m_sockets) {
      watch->closed = true;
      watch->descriptor.release();
    }
    curl_multi_cleanup(m_multi);
    m_timer.cancel();
  }

  std::size_t in_flight() const { return m_transfers.size(); }

  // A turn to run a transfer: at most max_in_flight run at once, so a round
  // of 10,000 probes holds a socket and curl's per-transfer state for those
  // running only. nullopt when the prober shut down meanwhile.
  asio::awaitable<std::optional<AsyncSemaphore::Permit>> take_turn() { return m_turns.acquire(); }

  // Adds one request to the multi handle (a GET, or a POST of `post_body`);
  // curl starts it from its timer.
  std::shared_ptr<Transfer> start(const std::string& url, milliseconds timeout,
                                  const std::string* post_body = nullptr, const ProbeTls* tls = nullptr) {
    auto transfer = std::make_shared<Transfer>(m_io.get_executor());
    CURL* easy = curl_easy_init();
    if (easy == nullptr) {
      transfer->outcome = std::unexpected(failure(ProbeError::other, "curl_easy_init failed"));
      return transfer;
    }
    transfer->easy = easy;
    const long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count()));
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &write_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    // Every probe on a connection of its own, closed after it, as HAProxy's
    // checks do: a server that no longer accepts connections fails its probe
    // rather than passing on a kept one. It also keeps libcurl 7.88's
    // connection cache empty, which it walks whole when a transfer starts or
    // ends: with connections kept, 10,000 probes cost 3.6 s of CPU, 10 times
    // 1,000's 25 times over (bench_health_fanout); without, 1.7 s.
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    // A check's answer is small: curl reads it in pieces of this many bytes
    // rather than its default 16 KiB per transfer, which made 10,000 probes
    // in flight hold 270 MiB.
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, k_read_buffer_bytes);
    if (tls != nullptr && tls->https) {
      if (!tls->ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, tls->ca_file.c_str());
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, tls->verify ? 1L : 0L);
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, tls->verify ? 2L : 0L);
    }
    if (post_body == nullptr) {
      // http_proxy and friends must not capture checks aimed at loopback.
      curl_easy_setopt(easy, CURLOPT_PROXY, "");
      curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
      curl_easy_setopt(easy, CURLOPT_USERAGENT, "lbctl-health/0.1");
    } else {
      // A webhook goes where the environment's proxy settings say.
      transfer->request_body = *post_body;
      transfer->headers = curl_slist_append(nullptr, "Content-Type: application/json");
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->request_body.c_str());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer->request_body.size()));
      curl_easy_setopt(easy, CURLOPT_USERAGENT, "lbctl-webhook/0.1");
    }
    const CURLMcode added = curl_multi_add_handle(m_multi, easy);
    if (added != CURLM_OK) {
      curl_easy_cleanup(easy);
      transfer->easy = nullptr;
      transfer->outcome = std::unexpected(failure(ProbeError::other, curl_multi_strerror(added)));
      return transfer;
    }
    m_transfers.emplace(easy, transfer);
    return transfer;
  }

 private:
  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<Multi*>(userp);
    if (self->m_closing) return 0;
    if (what == CURL_POLL_REMOVE) {
      self->forget(fd);
      return 0;
    }
    return self->watch_socket(fd, what) ? 0 : -1;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<Multi*>(userp);
    if (self->m_closing) return 0;
    if (timeout_ms < 0) {
      self->m_timer.cancel();
      return 0;
    }
    // Also for 0: curl must not be called back from inside its own callback.
    // 0 (asked at every transfer added) is a turn of the loop, not a timer:
    // each timer set moves the reactor's timerfd, a system call per probe.
    if (timeout_ms == 0) {
      if (self->m_act_posted) return 0;
      self->m_act_posted = true;
      asio::post(self->m_io, [self, alive = std::weak_ptr<bool>(self->m_alive)] {
        if (alive.expired()) return;
        self->m_act_posted = false;
        self->act(CURL_SOCKET_TIMEOUT, 0);
      });
      return 0;
    }
    self->m_timer.expires_after(milliseconds(timeout_ms));
    self->m_timer.async_wait([self, alive = std::weak_ptr<bool>(self->m_alive)](boost::system::error_code ec) {
      if (alive.expired() || ec) return;
      self->act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  bool watch_socket(curl_socket_t fd, int what) {
    auto& watch = m_sockets[fd];
    if (!watch) {
      watch = std::make_shared<SocketWatch>(m_io, fd);
      boost::system::error_code ec;
      watch->descriptor.assign(fd, ec);
      if (ec) {
        m_sockets.erase(fd);
        return false;
      }
    }
    watch->wanted = what;
    arm(watch);
    return true;
  }

  void forget(curl_socket_t fd) {
    const auto it = m_sockets.find(fd);
    if (it == m_sockets.end()) return;
    it->second->closed = true;
    it->second->descriptor.release();  // cancels its waits; curl closes the fd
    m_sockets.erase(it);
  }

  void arm(const std::shared_ptr<SocketWatch>& watch) {
    arm(watch, CURL_POLL_IN);
    arm(watch, CURL_POLL_OUT);
  }

  void arm(const std::shared_ptr<SocketWatch>& watch, int direction) {
    bool& waiting = direction == CURL_POLL_IN ? watch->waiting_read : watch->waiting_write;
    if (watch->closed || (watch->wanted & direction) == 0 || waiting) return;
    waiting = true;
    auto on_ready = [this, alive = std::weak_ptr<bool>(m_alive), watch, direction](boost::system::error_code ec) {
      (direction == CURL_POLL_IN ? watch->waiting_read : watch->waiting_write) = false;
      if (alive.expired() || ec || watch->closed || (watch->wanted & direction) == 0) return;
      act(watch->fd, direction == CURL_POLL_IN ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
      arm(watch);
    };
    // Asio's reactor is edge-triggered: readiness that came before this wait
    // (data curl left unread, a socket long writable) would never be
    // reported. Ask the kernel first.
    if (ready_now(watch->fd, direction)) {
      asio::post(m_io, [on_ready = std::move(on_ready)]() mutable { on_ready({}); });
      return;
    }
    watch->descriptor.async_wait(direction == CURL_POLL_IN ? asio::posix::descriptor_base::wait_read
                                                          : asio::posix::descriptor_base::wait_write,
                                 std::move(on_ready));
  }

  static bool ready_now(curl_socket_t fd, int direction) {
    pollfd p{fd, static_cast<short>(direction == CURL_POLL_IN ? POLLIN : POLLOUT), 0};
    return ::poll(&p, 1, 0) > 0 && p.revents != 0;
  }

  void act(curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(m_multi, fd, events, &running);
    finish_done_transfers();
  }

  void finish_done_transfers() {
    // Every message is read before any handle is removed: libcurl 7.88's
    // remove_handle walks the messages still queued, so removing while a
    // burst of thousands is queued costs the burst's length squared.
    std::vector<std::pair<CURL*, CURLcode>> done;
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(m_multi, &queued)) {
      if (message->msg == CURLMSG_DONE) done.emplace_back(message->easy_handle, message->data.result);
    }
    for (const auto& [easy, code] : done) {
      const auto it = m_transfers.find(easy);
      if (it == m_transfers.end()) continue;
      auto transfer = it->second;
      m_transfers.erase(it);
      transfer->outcome = outcome_of(*transfer, code);
      curl_multi_remove_handle(m_multi, easy);
      curl_easy_cleanup(easy);
      transfer->easy = nullptr;
      transfer->done.expires_at(asio::steady_timer::time_point::min());
    }
  }

  asio::io_context& m_io;
  asio::steady_timer m_timer;
  AsyncSemaphore m_turns;
  CURLM* m_multi = nullptr;
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> m_sockets;
  std::unordered_map<CURL*, std::shared_ptr<Transfer>> m_transfers;
  std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
  bool m_closing = false;
  bool m_act_posted = false;  // a turn of the loop will call curl's timeout action
};

CurlProber::CurlProber(asio::io_context& io, ProbeTls tls, std::size_t max_in_flight)
    : m_multi(std::make_unique<Multi>(io, max_in_flight)), m_tls(std::move(tls)) {}

CurlProber::~CurlProber() = default;

std::size_t CurlProber::in_flight() const { return m_multi->in_flight(); }

asio::awaitable<ProbeOutcome> CurlProber::get(std::string host, std::uint16_t port, std::string path,
                                              milliseconds timeout) {
  if (path.empty() || path.front() != '/') path.insert(0, "/");
  const auto turn = co_await m_multi->take_turn();
  if (!turn) co_return std::unexpected(failure(ProbeError::other, "health checker shut down"));
  auto transfer = m_multi->start(fmt::format("{}://{}:{}{}", m_tls.https ? "https" : "http", url_host(host), port, path),
                                 timeout, nullptr, &m_tls);
  while (!transfer->outcome) {
    boost::system::error_code ec;
    co_await transfer->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(*transfer->outcome);
}

asio::awaitable<ProbeOutcome> CurlProber::post(std::string url, std::string body, milliseconds timeout) {
  const auto turn = co_await m_multi->take_turn();
  if (!turn) co_return std::unexpected(failure(ProbeError::other, "health checker shut down"));
  auto transfer = m_multi->start(url, timeout, &body);
  while (!transfer->outcome) {
    boost::system::error_code ec;
    co_await transfer->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(*transfer->outcome);
}

}  // namespace lbctl::health
