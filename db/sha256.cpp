#include "db/sha256.hpp"

#include <array>
#include <openssl/evp.h>

namespace lbctl::db {

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // libpq already links libcrypto; its SHA-256 is the one to trust.
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(k_hex[digest[i] >> 4]);
    hex.push_back(k_hex[digest[i] & 0x0f]);
  }
  return hex;
}

}  // namespace lbctl::db
