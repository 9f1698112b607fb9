#pragma once
// SHA-256 (FIPS 180-4) for migration checksums. Written here rather than
// linking OpenSSL's libcrypto: it is ~100 lines and keeps lbctl_db's
// dependencies to libpqxx, libpq and nlohmann_json.

#include <string>
#include <string_view>

namespace lbctl::db {

// The digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace lbctl::db
