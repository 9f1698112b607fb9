#include "tests/support/chromium_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <openssl/evp.h>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto k_start_timeout = 30s;
constexpr auto k_reply_timeout = 30s;

std::chrono::milliseconds left_until(Steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
  return left.count() > 0 ? left : 0ms;
}

// A port number in 1..65535 at the start of `text`, or 0.
std::uint16_t parse_port(std::string_view text) {
  unsigned value = 0;
  std::size_t digits = 0;
  while (digits < text.size() && digits < 6 && text[digits] >= '0' && text[digits] <= '9') {
    value = value * 10 + static_cast<unsigned>(text[digits] - '0');
    ++digits;
  }
  if (digits == 0 || value == 0 || value > 65535) return 0;
  return static_cast<std::uint16_t>(value);
}

// The DevTools port chromium announced: the first line of DevToolsActivePort
// in its profile (complete once the second line is there), or its
// "DevTools listening on ws://127.0.0.1:PORT/..." line.
std::uint16_t announced_port(const std::filesystem::path& profile, const std::filesystem::path& log) {
  const std::string active = read_file(profile / "DevToolsActivePort");
  if (const auto newline = active.find('\n'); newline != std::string::npos) {
    if (const auto port = parse_port(active); port != 0) return port;
  }
  static constexpr std::string_view k_prefix = "DevTools listening on ws://127.0.0.1:";
  const std::string text = read_file(log);
  if (const auto at = text.find(k_prefix); at != std::string::npos) {
    return parse_port(std::string_view(text).substr(at + k_prefix.size()));
  }
  return 0;
}

// The path part ("/devtools/page/ID") of a target's webSocketDebuggerUrl.
std::string devtools_path(const std::string& ws_url) {
  const auto at = ws_url.find("/devtools/");
  return at == std::string::npos ? std::string() : ws_url.substr(at);
}

std::string decode_base64(const std::string& text) {
  if (text.size() % 4 != 0) throw std::runtime_error("chromium: screenshot data is not base64");
  std::string out(text.size() / 4 * 3, '\0');
  const int decoded = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (decoded < 0) throw std::runtime_error("chromium: screenshot data is not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(decoded) - padding);
  return out;
}

// Newlines escaped, so every collected message stays one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += "\\n";
    else if (c != '\r') out += c;
  }
  return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string string_field(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A Runtime.RemoteObject the way the console shows it.
std::string remote_object_text(const Json& object) {
  if (!object.is_object()) return {};
  if (const auto value = object.find("value"); value != object.end()) {
    return value->is_string() ? value->get<std::string>() : value->dump();
  }
  if (auto text = string_field(object, "unserializableValue"); !text.empty()) return text;
  if (auto text = string_field(object, "description"); !text.empty()) return text;
  return string_field(object, "type");
}

// " (url:line)" with a 1-based line, or "" without a url.
std::string location(const std::string& url, const Json& line_number) {
  if (url.empty()) return {};
  std::string text = " (" + url;
  if (line_number.is_number_integer()) text += ":" + std::to_string(line_number.get<long long>() + 1);
  return text + ")";
}

const Json& member(const Json& object, const char* key) {
  static const Json k_null;
  if (!object.is_object()) return k_null;
  const auto it = object.find(key);
  return it != object.end() ? *it : k_null;
}

// Whether a process of process group `group` still runs (zombies do not).
bool group_running(pid_t group) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const std::string stat = read_file(entry.path() / "stat");
    const auto comm_end = stat.rfind(')');
    if (comm_end == std::string::npos) continue;
    std::istringstream fields(stat.substr(comm_end + 1));
    char state = 0;
    long parent = 0;
    long pgrp = 0;
    if (!(fields >> state >> parent >> pgrp)) continue;
    if (pgrp == group && state != 'Z' && state != 'X') return true;
  }
  return false;
}

}  // namespace

struct ChromiumFixture::Impl {
  ChromiumOptions options;
  TempDir dir;
  std::vector<std::pair<std::string, std::filesystem::path>> logs;  // headless flag, log file
  std::unique_ptr<ChildProcess> process;
  net::io_context ioc;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  bool broken = false;
  std::int64_t next_id = 1;
  std::vector<std::string> console;

  explicit Impl(ChromiumOptions opts) : options(std::move(opts)) {}

  ~Impl() {
    if (ws && !broken && ws->is_open()) {
      try {
        io("close", Steady::now() + 2s, [&](auto handler) { ws->async_close(websocket::close_code::normal, handler); });
      } catch (const std::exception&) {
      }
    }
    ws.reset();
    stop_chromium();
  }

  void stop_chromium() {
    if (!process) return;
    const pid_t group = process->pid();
    // Its profile is thrown away, so a clean shutdown does not matter: 1 s
    // after SIGTERM the whole process group gets SIGKILL.
    process->stop(1s);
    // Its renderers and helpers share that group; let them die before the
    // profile is removed under them (they stay zombies until init reaps them).
    if (group > 0) eventually([group] { return !group_running(group); }, 2s);
    process.reset();
  }

