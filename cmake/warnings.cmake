# Warnings every target of the project is built with (DESIGN.md: -Wall -Wextra clean).
add_library(secms_warnings INTERFACE)
target_compile_options(secms_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wno-sign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # GCC 12 reports a false mismatched-new-delete on Asio coroutine frames (GCC bug 109224).
  -Wno-mismatched-new-delete
  # At -O3, GCC 12 reports std::variant inside std::optional inside a coroutine frame as
  # "maybe uninitialized", and std::string concatenation as overlapping memcpy (-Wrestrict, GCC
  # bug 105329): known false positives; -O2 builds keep both warnings.
  "$<$<CONFIG:Release>:-Wno-maybe-uninitialized;-Wno-restrict>")
option(SECMS_WERROR "Treat warnings as errors" ON)
if(SECMS_WERROR)
  target_compile_options(secms_warnings INTERFACE -Werror)
endif()
