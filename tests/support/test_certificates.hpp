#pragma once
// Certificates for tests that speak TLS (serve's https, an LB's TLS front):
// a CA of the test's own and certificates it signed, made with the openssl
// program in a folder the test owns. Nothing here is trusted anywhere else.

#include <filesystem>
#include <string>
#include <vector>

namespace lbctl::test {

struct KeyPair {
  std::filesystem::path cert;
  std::filesystem::path key;
};

class TestCertificates {
 public:
  // A new CA in `dir` (ca.crt, ca.key); `name` tells two CAs apart.
  explicit TestCertificates(std::filesystem::path dir, std::string name = "lbctl test CA");

  const std::filesystem::path& ca_cert() const { return m_ca.cert; }
  // A server certificate for localhost, 127.0.0.1 and ::1 and `names`
  // (DNS names or IP addresses), signed by the CA; `file` names its files.
  KeyPair server(const std::string& file, const std::vector<std::string>& names = {}) const;
  // A client certificate whose subject's CN is `common_name`.
  KeyPair client(const std::string& file, const std::string& common_name) const;

 private:
  KeyPair sign(const std::string& file, const std::string& subject, const std::string& extensions) const;

  std::filesystem::path m_dir;
  KeyPair m_ca;
};

// SHA-256 of a certificate's public key (its SubjectPublicKeyInfo), base64:
// what chromium's --ignore-certificate-errors-spki-list pins.
std::string spki_sha256_base64(const std::filesystem::path& cert);

}  // namespace lbctl::test
