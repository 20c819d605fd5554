# Installs libicms as a CMake package (find_package(icms) -> icms::icms and
# icms::icms_static) and as a pkg-config module (icms.pc).
#
# The static library carries its external libraries as $<LINK_ONLY:...> link
# items; they are imported targets of the build (cmake/IcmsDependencies.cmake),
# which an installed package cannot reference unless its config file recreates
# them. So we walk the modules' LIBS once and write, for each library, the lines
# that recreate it in icmsConfig.cmake and its name in icms.pc's
# Requires.private or Libs.private. icms_build_flags is never linked by the
# installed targets except as $<BUILD_INTERFACE:...>, so nothing of the build's
# warnings or sanitizers reaches a consumer.

include(CMakePackageConfigHelpers)

# The pkg-config module an imported target stands for, or "" if unknown.
function(icms_dependency_module target out)
  get_property(module GLOBAL PROPERTY ICMS_PKG_MODULE_${target})
  if(NOT module AND target MATCHES "^PkgConfig::(.+)$")
    # Declared with a plain pkg_check_modules(): its arguments are cached.
    set(args "${__pkg_config_arguments_${CMAKE_MATCH_1}}")
    list(FILTER args EXCLUDE REGEX
      "^(REQUIRED|QUIET|NO_CMAKE_PATH|NO_CMAKE_ENVIRONMENT_PATH|IMPORTED_TARGET|GLOBAL)$")
    list(LENGTH args n)
    if(n EQUAL 1)
      set(module "${args}")
    endif()
  endif()
  set(${out} "${module}" PARENT_SCOPE)
endfunction()

# icms_install_package(SHARED target STATIC target)
function(icms_install_package)
  cmake_parse_arguments(P "" "SHARED;STATIC" "" ${ARGN})

  get_property(modules GLOBAL PROPERTY ICMS_ALL_MODULES)
  icms_module_closure(modules ${modules})
  set(libs "")
  foreach(mod IN LISTS modules)
    get_target_property(mod_libs icms_mod_${mod} ICMS_MODULE_LIBS)
    if(mod_libs)
      list(APPEND libs ${mod_libs})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES libs)

  set(config_deps "")      # CMake lines for icmsConfig.cmake
  set(pc_requires "")      # pkg-config modules for Requires.private
  set(pc_libs "")          # flags for Libs.private
  foreach(lib IN LISTS libs)
    icms_dependency_module("${lib}" module)
    if(module)
      string(APPEND config_deps "_icms_dependency(\"${lib}\" \"${module}\")\n")
      list(APPEND pc_requires ${module})
    elseif(lib STREQUAL "Threads::Threads")
      string(APPEND config_deps "find_dependency(Threads)\n")
      if(CMAKE_THREAD_LIBS_INIT)
        list(APPEND pc_libs ${CMAKE_THREAD_LIBS_INIT})
      endif()
    elseif(TARGET "${lib}")
      message(FATAL_ERROR
        "libicms links ${lib}, which the installed package cannot recreate: declare it "
        "with icms_pkg_dependency() in cmake/IcmsDependencies.cmake")
    elseif(lib MATCHES "^-l")
      list(APPEND pc_libs ${lib})
    elseif(lib MATCHES "^[A-Za-z0-9_+.-]+$")
      list(APPEND pc_libs -l${lib})
    else()
      message(FATAL_ERROR "libicms links ${lib}: use a declared dependency or a plain library name")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES pc_requires)
  list(REMOVE_DUPLICATES pc_libs)
  list(JOIN pc_requires " " ICMS_PC_REQUIRES_PRIVATE)
  list(JOIN pc_libs " " ICMS_PC_LIBS_PRIVATE)
  set(ICMS_CONFIG_DEPENDENCIES "${config_deps}")

  set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/icms)
  install(TARGETS ${P_SHARED} ${P_STATIC} EXPORT icmsTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h")
  install(EXPORT icmsTargets NAMESPACE icms:: DESTINATION ${cmake_dir} FILE icmsTargets.cmake)

  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/icmsConfig.cmake.in
    ${PROJECT_BINARY_DIR}/icmsConfig.cmake INSTALL_DESTINATION ${cmake_dir})
  # Before 1.0 a minor release may break the ABI (docs/api-conventions.md).
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(compat SameMinorVersion)
  else()
    set(compat SameMajorVersion)
  endif()
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/icmsConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY ${compat})
  install(FILES ${PROJECT_BINARY_DIR}/icmsConfig.cmake ${PROJECT_BINARY_DIR}/icmsConfigVersion.cmake
    DESTINATION ${cmake_dir})

  # icms.pc finds its prefix from where it is installed, so that
  # `cmake --install build --prefix DIR` yields a correct file for any DIR.
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(ICMS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
    set(ICMS_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
    set(ICMS_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
  else()
    file(RELATIVE_PATH up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
    string(REGEX REPLACE "/$" "" up "${up}")
    set(ICMS_PC_PREFIX "\${pcfiledir}/${up}")
    set(ICMS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
    set(ICMS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/icms.pc.in ${PROJECT_BINARY_DIR}/icms.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/icms.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
