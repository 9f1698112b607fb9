#include "demo_app/tls.hpp"

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>
#include <stdexcept>
#include <string>

namespace lbctl::demo_app {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> load_tls_context(const std::filesystem::path& cert, const std::filesystem::path& key) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION) != 1)
    throw std::runtime_error("cannot set up TLS: OpenSSL refuses TLS 1.2 as the minimum version");
  // An encrypted key would make OpenSSL ask for its passphrase on the terminal,
  // where a test has nobody to type it: an empty one makes it fail instead.
  context->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  context->use_certificate_chain_file(cert.string(), ec);
  if (ec) throw std::runtime_error("--tls-cert '" + cert.string() + "' is not a usable PEM certificate: " + ec.message());
  context->use_private_key_file(key.string(), ssl::context::pem, ec);
  if (ec) throw std::runtime_error("--tls-key '" + key.string() + "' is not a usable PEM private key: " + ec.message());
  // Loading checks a key only against a certificate of its own type (an EC key
  // beside an RSA certificate passes): ask for the pair explicitly.
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    throw std::runtime_error("--tls-key '" + key.string() + "' is not the private key of --tls-cert '" + cert.string() + "'");
  return context;
}

}  // namespace lbctl::demo_app
