# libbonafide: the library that services embed (docs/embedding.md), and its installation.
#
# It is made of the objects of the internal bonafide_<x> libraries (bonafide_cc_library),
# compiled once: BONAFIDE_LIBRARY_ROOTS below and everything they link, transitively. So a
# library that the scanner starts to link is in libbonafide without a change here; a
# public header implemented in a library the roots do not link needs its root added.
# The relay and the portal are the CLI's, not the library's.
#
# Targets:
#   bonafide_static  libbonafide.a   (exported as bonafide::bonafide_static)
#   bonafide_shared  libbonafide.so  (exported as bonafide::bonafide_shared)
#   bonafide::bonafide  the one of the kind BUILD_SHARED_LIBS chooses
# BONAFIDE_STATIC_AND_SHARED builds (and installs) the other kind as well, from the same
# objects: one more archive or link, no compile.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BONAFIDE_LIBRARY_ROOTS scanner outbox_writer)
# What include/bonafide/ includes: the consumer compiles against these headers.
set(BONAFIDE_LIBRARY_PUBLIC_DEPS absl::status absl::statusor)

# Collects the internal libraries reachable from `roots` into `parts_var` and everything
# else they link (third-party targets) into `external_var`. A conditional dependency
# written as $<$<BOOL:...>:bonafide::x> is followed only when bonafide::x exists, which is
# how rules/CMakeLists.txt writes the Hyperscan backend.
function(bonafide_library_parts parts_var external_var)
  set(parts "")
  set(external "")
  set(queue ${ARGN})
  while(queue)
    list(POP_FRONT queue name)
    if(name IN_LIST parts)
      continue()
    endif()
    get_target_property(type bonafide_${name} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY")  # an umbrella such as bonafide::rules
      get_target_property(links bonafide_${name} INTERFACE_LINK_LIBRARIES)
    else()
      list(APPEND parts ${name})
      get_target_property(links bonafide_${name} LINK_LIBRARIES)
    endif()
    foreach(item IN LISTS links)
      if(item MATCHES "bonafide(::|_)([a-z0-9_]+)")
        set(dep ${CMAKE_MATCH_2})
        if(NOT dep STREQUAL "internal_flags" AND TARGET bonafide_${dep})
          list(APPEND queue ${dep})
        endif()
      elseif(NOT item IN_LIST external)
        list(APPEND external ${item})
      endif()
    endforeach()
  endwhile()
  list(SORT parts)
  set(${parts_var} ${parts} PARENT_SCOPE)
  set(${external_var} ${external} PARENT_SCOPE)
endfunction()

bonafide_library_parts(BONAFIDE_LIBRARY_PARTS BONAFIDE_LIBRARY_EXTERNAL_DEPS ${BONAFIDE_LIBRARY_ROOTS})
list(REMOVE_ITEM BONAFIDE_LIBRARY_EXTERNAL_DEPS ${BONAFIDE_LIBRARY_PUBLIC_DEPS})
list(TRANSFORM BONAFIDE_LIBRARY_PARTS REPLACE "(.+)" "$<TARGET_OBJECTS:bonafide_\\1>"
  OUTPUT_VARIABLE bonafide_objects)

# ABI policy (docs/embedding.md): before 1.0 every minor version may break the ABI, so the
# SONAME carries major.minor; from 1.0 on only a major version may.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(BONAFIDE_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  set(bonafide_compatibility SameMinorVersion)
else()
  set(BONAFIDE_SOVERSION ${PROJECT_VERSION_MAJOR})
  set(bonafide_compatibility SameMajorVersion)
endif()

if(BUILD_SHARED_LIBS)
  set(bonafide_default_kind shared)
else()
  set(bonafide_default_kind static)
endif()
if(BONAFIDE_STATIC_AND_SHARED)
  set(bonafide_kinds static shared)
else()
  set(bonafide_kinds ${bonafide_default_kind})
endif()

foreach(kind IN LISTS bonafide_kinds)
  string(TOUPPER ${kind} type)
  add_library(bonafide_${kind} ${type} ${bonafide_objects})
  set_target_properties(bonafide_${kind} PROPERTIES
    OUTPUT_NAME bonafide
    EXPORT_NAME bonafide_${kind}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${BONAFIDE_SOVERSION})
  # Only include/ (and the generated version.h): the internal headers stay in the tree.
  target_include_directories(bonafide_${kind} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(bonafide_${kind} PUBLIC cxx_std_20)
  target_link_libraries(bonafide_${kind}
    PUBLIC ${BONAFIDE_LIBRARY_PUBLIC_DEPS} PRIVATE ${BONAFIDE_LIBRARY_EXTERNAL_DEPS})
  install(TARGETS bonafide_${kind} EXPORT bonafide-${kind}-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT bonafide-${kind}-targets NAMESPACE bonafide::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bonafide)
  # The build tree as a package too: find_package(bonafide) with bonafide_DIR=<build>/cmake.
  export(EXPORT bonafide-${kind}-targets NAMESPACE bonafide::
    FILE ${PROJECT_BINARY_DIR}/cmake/bonafide-${kind}-targets.cmake)
endforeach()
if(TARGET bonafide_shared AND BONAFIDE_SANITIZE)
  target_link_options(bonafide_shared PRIVATE -fsanitize=${BONAFIDE_SANITIZE})
elseif(TARGET bonafide_shared AND NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize")
  # Every dependency is linked: a missing part or library fails here, not in a consumer.
  # (Not in instrumented builds: the sanitizer runtime comes with the program.)
  target_link_options(bonafide_shared PRIVATE LINKER:--no-undefined)
endif()
add_library(bonafide::bonafide ALIAS bonafide_${bonafide_default_kind})

# --- headers, package files, pkg-config ----------------------------------------------------
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bonafide
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/bonafide/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/bonafide)

set(bonafide_cmake_dir ${PROJECT_BINARY_DIR}/cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bonafideConfig.cmake.in
  ${bonafide_cmake_dir}/bonafideConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bonafide
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file(${bonafide_cmake_dir}/bonafideConfigVersion.cmake
  COMPATIBILITY ${bonafide_compatibility})
configure_file(${PROJECT_SOURCE_DIR}/cmake/bonafide-deps.cmake
  ${bonafide_cmake_dir}/bonafide-deps.cmake COPYONLY)
install(FILES ${bonafide_cmake_dir}/bonafideConfig.cmake
  ${bonafide_cmake_dir}/bonafideConfigVersion.cmake ${bonafide_cmake_dir}/bonafide-deps.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bonafide)

# bonafide.pc: the third-party targets above as pkg-config modules (Requires.private) or
# flags (Libs.private), for `pkg-config --static`. A new third-party dependency of the
# library needs its line here (configuring fails until it has one).
set(bonafide_pc_requires_private "")
set(bonafide_pc_libs_private "")
foreach(dep IN LISTS BONAFIDE_LIBRARY_EXTERNAL_DEPS)
  if(dep MATCHES "^absl::(.+)$")
    list(APPEND bonafide_pc_requires_private absl_${CMAKE_MATCH_1})
  elseif(dep MATCHES "^OpenCV::(.+)$")
    list(APPEND bonafide_pc_libs_private -lopencv_${CMAKE_MATCH_1})
  elseif(dep STREQUAL "Threads::Threads")
    list(APPEND bonafide_pc_libs_private -pthread)
  else()
    set(pc_names TBB::tbb=tbb simdjson::simdjson=simdjson yaml-cpp=yaml-cpp
      SQLite::SQLite3=sqlite3 ZLIB::ZLIB=zlib PkgConfig::RE2=re2 PkgConfig::HS=libhs
      PkgConfig::ZSTD=libzstd)
    list(FILTER pc_names INCLUDE REGEX "^${dep}=")
    if(NOT pc_names)
      message(FATAL_ERROR "libbonafide links ${dep}: give it its pkg-config module in "
                          "cmake/BonafideLibrary.cmake")
    endif()
    string(REGEX REPLACE "^.*=" "" pc_name "${pc_names}")
    list(APPEND bonafide_pc_requires_private ${pc_name})
  endif()
endforeach()
list(REMOVE_DUPLICATES bonafide_pc_requires_private)
list(REMOVE_DUPLICATES bonafide_pc_libs_private)
list(REVERSE bonafide_pc_libs_private)  # a library before the ones it needs
list(TRANSFORM BONAFIDE_LIBRARY_PUBLIC_DEPS REPLACE "^absl::" "absl_"
  OUTPUT_VARIABLE bonafide_pc_requires)
list(JOIN bonafide_pc_requires " " BONAFIDE_PC_REQUIRES)
list(JOIN bonafide_pc_requires_private " " BONAFIDE_PC_REQUIRES_PRIVATE)
list(JOIN bonafide_pc_libs_private " " BONAFIDE_PC_LIBS_PRIVATE)
# The prefix relative to the .pc file, so that an installed tree can be moved (and
# `cmake --install --prefix DIR` needs no reconfiguration).
set(bonafide_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${bonafide_pc_dir}")
  set(BONAFIDE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  string(REGEX REPLACE "[^/]+" ".." bonafide_pc_up "${bonafide_pc_dir}")
  set(BONAFIDE_PC_PREFIX "\${pcfiledir}/${bonafide_pc_up}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/bonafide.pc.in ${PROJECT_BINARY_DIR}/bonafide.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/bonafide.pc DESTINATION ${bonafide_pc_dir})
