#pragma once
// Where an HAProxy's runtime API (or master CLI) is, and how lbctl reaches
// it: a unix socket on this host, plain tcp (no authentication: loopback, or
// a network the config says it trusts), OpenSSH to the LB's host (the far
// side's socat speaks to the socket), or mutual TLS to a `listen` section
// in front of the socket. Plain data: the config builds it, the transports
// in haproxy_socket.hpp and ssh_runtime_api.hpp use it.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lbctl::pools {

struct SshOptions {
  std::filesystem::path identity_file;  // -i; empty: ssh's own choice
  std::filesystem::path known_hosts;    // the only host keys accepted; empty: ssh's own files
  // What runs on the LB's host, its stdio joined to the socket; {socket} is
  // the socket's path. Sent to the far side's shell as one line, each
  // argument quoted.
  std::vector<std::string> command{"socat", "STDIO", "UNIX-CONNECT:{socket}"};
  std::string program = "ssh";  // the OpenSSH client
};

struct TlsOptions {
  std::filesystem::path ca_file;    // the CA that signed the LB's certificate
  std::filesystem::path cert_file;  // lbctl's client certificate
  std::filesystem::path key_file;   // and its key
  std::string server_name;          // SNI and the name checked in the LB's certificate; empty: the host
};

struct RuntimeApiEndpoint {
  enum class Kind { unix_socket, tcp, ssh, tls };
  Kind kind = Kind::unix_socket;
  std::string path;  // unix: the socket; ssh: the socket on the LB's host
  std::string host;  // tcp, ssh, tls
  std::uint16_t port = 0;  // ssh: 0 = ssh's default
  std::string user;  // ssh: empty = ssh's default
  SshOptions ssh;
  TlsOptions tls;

  // "unix:/path", "tcp:host:port", "ssh://user@host:port/path", "tls://host:port"
  std::string to_string() const;
  // True for an address only this host can reach (127.0.0.0/8, ::1, localhost).
  bool is_loopback() const;
};

}  // namespace lbctl::pools
