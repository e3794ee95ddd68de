# One static library per stack module: refrtc_<name> from stack/src/<name>/*.cc.
# Modules are globbed so adding a file needs no CMake edit; CONFIGURE_DEPENDS re-globs on build.
function(refrtc_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/stack/src/${name}/*.cc)
  add_library(refrtc_${name} STATIC ${srcs})
  target_include_directories(refrtc_${name} PUBLIC ${CMAKE_SOURCE_DIR}/stack/src ${CMAKE_SOURCE_DIR}/stack/include)
  target_link_libraries(refrtc_${name} PUBLIC ${M_DEPS})
endfunction()

# One GoogleTest binary per module: test_<name> from stack/tests/<name>/*_test.cc.
function(refrtc_module_test name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/stack/tests/${name}/*_test.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(test_${name} ${srcs})
  target_link_libraries(test_${name} PRIVATE ${M_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(test_${name} PRIVATE REFRTC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  gtest_discover_tests(test_${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${name})
endfunction()
