#pragma once
// A headless Chromium (Debian's /usr/bin/chromium) showing one page, driven
// over the Chrome DevTools Protocol: end-to-end tests read the live DOM while
// the page updates (a page holding a server-sent-events stream open never lets
// `chromium --dump-dom` finish), collect what it logged and take screenshots.
// Everything stays on loopback; chromium is stopped and its profile removed
// when the fixture goes away.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lbctl::test {

struct ChromiumOptions {
  std::string binary = "/usr/bin/chromium";
  int width = 1280;
  int height = 900;
  // More command-line flags, e.g. --ignore-certificate-errors-spki-list=HASH
  // to trust one test certificate (see spki_sha256_base64).
  std::vector<std::string> flags;
};

class ChromiumFixture {
 public:
  // Starts headless chromium on `url` with a fresh profile and a DevTools port
  // of its choosing, connects to the page's DevTools websocket, enables the
  // Runtime and Log domains and waits until the page's document has left
  // about:blank and finished parsing (document.readyState is not "loading").
  // Throws std::runtime_error with chromium's log when any of that does not
  // happen within 30 s.
  explicit ChromiumFixture(const std::string& url, ChromiumOptions options = {});
  // Closes the websocket, stops chromium (SIGTERM, then SIGKILL) and removes
  // its profile.
  ~ChromiumFixture();
  ChromiumFixture(const ChromiumFixture&) = delete;
  ChromiumFixture& operator=(const ChromiumFixture&) = delete;

  // Runtime.evaluate(expression, returnByValue, awaitPromise): the value, null
  // when it is undefined (or not serialisable), a string such as "NaN" or
  // "12n" for values JSON cannot hold. Throws std::runtime_error on an
  // exception in the page (with its text), a protocol error or no reply in 30 s.
  nlohmann::json evaluate(const std::string& expression);
  // document.documentElement.outerHTML, as it is now.
  std::string dom();
  // Page.captureScreenshot as PNG, written to `path` (parent folders created);
  // returns its size in bytes.
  std::size_t screenshot(const std::filesystem::path& path);
  // What the page logged so far, one line each: console calls
  // ("console.error: text (url:line)"), uncaught exceptions
  // ("exception: text (url:line)") and browser log entries such as CSP
  // violations ("log.error security: text (url)"; the 404 of the favicon
  // the browser asks for by itself is left out). Collected while a reply is
  // awaited, so it is current as of the last evaluate/dom/screenshot.
  const std::vector<std::string>& console() const;
  // Chromium's own stdout+stderr.
  std::string log() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace lbctl::test
