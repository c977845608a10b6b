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
