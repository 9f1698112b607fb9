#pragma once
// SHA-256 for migration checksums, from OpenSSL's libcrypto (which libpq
// links already).

#include <string>
#include <string_view>

namespace lbctl::db {

// The digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace lbctl::db
