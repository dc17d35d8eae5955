# Target helpers in the spirit of Abseil's absl_cc_library / absl_cc_test.

# Warnings and CPU floor for our own code only (not for third-party headers).
add_library(bonafide_internal_flags INTERFACE)
target_compile_options(bonafide_internal_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers
  # x86-64-v2 (SSE4.2, POPCNT) is the floor: Hyperscan needs SSSE3 anyway, and popcount
  # becomes one instruction. Never -march=native in shared builds.
  -march=x86-64-v2
  $<$<BOOL:${BONAFIDE_WERROR}>:-Werror>)
if(BONAFIDE_SANITIZE)
  target_compile_options(bonafide_internal_flags INTERFACE
    -fsanitize=${BONAFIDE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(bonafide_internal_flags INTERFACE -fsanitize=${BONAFIDE_SANITIZE})
endif()

# bonafide_cc_library(NAME x SRCS ... DEPS ... PRIVATE_DEPS ...) -> bonafide_x, bonafide::x
#
# Always STATIC (whatever BUILD_SHARED_LIBS says): these are the in-tree parts that the CLI,
# tests and benchmarks link. The installed library (cmake/BonafideLibrary.cmake) is made of
# the same objects, which is why they are position-independent (a shared library can take
# them) and hide every symbol that bonafide/export.h does not mark (the shared library
# exports the public API only, and calls inside it bind directly, without the PLT).
function(bonafide_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(bonafide_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(bonafide::${ARG_NAME} ALIAS bonafide_${ARG_NAME})
  set_target_properties(bonafide_${ARG_NAME} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(bonafide_${ARG_NAME} PUBLIC
    ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include)
  target_link_libraries(bonafide_${ARG_NAME}
    PUBLIC ${ARG_DEPS} PRIVATE bonafide_internal_flags ${ARG_PRIVATE_DEPS})
endfunction()

# bonafide_cc_test(NAME x [COMPUTES] SRCS ... DEPS ... LABELS unit) -> test binary x, one
# CTest test.
# One CTest test per binary, not per test case: a process per case would repeat each
# suite's setup (rule compiles, scanners) hundreds of times, which under the sanitizers
# was most of CI's test time. A failure's output names the failing cases.
# COMPUTES: the test's own code does the heavy work (pixels of whole photos), so it keeps
# the build type's flags instead of BONAFIDE_TEST_CXX_FLAGS (at -O0 such a test ran 2.7x as
# long).
function(bonafide_cc_test)
  cmake_parse_arguments(ARG "COMPUTES" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} bonafide_internal_flags
    GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_COMPUTES)
    target_compile_options(${ARG_NAME} PRIVATE ${BONAFIDE_TEST_CXX_FLAGS})
  endif()
  target_compile_definitions(${ARG_NAME} PRIVATE
    BONAFIDE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    BONAFIDE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  # Outside BONAFIDE_TEST_LABELS: the target exists (others may name it) but is neither
  # built by default nor registered.
  if(BONAFIDE_TEST_LABELS)
    set(wanted FALSE)
    foreach(label IN LISTS ARG_LABELS)
      if(label IN_LIST BONAFIDE_TEST_LABELS)
        set(wanted TRUE)
      endif()
    endforeach()
    if(NOT wanted)
      set_target_properties(${ARG_NAME} PROPERTIES EXCLUDE_FROM_ALL TRUE)
      return()
    endif()
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} --gtest_brief=1)
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# bonafide_cc_bench(NAME x SRCS ... DEPS ...) -> benchmark binary x plus a bench-smoke test.
function(bonafide_cc_bench)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;SMOKE_ARGS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} bonafide_internal_flags
    benchmark::benchmark)
  target_compile_definitions(${ARG_NAME} PRIVATE
    BONAFIDE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(BONAFIDE_BUILD_TESTS)
    add_test(NAME ${ARG_NAME}.smoke
      COMMAND ${ARG_NAME} --benchmark_min_time=0.001 ${ARG_SMOKE_ARGS})
    set_tests_properties(${ARG_NAME}.smoke PROPERTIES LABELS bench-smoke)
  endif()
endfunction()

# bonafide_open_at_first_use(TARGET target DEFINE NAME LIBRARY imported-target) ->
# `-DNAME="<soname>"` on `target`, and the include directories of `imported-target`, which
# `target` does not link: it opens the library with dlopen when first needed. For libraries
# whose loading (with everything they load in turn) would cost every process its start-up
# while only some runs use them (docs/design.md, "Start-up").
function(bonafide_open_at_first_use)
  cmake_parse_arguments(ARG "" "TARGET;DEFINE;LIBRARY" "" ${ARGN})
  get_target_property(file ${ARG_LIBRARY} IMPORTED_LOCATION)
  if(NOT file)
    # pkg-config imported targets list the library file among their link libraries.
    get_target_property(links ${ARG_LIBRARY} INTERFACE_LINK_LIBRARIES)
    list(FILTER links INCLUDE REGEX "\\.so$")
    list(GET links 0 file)
  endif()
  execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${file} OUTPUT_VARIABLE headers
    RESULT_VARIABLE failed)
  if(failed OR NOT headers MATCHES "SONAME +([^\n ]+)")
    message(FATAL_ERROR "cannot read the soname of ${file} (${ARG_LIBRARY}) with ${CMAKE_OBJDUMP}")
  endif()
  target_compile_definitions(${ARG_TARGET} PRIVATE ${ARG_DEFINE}="${CMAKE_MATCH_1}")
  target_include_directories(${ARG_TARGET} PRIVATE
    $<TARGET_PROPERTY:${ARG_LIBRARY},INTERFACE_INCLUDE_DIRECTORIES>)
endfunction()
