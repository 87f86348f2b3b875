# What `cmake --install` lays out, and the Debian package `cpack -G DEB` builds from it:
#   bin/housekeep
#   share/man/man1/housekeep.1, share/man/man5/housekeep.toml.5
#   share/bash-completion/completions/housekeep, share/zsh/vendor-completions/_housekeep,
#   share/fish/vendor_completions.d/housekeep.fish
#   lib/systemd/system/housekeep.service, housekeep-run@.service, housekeep-run@.timer
#   share/doc/housekeep/README.md and examples/ (crontab, Kubernetes CronJob)
include(GNUInstallDirs)

install(TARGETS housekeep RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES man/housekeep.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES man/housekeep.toml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES completions/housekeep.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME housekeep)
install(FILES completions/_housekeep DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES completions/housekeep.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
# Units belong under lib/systemd/system of the prefix (/usr/lib/systemd/system in the package).
install(FILES packaging/systemd/housekeep.service packaging/systemd/housekeep-run@.service
              packaging/systemd/housekeep-run@.timer
        DESTINATION lib/systemd/system)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES packaging/crontab/housekeep packaging/kubernetes/cronjob.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME housekeep)
set(CPACK_PACKAGE_VENDOR "housekeep")
set(CPACK_PACKAGE_CONTACT "housekeep maintainers <maintainers@housekeep.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps an application's database tidy: purges, orphans, statistics, schedules")
set(CPACK_PACKAGE_DESCRIPTION
    "housekeep purges rows past their retention period, removes orphaned rows, drops accounts\n"
    "that were never activated and reports usage statistics, in short batches that leave the\n"
    "application writing; as a one-shot command, from cron or systemd timers, or as its own\n"
    "scheduling daemon.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime dependencies come from the binary's shared libraries (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3, jq")
include(CPack)
