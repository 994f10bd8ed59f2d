# Debian package of juleseg: `cpack` in the build tree writes juleseg_<version>-<release>_<arch>.deb.
# Installs both programs, their man pages, the desktop entry, AppStream metainfo, the icon, the copyright
# file and the Debian changelog. Included at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)

set(JULESEG_DEB_RELEASE 1)
set(JULESEG_DEB_VERSION "${PROJECT_VERSION}-${JULESEG_DEB_RELEASE}")
set(JULESEG_MAINTAINER "juleseg developers <juleseg@example.org>")
# The release date goes into the man pages, the metainfo and the changelog instead of the build time, so
# two builds of one release give identical documentation files.
set(JULESEG_RELEASE_DATE "2026-11-24")
set(JULESEG_RELEASE_DATE_RFC2822 "Tue, 24 Nov 2026 12:00:00 +0000")

set(_pkg_src "${CMAKE_CURRENT_LIST_DIR}")
set(_pkg_out "${CMAKE_BINARY_DIR}/packaging")
file(MAKE_DIRECTORY "${_pkg_out}")
find_program(JULESEG_GZIP gzip REQUIRED)

configure_file("${_pkg_src}/changelog.in" "${_pkg_out}/changelog.Debian" @ONLY)
configure_file("${_pkg_src}/juleseg-cli.1.in" "${_pkg_out}/juleseg-cli.1.in" @ONLY)

# Debian wants man pages and changelogs compressed with -9 and -n (no name or time stamp inside).
set(_pkg_docs "${_pkg_out}/juleseg-cli.1.gz" "${_pkg_out}/changelog.Debian.gz")
add_custom_command(
  OUTPUT "${_pkg_out}/juleseg-cli.1.gz"
  COMMAND sh "${_pkg_src}/gen-cli-manpage.sh" "$<TARGET_FILE:juleseg-cli>" "${_pkg_out}/juleseg-cli.1.in"
          "${_pkg_out}/juleseg-cli.1"
  COMMAND "${JULESEG_GZIP}" -9nf "${_pkg_out}/juleseg-cli.1"
  DEPENDS juleseg-cli "${_pkg_src}/gen-cli-manpage.sh" "${_pkg_out}/juleseg-cli.1.in"
  COMMENT "Generating the juleseg-cli(1) man page from the subcommands' --help"
  VERBATIM)
add_custom_command(
  OUTPUT "${_pkg_out}/changelog.Debian.gz"
  COMMAND "${JULESEG_GZIP}" -9nkf "${_pkg_out}/changelog.Debian"
  DEPENDS "${_pkg_out}/changelog.Debian"
  VERBATIM)
if(JULESEG_BUILD_GUI)
  configure_file("${_pkg_src}/juleseg.1.in" "${_pkg_out}/juleseg.1" @ONLY)
  configure_file("${_pkg_src}/juleseg.metainfo.xml.in" "${_pkg_out}/org.example.juleseg.metainfo.xml" @ONLY)
  add_custom_command(
    OUTPUT "${_pkg_out}/juleseg.1.gz"
    COMMAND "${JULESEG_GZIP}" -9nkf "${_pkg_out}/juleseg.1"
    DEPENDS "${_pkg_out}/juleseg.1"
    VERBATIM)
  list(APPEND _pkg_docs "${_pkg_out}/juleseg.1.gz")
endif()
add_custom_target(juleseg-package-docs ALL DEPENDS ${_pkg_docs})

install(FILES "${_pkg_out}/juleseg-cli.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${_pkg_src}/copyright" "${_pkg_out}/changelog.Debian.gz" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
if(JULESEG_BUILD_GUI)
  install(FILES "${_pkg_out}/juleseg.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
  install(FILES "${CMAKE_SOURCE_DIR}/resources/juleseg.desktop" DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")
  install(FILES "${_pkg_out}/org.example.juleseg.metainfo.xml" DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")
  install(FILES "${CMAKE_SOURCE_DIR}/resources/icons/juleseg.svg"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME juleseg)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "juleseg developers")
set(CPACK_PACKAGE_CONTACT "${JULESEG_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "unsupervised segmentation of 3D images with JULE and k-means")
set(CPACK_PACKAGE_DESCRIPTION [=[
juleseg divides 3D medical and micro-CT images into regions without any
annotated training data (the method of Moriya et al., 2018). A small 3D
convolutional network learns features of image patches by JULE (joint
agglomerative clustering and representation learning), k-means groups the
features of every patch of the volume into K regions, and the labels are
painted back onto the volume.

The package contains the Qt desktop application juleseg, with slice views,
parameter panels and a K picker, and the command line juleseg-cli, which
runs the same engine without a display. Volumes are read from NIfTI-1,
TIFF stacks and DICOM series.]=])

set(CPACK_DEBIAN_PACKAGE_NAME juleseg)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${JULESEG_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${JULESEG_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
find_program(JULESEG_DPKG dpkg)
if(JULESEG_DPKG)
  execute_process(COMMAND "${JULESEG_DPKG}" --print-architecture
                  OUTPUT_VARIABLE CPACK_DEBIAN_PACKAGE_ARCHITECTURE OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
# dpkg-shlibdeps computes Depends from the libraries the binaries link (Qt, VTK, LibTorch, DCMTK, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(JULESEG_BUILD_GUI)
  # The window and toolbar icons are SVG, which Qt draws through the plugins in libqt6svg6; no binary
  # links QtSvg itself, so dpkg-shlibdeps cannot find this one.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS libqt6svg6)
endif()
# Directories in the package are 0755 and control files 0644/0755 whatever the builder's umask is.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
include(CPack)
