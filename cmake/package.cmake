# `cpack -G DEB` (scripts/package runs it): lbctl_<version>_amd64.deb from
# the install tree of cmake/install.cmake, with its Depends computed from the
# binary by dpkg-shlibdeps (dpkg-dev). What lintian asks of a package is
# here too: a copyright file, a compressed changelog, a stripped binary.
set(LBCTL_DEB_MAINTAINER "lbctl maintainers <maintainers@users.noreply.h-seed-7d98d275.example>"
    CACHE STRING "The .deb's Maintainer field")

# The Debian release the package is built on, and so for (its Depends name
# that release's library packages): the version says it, 0.1.0+deb12 or
# 0.1.0+deb13, and the changelog's distribution is its codename.
file(STRINGS /etc/os-release _os_version_id REGEX "^VERSION_ID=")
file(STRINGS /etc/os-release _os_codename REGEX "^VERSION_CODENAME=")
string(REGEX REPLACE "^VERSION_ID=\"?([0-9]+)\"?$" "\\1" LBCTL_DEB_RELEASE "${_os_version_id}")
string(REGEX REPLACE "^VERSION_CODENAME=\"?([a-z]+)\"?$" "\\1" LBCTL_DEB_DISTRIBUTION "${_os_codename}")
if(NOT LBCTL_DEB_RELEASE MATCHES "^[0-9]+$" OR NOT LBCTL_DEB_DISTRIBUTION MATCHES "^[a-z]+$")
  set(LBCTL_DEB_RELEASE "")
  set(LBCTL_DEB_DISTRIBUTION unstable)
endif()
if(LBCTL_DEB_RELEASE)
  set(LBCTL_DEB_VERSION "${PROJECT_VERSION}+deb${LBCTL_DEB_RELEASE}")
else()
  set(LBCTL_DEB_VERSION "${PROJECT_VERSION}")
endif()

set(CPACK_PACKAGE_NAME lbctl)
set(CPACK_PACKAGE_VENDOR "lbctl")
set(CPACK_PACKAGE_VERSION ${LBCTL_DEB_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "blue-green cutover controller for servers behind HAProxy")
# The extended description, wrapped as Debian wants it (lines under 80).
set(CPACK_PACKAGE_DESCRIPTION
    "lbctl replaces a pool of application servers behind HAProxy with a new\n"
    "one: it clones and health-checks the new servers, attaches them through\n"
    "HAProxy's runtime API, drains the old servers' sessions, runs the database\n"
    "migrations before and after, and rolls back by itself on failure. Every\n"
    "step is journaled in PostgreSQL, so an interrupted cutover can be resumed\n"
    "or rolled back from any machine.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # lbctl_0.1.0+deb12_amd64.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${LBCTL_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# HAProxy usually runs on other hosts; pg_dump and pg_restore only for
# migrations.backup.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "haproxy, postgresql-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# postinst makes the lbctl system user (adduser) and /etc/lbctl/ for the
# systemd units; postrm removes them on purge when empty.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/packaging/postinst;${PROJECT_SOURCE_DIR}/packaging/postrm")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

# Debian wants /usr/share/doc/PACKAGE/changelog.gz in a native package; it
# names the version and the commit, dated from SOURCE_DATE_EPOCH when set.
string(TIMESTAMP _changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(packaging/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  COMMAND gzip -9nf -k ${PROJECT_BINARY_DIR}/packaging/changelog
  DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog
  VERBATIM)
add_custom_target(lbctl_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

include(CPack)
