# `cmake --build BUILD --target package`: a Debian package of what
# `cmake --install` installs, into /usr, named epcal_VERSION_ARCH.deb.
# Its dependencies come from dpkg-shlibdeps (the libraries the binaries
# really load); the systemd units, the crontab line and the nginx snippet
# are examples in /usr/share/doc/epcal/examples, enabled nowhere. The files
# that name a path (epcal.pc, the examples) are written at install time, so
# any build tree makes a package with /usr paths.
set(EPCAL_PACKAGE_MAINTAINER "epcal maintainers <maintainers@epcal.example.org>"
  CACHE STRING "The Debian package's Maintainer field")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME epcal)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${EPCAL_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "episode data in CSV to iCalendar (RFC 5545) feeds")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "epcal turns episode data in CSV into iCalendar feeds, one event per
release date, for calendar apps to subscribe to: stable UIDs, atomic and
change-aware writes for cron jobs, per-season feeds, and an HTTP server
(epcal serve). The library libepcal, which the command is built on, is
not in this package.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The command and its documentation (install component "epcal"), not the
# library's development files (component "dev"): the command links libepcal
# statically, and a library belongs in packages of its own (libepcal0,
# libepcal-dev).
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};epcal;epcal;/")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# Install into the staging directory with DESTDIR, so that the prefix the
# install-time files see is /usr, not the staging path.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME_DEFAULT ON)
include(CPack)

# What Debian asks of every package's documentation: the copyright and a
# changelog (compressed; dated by SOURCE_DATE_EPOCH when set). Installed by
# `cmake --install` too, into share/doc/epcal.
find_program(GZIP gzip REQUIRED)
string(TIMESTAMP EPCAL_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(${PROJECT_SOURCE_DIR}/contrib/debian/changelog.in
  ${PROJECT_BINARY_DIR}/contrib/debian/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/contrib/debian/changelog.gz
  COMMAND ${GZIP} -9n -c ${PROJECT_BINARY_DIR}/contrib/debian/changelog
          > ${PROJECT_BINARY_DIR}/contrib/debian/changelog.gz
  DEPENDS ${PROJECT_BINARY_DIR}/contrib/debian/changelog VERBATIM)
add_custom_target(changelog ALL
  DEPENDS ${PROJECT_BINARY_DIR}/contrib/debian/changelog.gz)
install(FILES ${PROJECT_SOURCE_DIR}/contrib/debian/copyright
  ${PROJECT_BINARY_DIR}/contrib/debian/changelog.gz
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
