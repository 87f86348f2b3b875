# What `cmake --install` lays out, and the Debian package `cpack -G DEB` builds from it:
#   bin/housekeep
#   share/man/man1/housekeep.1.gz, share/man/man5/housekeep.toml.5.gz (gzip -9n, as Debian wants)
#   share/bash-completion/completions/housekeep, share/zsh/vendor-completions/_housekeep,
#   share/fish/vendor_completions.d/housekeep.fish
#   lib/systemd/system/housekeep.service, housekeep-run@.service, housekeep-run@.timer
#   share/doc/housekeep/README.md, copyright, changelog.gz and examples/ (crontab, Kubernetes
#   CronJob)
# The package strips the binary, creates the `housekeep` system user the units run as
# (packaging/debian/postinst), and passes lintian without errors (tests/cli/test_package.sh).
include(GNUInstallDirs)

# Compressed copies, built with the binary: the man pages and the Debian changelog.
find_program(GZIP gzip REQUIRED)
set(compressed)
foreach(source man/housekeep.1 man/housekeep.toml.5 packaging/debian/changelog)
  get_filename_component(name ${source} NAME)
  set(output ${CMAKE_BINARY_DIR}/compressed/${name}.gz)
  add_custom_command(OUTPUT ${output}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/compressed
                     COMMAND sh -c "${GZIP} -9n -c '${CMAKE_SOURCE_DIR}/${source}' > '${output}'"
                     DEPENDS ${CMAKE_SOURCE_DIR}/${source}
                     VERBATIM)
  list(APPEND compressed ${output})
endforeach()
add_custom_target(compressed_docs ALL DEPENDS ${compressed})

install(TARGETS housekeep RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_BINARY_DIR}/compressed/housekeep.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_BINARY_DIR}/compressed/housekeep.toml.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES completions/housekeep.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME housekeep)
install(FILES completions/_housekeep DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES completions/housekeep.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
# Units belong under lib/systemd/system of the prefix (/usr/lib/systemd/system in the package).
install(FILES packaging/systemd/housekeep.service packaging/systemd/housekeep-run@.service
              packaging/systemd/housekeep-run@.timer
        DESTINATION lib/systemd/system)
install(FILES README.md packaging/debian/copyright ${CMAKE_BINARY_DIR}/compressed/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES packaging/crontab/housekeep packaging/kubernetes/cronjob.yaml packaging/kubernetes/deployment.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME housekeep)
set(CPACK_PACKAGE_VENDOR "housekeep")
set(CPACK_PACKAGE_CONTACT "housekeep maintainers <maintainers@housekeep.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps an application's database tidy: purges, orphans, statistics, schedules")
# One string: a list would join its parts with ';', starting every line of the control
# file's description with one.
set(CPACK_PACKAGE_DESCRIPTION "housekeep purges rows past their retention period, removes orphaned
rows, drops accounts that were never activated and reports usage
statistics, in short batches that leave the application writing; as a
one-shot command, from cron or systemd timers, or as its own daemon.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime dependencies come from the binary's shared libraries (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3, jq")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
