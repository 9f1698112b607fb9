# Hardening for what ships: the flags Debian's dpkg-buildflags gives its own
# packages (lintian checks the binary for them). Not with the sanitizers or
# the fuzzer, which instrument the same places their own way; and fortify
# only where the optimizer runs, since it works from what the optimizer knows.
option(LBCTL_HARDEN "Build with Debian's hardening flags (fortify, stack protector, relro, now)" ON)
if(NOT LBCTL_HARDEN OR LBCTL_SANITIZE)
  return()
endif()
target_compile_options(lbctl_settings INTERFACE
  -fstack-protector-strong -fstack-clash-protection -fcf-protection -Wformat -Werror=format-security
  $<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2>)
target_link_options(lbctl_settings INTERFACE -Wl,-z,relro -Wl,-z,now)
