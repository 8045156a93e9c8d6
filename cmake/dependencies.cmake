# Every third-party library comes from Debian bookworm packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(P11KIT REQUIRED IMPORTED_TARGET p11-kit-1)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(GTest REQUIRED)

# librnp ships no CMake or pkg-config file on bookworm.
find_path(RNP_INCLUDE_DIR rnp/rnp.h REQUIRED)
find_library(RNP_LIBRARY rnp REQUIRED)
add_library(rnp::rnp UNKNOWN IMPORTED)
set_target_properties(rnp::rnp PROPERTIES IMPORTED_LOCATION ${RNP_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${RNP_INCLUDE_DIR})

# Boost.Asio/Beast are header-only here; coroutines need C++20, which the project sets.
add_library(secms_boost INTERFACE)
target_link_libraries(secms_boost INTERFACE Boost::headers Boost::json Boost::url OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
# Beast's string_view is boost::core::string_view, which converts to and from std::string_view;
# BOOST_BEAST_USE_STD_STRING_VIEW no longer changes that (Boost 1.81 only prints a deprecation
# note for it), so it is not set.
target_compile_definitions(secms_boost INTERFACE BOOST_ASIO_NO_DEPRECATED)

# secms_module(NAME SOURCES... [DEPS ...]) makes library secms_NAME; secms_module_test(NAME SOURCES... DEPS ...)
# makes a GoogleTest binary NAME_test registered with CTest.
function(secms_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(secms_${name} STATIC ${M_SOURCES})
  target_include_directories(secms_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(secms_${name} PUBLIC ${M_DEPS} PRIVATE secms_warnings)
endfunction()

function(secms_module_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name}_test ${T_SOURCES})
  target_link_libraries(${name}_test PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main secms_warnings)
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120
    ENVIRONMENT "SECMS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