  std::string log() const {
    std::string text;
    for (const auto& [flag, path] : logs) {
      if (logs.size() > 1) text += "--- chromium " + flag + " ---\n";
      text += read_file(path);
    }
    return text;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("chromium: " + what + "; its log:\n" + log());
  }

  // Runs one asynchronous operation on `stream` to completion, closing it
  // (and throwing) when it does not finish by `deadline`: Beast's timeouts
  // only apply to asynchronous operations.
  template <class Start>
  void run(beast::tcp_stream& stream, const char* what, Steady::time_point deadline, Start&& start) {
    stream.expires_at(deadline);
    bool done = false;
    boost::system::error_code result;
    start([&done, &result](boost::system::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    ioc.run();
    if (!done || result) {
      const std::string reason = !done ? std::string("did not finish")
                                 : result == beast::error::timeout ? std::string("timed out")
                                                                   : result.message();
      throw std::runtime_error(std::string("chromium: devtools ") + what + " " + reason);
    }
    stream.expires_never();
  }

  // The same on the websocket, which is unusable after a failure.
  template <class Start>
  void io(const char* what, Steady::time_point deadline, Start&& start) {
    if (broken || !ws) throw std::runtime_error(std::string("chromium: devtools connection is closed (") + what + ")");
    try {
      run(beast::get_lowest_layer(*ws), what, deadline, std::forward<Start>(start));
    } catch (const std::runtime_error&) {
      broken = true;
      throw;
    }
  }

  // GET http://127.0.0.1:port/target as HTTP/1.1 (the DevTools server
  // refuses HTTP/1.0, so http_get cannot ask it); the body, or "" on failure.
  std::string devtools_get(std::uint16_t port, const std::string& target, Steady::time_point deadline) {
    try {
      beast::tcp_stream stream(ioc);
      const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), port);
      run(stream, "connect", deadline, [&](auto handler) { stream.async_connect(endpoint, handler); });
      http::request<http::empty_body> request(http::verb::get, target, 11);
      request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
      run(stream, "request", deadline, [&](auto handler) { http::async_write(stream, request, handler); });
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      run(stream, "response", deadline, [&](auto handler) { http::async_read(stream, buffer, response, handler); });
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return response.result() == http::status::ok ? response.body() : std::string();
    } catch (const std::runtime_error&) {
      return {};
    }
  }

