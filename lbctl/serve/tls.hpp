#pragma once
// serve's TLS: a certificate chain and its private key (PEM files) in a
// server context for new connections, TLS 1.2 and later only. Loaded at the
// start and again on SIGHUP (a renewed certificate without a restart).

#include <memory>
#include <string>

#include "core/error.hpp"

namespace boost::asio::ssl {
class context;
}

namespace lbctl::serve {

// invalid, naming the file and what OpenSSL said, when a file cannot be read
// or parsed or the key is not the certificate's.
Result<std::shared_ptr<boost::asio::ssl::context>> load_tls(const std::string& cert_file, const std::string& key_file);

}  // namespace lbctl::serve
