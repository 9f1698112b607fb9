# `cmake --install build --prefix /usr`: the program, its man page, bash and
# zsh completion (docgen/ writes them at build time from lbctl's own command
# definitions), and the example configs. scripts/package packs the same tree.
include(GNUInstallDirs)
install(TARGETS lbctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${LBCTL_DOC_DIR}/lbctl.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# bash-completion loads completions/NAME on demand, for the command NAME.
install(FILES ${LBCTL_DOC_DIR}/lbctl.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME lbctl)
# Debian's zsh reads vendor-completions (its $fpath), not site-functions.
install(FILES ${LBCTL_DOC_DIR}/_lbctl DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES configs/example.yaml configs/haproxy.cfg configs/haproxy-tls-cli.cfg
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# What other hosts run (README, "Production topology"): examples, not
# executables here (Debian's rule for /usr/share/doc); each goes to its host.
install(FILES configs/lb-host/lbctl-install-file DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/lb-host)
install(FILES configs/app-hosts/lbctl-ssh-provider configs/app-hosts/lbctl-app-host
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/app-hosts)
install(FILES packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
# `lbctl agent` and `lbctl serve` under systemd (disabled: postinst enables
# nothing), run as the lbctl user postinst creates, configs in /etc/lbctl/.
install(FILES packaging/systemd/lbctl-agent.service packaging/systemd/lbctl-serve.service
        DESTINATION lib/systemd/system)
