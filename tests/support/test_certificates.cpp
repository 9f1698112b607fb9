#include "tests/support/test_certificates.hpp"

#include <cstdio>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdexcept>

#include "tests/support/child_process.hpp"

namespace lbctl::test {

namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto ran = run_command(argv, std::chrono::seconds(60));
  if (ran.exit_code != 0) throw std::runtime_error("openssl " + args.front() + " failed: " + ran.out);
}

bool is_ip(const std::string& name) {
  return name.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos &&
         name.find_first_of(".:") != std::string::npos;
}

}  // namespace

TestCertificates::TestCertificates(std::filesystem::path dir, std::string name) : m_dir(std::move(dir)) {
  std::filesystem::create_directories(m_dir);
  m_ca = {m_dir / "ca.crt", m_dir / "ca.key"};
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
           "-subj", "/CN=" + name, "-keyout", m_ca.key.string(), "-out", m_ca.cert.string(), "-addext",
           "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

KeyPair TestCertificates::sign(const std::string& file, const std::string& subject, const std::string& extensions) const {
  const KeyPair pair{m_dir / (file + ".crt"), m_dir / (file + ".key")};
  const auto request = m_dir / (file + ".csr");
  const auto ext = m_dir / (file + ".ext");
  std::FILE* out = std::fopen(ext.c_str(), "w");
  std::fputs(extensions.c_str(), out);
  std::fclose(out);
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject, "-keyout",
           pair.key.string(), "-out", request.string()});
  openssl({"x509", "-req", "-in", request.string(), "-CA", m_ca.cert.string(), "-CAkey", m_ca.key.string(),
           "-CAcreateserial", "-days", "2", "-out", pair.cert.string(), "-extfile", ext.string()});
  return pair;
}

KeyPair TestCertificates::server(const std::string& file, const std::vector<std::string>& names) const {
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& name : names) san += (is_ip(name) ? ",IP:" : ",DNS:") + name;
  return sign(file, "/CN=" + (names.empty() ? std::string("localhost") : names.front()),
              "subjectAltName=" + san + "\nextendedKeyUsage=serverAuth\n");
}

KeyPair TestCertificates::client(const std::string& file, const std::string& common_name) const {
  return sign(file, "/CN=" + common_name, "extendedKeyUsage=clientAuth\n");
}

std::string spki_sha256_base64(const std::filesystem::path& cert) {
  std::FILE* in = std::fopen(cert.c_str(), "r");
  if (in == nullptr) throw std::runtime_error("cannot read " + cert.string());
  X509* x509 = PEM_read_X509(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  if (x509 == nullptr) throw std::runtime_error("not a PEM certificate: " + cert.string());
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(x509), &der);
  X509_free(x509);
  if (length <= 0) throw std::runtime_error("no public key in " + cert.string());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(length), digest);
  OPENSSL_free(der);
  unsigned char encoded[64] = {};
  EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
  return reinterpret_cast<const char*>(encoded);
}

}  // namespace lbctl::test
