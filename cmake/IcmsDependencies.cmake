# Every dependency comes from Debian's packages (scripts/install-deps.sh installs them).
#
# External libraries are IMPORTED targets declared here, at the top level, with
# icms_pkg_dependency(). The installed CMake package (cmake/IcmsPackage.cmake)
# recreates each one a module links, so that a consumer of the static library
# gets the same link line, and icms.pc names them in Requires.private. A module
# that needs a new library adds one line here rather than calling
# pkg_check_modules() in its own folder.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# icms_pkg_dependency(PREFIX MODULE [OPTIONAL]): the target PkgConfig::PREFIX for
# the pkg-config module MODULE. OPTIONAL ones may be absent; a module that links
# an absent one fails at configure time with CMake's own message. A macro, so
# that PREFIX_FOUND and the other pkg_check_modules() results stay visible.
macro(icms_pkg_dependency prefix module)
  cmake_parse_arguments(_icms_dep "OPTIONAL" "" "" ${ARGN})
  if(_icms_dep_OPTIONAL)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  else()
    pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET GLOBAL ${module})
  endif()
  icms_record_dependency(PkgConfig::${prefix} ${module})
endmacro()

# Remember which pkg-config module an imported target stands for.
function(icms_record_dependency target module)
  set_property(GLOBAL PROPERTY ICMS_PKG_MODULE_${target} ${module})
endfunction()

icms_pkg_dependency(SQLITE3 sqlite3)
icms_pkg_dependency(SODIUM libsodium)
icms_pkg_dependency(CJSON libcjson)
icms_pkg_dependency(CURL libcurl)
icms_pkg_dependency(GMP gmp)
icms_pkg_dependency(NATS libnats OPTIONAL)
icms_pkg_dependency(PQ libpq OPTIONAL)

# GMP under the name modules already use. IMPORTED, so that exporting a library
# that links it does not require it to be in an export set.
add_library(icms_gmp INTERFACE IMPORTED GLOBAL)
set_target_properties(icms_gmp PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::GMP)
icms_record_dependency(icms_gmp gmp)

if(ICMS_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET GLOBAL cmocka)
endif()
