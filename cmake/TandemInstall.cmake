# cmake --install (DESIGN §19): the tandem CLI, its man page and bash completion, the
# static library libtandem with its public headers, tandemConfig.cmake
# (find_package(tandem) -> tandem::tandem) and tandem.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TANDEM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tandem)

install(TARGETS tandem RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS tandem_engine EXPORT tandemTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/include/tandem ${PROJECT_BINARY_DIR}/engine/include/tandem
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(EXPORT tandemTargets NAMESPACE tandem:: DESTINATION ${TANDEM_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tandemConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tandemConfig.cmake INSTALL_DESTINATION ${TANDEM_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tandemConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tandemConfig.cmake ${PROJECT_BINARY_DIR}/tandemConfigVersion.cmake
  DESTINATION ${TANDEM_CMAKE_DIR})

# The prefix as seen from lib/pkgconfig, so the installed tree can move (--prefix).
file(RELATIVE_PATH TANDEM_PC_PREFIX /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
string(REGEX REPLACE "/$" "" TANDEM_PC_PREFIX "${TANDEM_PC_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/tandem.pc.in ${PROJECT_BINARY_DIR}/tandem.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tandem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/docs/tandem.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(TANDEM_COMPLETION ${PROJECT_BINARY_DIR}/completion/tandem)
add_custom_command(OUTPUT ${TANDEM_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -DTANDEM=$<TARGET_FILE:tandem> -DOUTPUT=${TANDEM_COMPLETION}
          -P ${PROJECT_SOURCE_DIR}/cmake/write_completion.cmake
  DEPENDS tandem ${PROJECT_SOURCE_DIR}/cmake/write_completion.cmake
  COMMENT "Writing the bash completion (tandem completion bash)")
add_custom_target(tandem_completion ALL DEPENDS ${TANDEM_COMPLETION})
install(FILES ${TANDEM_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
