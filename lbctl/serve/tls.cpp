#include "lbctl/serve/tls.hpp"

#include <boost/asio/ssl/context.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace lbctl::serve {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> load_tls(const std::string& cert_file, const std::string& key_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) return fail(ErrorKind::invalid, fmt::format("--tls-cert {}: {}", cert_file, ec.message()));
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return fail(ErrorKind::invalid, fmt::format("--tls-key {}: {}", key_file, ec.message()));
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    ERR_clear_error();
    return fail(ErrorKind::invalid,
                fmt::format("--tls-key {} is not the key of the certificate in --tls-cert {}", key_file, cert_file));
  }
  return context;
}

}  // namespace lbctl::serve
