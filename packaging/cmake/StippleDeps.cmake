# Third-party dependencies, all from Debian 12 packages (see README).
find_package(Torch REQUIRED)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG QUIET)
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# sentencepiece ships no CMake config; it is only linked into an isolated
# dlopen()ed module (see core/text), never into a torch process directly.
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)

# Torch's imported target carries -D_GLIBCXX_USE_CXX11_ABI and include dirs.
add_library(stipple_torch INTERFACE)
target_link_libraries(stipple_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(stipple_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

# oneDNN's own API, for Winograd convolutions (core/models/common/
# DnnlConvolution): the libdnnl.so.2 that Debian's libtorch already loads,
# with its headers from libdnnl-dev. Optional: without it every convolution
# runs torch's direct kernel.
find_path(STIPPLE_DNNL_INCLUDE_DIR dnnl.hpp)
find_library(STIPPLE_DNNL_LIBRARY NAMES dnnl)
add_library(stipple_dnnl INTERFACE)
if(STIPPLE_DNNL_INCLUDE_DIR AND STIPPLE_DNNL_LIBRARY)
  set(STIPPLE_HAVE_DNNL 1)
  target_include_directories(stipple_dnnl SYSTEM INTERFACE ${STIPPLE_DNNL_INCLUDE_DIR})
  target_link_libraries(stipple_dnnl INTERFACE ${STIPPLE_DNNL_LIBRARY})
else()
  set(STIPPLE_HAVE_DNNL 0)
  message(STATUS "oneDNN headers (libdnnl-dev) not found: no Winograd convolutions")
endif()
