#include "lbctl/cli/who.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "lbctl/cli/db_setup.hpp"

namespace lbctl {

std::string who_runs_this() {
  const uid_t uid = ::geteuid();
  const passwd* pw = ::getpwuid(uid);
  std::string user = pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : "uid " + std::to_string(uid);
  std::string who = user + "@" + this_host();
  const char* sudo_user = std::getenv("SUDO_USER");
  if (sudo_user != nullptr && *sudo_user != '\0' && user != sudo_user)
    who += std::string(" (sudo from ") + sudo_user + ")";
  return who;
}

}  // namespace lbctl
