#pragma once
// HTTPS for lbctl-app (--tls-cert, --tls-key): the server's TLS context. Only a
// declaration of Asio's context here, so the OpenSSL headers stay in the .cpp
// files that use them.

#include <filesystem>
#include <memory>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace lbctl::demo_app {

// A server context, TLS 1.2 and up, with the PEM certificate chain `cert` and its
// private key `key`. Throws std::runtime_error naming the option and the file
// that cannot be used: not PEM, an encrypted key, or a key of another certificate.
std::unique_ptr<boost::asio::ssl::context> load_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key);

}  // namespace lbctl::demo_app