  void connect(std::uint16_t port, const std::string& path, Steady::time_point deadline) {
    ws.emplace(ioc);
    ws->read_message_max(std::uint64_t{1} << 30);
    const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), port);
    io("connect", deadline, [&](auto handler) { beast::get_lowest_layer(*ws).async_connect(endpoint, handler); });
    const std::string host = "127.0.0.1:" + std::to_string(port);
    io("handshake", deadline, [&](auto handler) { ws->async_handshake(host, path, handler); });
    ws->text(true);
  }

  // Sends one command and reads frames until its reply, collecting console
  // events on the way; returns the reply's result.
  Json call(const std::string& method, Json params, Steady::time_point deadline) {
    const std::int64_t id = next_id++;
    const std::string request = Json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump();
    io("write", deadline, [&](auto handler) { ws->async_write(net::buffer(request), handler); });
    for (;;) {
      beast::flat_buffer buffer;
      io("read", deadline, [&](auto handler) { ws->async_read(buffer, handler); });
      const Json message = Json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      if (!message.is_object()) continue;
      if (const auto reply_id = message.find("id"); reply_id != message.end()) {
        if (!reply_id->is_number_integer() || reply_id->get<std::int64_t>() != id) continue;
        if (const auto error = message.find("error"); error != message.end()) {
          throw std::runtime_error("chromium: " + method + " failed: " + error->dump());
        }
        const auto result = message.find("result");
        return result != message.end() ? *result : Json::object();
      }
      on_event(string_field(message, "method"), member(message, "params"));
    }
  }

  void on_event(const std::string& method, const Json& params) {
    if (method == "Runtime.consoleAPICalled") {
      std::string text = "console." + string_field(params, "type") + ":";
      for (const auto& arg : member(params, "args")) text += " " + remote_object_text(arg);
      const Json& frames = member(member(params, "stackTrace"), "callFrames");
      if (frames.is_array() && !frames.empty()) {
        text += location(string_field(frames.front(), "url"), member(frames.front(), "lineNumber"));
      }
      console.push_back(one_line(text));
    } else if (method == "Runtime.exceptionThrown") {
      const Json& details = member(params, "exceptionDetails");
      std::string text = first_line(string_field(member(details, "exception"), "description"));
      if (text.empty()) text = string_field(details, "text");
      console.push_back(one_line("exception: " + text + location(string_field(details, "url"), member(details, "lineNumber"))));
    } else if (method == "Log.entryAdded") {
      const Json& entry = member(params, "entry");
      console.push_back(one_line("log." + string_field(entry, "level") + " " + string_field(entry, "source") + ": " +
                                 string_field(entry, "text") +
                                 location(string_field(entry, "url"), member(entry, "lineNumber"))));
    } else if (method == "Inspector.targetCrashed") {
      broken = true;
      fail("the page crashed");
    }
  }

  Json evaluate(const std::string& expression, Steady::time_point deadline) {
    const Json reply = call("Runtime.evaluate",
                            Json{{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}}, deadline);
    if (const auto details = reply.find("exceptionDetails"); details != reply.end()) {
      std::string text = string_field(*details, "text");
      const Json& exception = member(*details, "exception");
      // The text often repeats the description's first line ("Uncaught (in
      // promise) Error: nope"); add only what it lacks (the stack).
      if (const auto description = remote_object_text(exception); !description.empty()) {
        const auto head = first_line(description);
        text += text.find(head) != std::string::npos ? description.substr(head.size()) : " " + description;
      }
      throw std::runtime_error("chromium: evaluating `" + expression.substr(0, 200) + "` threw: " + text);
    }
    const Json& result = member(reply, "result");
    if (const auto value = result.find("value"); result.is_object() && value != result.end()) return *value;
    if (auto special = string_field(result, "unserializableValue"); !special.empty()) return special;
    return nullptr;
  }

  void start(const std::string& url) {
    const auto deadline = Steady::now() + k_start_timeout;
    // --headless=new is the current headless mode; older builds that refuse
    // it get the classic --headless.
    std::uint16_t port = 0;
    for (const std::string flag : {"--headless=new", "--headless"}) {
      const auto attempt = std::to_string(logs.size());
      const auto profile = dir / ("profile-" + attempt);
      logs.emplace_back(flag, dir / ("chromium-" + attempt + ".log"));
      std::vector<std::string> argv{options.binary, flag, "--remote-debugging-port=0", "--user-data-dir=" + profile.string(),
                                    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                    "--no-default-browser-check", "--disable-extensions",
                                    "--window-size=" + std::to_string(options.width) + "," + std::to_string(options.height)};
      argv.insert(argv.end(), options.flags.begin(), options.flags.end());
      argv.push_back(url);
      process = std::make_unique<ChildProcess>(std::move(argv), logs.back().second);
      eventually(
          [&] {
            port = announced_port(profile, logs.back().second);
            return port != 0 || !process->running();
          },
          left_until(deadline));
      if (port != 0 || process->running()) break;
      stop_chromium();
    }
    if (port == 0 || !process) fail("no DevTools port within 30 s");

    std::string path;
    eventually(
        [&] {
          if (!process->running()) return true;
          const Json targets = Json::parse(devtools_get(port, "/json/list", std::min(deadline, Steady::now() + 2s)), nullptr, false);
          if (!targets.is_array()) return false;
          for (const auto& target : targets) {
            if (string_field(target, "type") != "page") continue;
            const auto candidate = devtools_path(string_field(target, "webSocketDebuggerUrl"));
            if (candidate.empty()) continue;
            // The page on our URL when it is listed, else the first page.
            if (path.empty() || string_field(target, "url") == url) path = candidate;
          }
          return !path.empty();
        },
        left_until(deadline));
    if (path.empty()) fail(process->running() ? "no page target in /json/list" : "exited");

    try {
      connect(port, path, deadline);
      call("Runtime.enable", Json::object(), deadline);
      call("Log.enable", Json::object(), deadline);
      // Wait for the navigation to `url` to commit and the document to parse;
      // evaluating during the switch from about:blank can fail, so retry.
      std::string href;
      const bool loaded = eventually(
          [&] {
            try {
              const Json state = evaluate("[document.readyState, location.href]", deadline);
              href = state.at(1).get<std::string>();
              return state.at(0) != "loading" && (href != "about:blank" || url == "about:blank");
            } catch (const std::runtime_error&) {
              if (broken) throw;
              return false;
            }
          },
          left_until(deadline));
      if (!loaded) fail("the page did not load (at " + href + ")");
      if (href.starts_with("chrome-error://")) fail("could not load " + url);
    } catch (const std::runtime_error& error) {
      const std::string text = error.what();
      if (text.find("; its log:\n") != std::string::npos) throw;
      fail(text.substr(text.starts_with("chromium: ") ? 10 : 0));
    }
  }
};

ChromiumFixture::ChromiumFixture(const std::string& url, ChromiumOptions options)
    : m_impl(std::make_unique<Impl>(std::move(options))) {
  m_impl->start(url);
}

ChromiumFixture::~ChromiumFixture() = default;

Json ChromiumFixture::evaluate(const std::string& expression) {
  return m_impl->evaluate(expression, Steady::now() + k_reply_timeout);
}

std::string ChromiumFixture::dom() {
  const Json html = evaluate("document.documentElement ? document.documentElement.outerHTML : ''");
  return html.is_string() ? html.get<std::string>() : std::string();
}

std::size_t ChromiumFixture::screenshot(const std::filesystem::path& path) {
  const Json reply = m_impl->call("Page.captureScreenshot", Json{{"format", "png"}}, Steady::now() + k_reply_timeout);
  const std::string png = decode_base64(string_field(reply, "data"));
  if (png.empty()) throw std::runtime_error("chromium: empty screenshot");
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return png.size();
}

const std::vector<std::string>& ChromiumFixture::console() const { return m_impl->console; }

std::string ChromiumFixture::log() const { return m_impl->log(); }

}  // namespace lbctl::test
