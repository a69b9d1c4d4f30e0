# Which libtorch vista builds against, and the two things that differ between Debian's libtorch
# (the default) and the PyPI torch wheel (scripts/build_torch2.sh):
#   vista_fmt      fmt for every library. The wheel ships fmt 11 headers in its include folder,
#                  which then shadow Debian's fmt 9 headers for every file that also sees torch's
#                  includes; mixing them breaks the link, so with the wheel all of vista uses the
#                  wheel's fmt header-only.
#   torch::cudart  torch's CMake config links the CUDA runtime of the system toolkit, whose major
#                  version need not match the wheel's; VISTA_CUDA_RUNTIME (the wheel's libcudart)
#                  replaces it so that one CUDA runtime is loaded.
find_package(Torch REQUIRED)
set(VISTA_TORCH_VERSION "${Torch_VERSION}")
if(NOT VISTA_TORCH_VERSION)
  set(VISTA_TORCH_VERSION "unknown")
endif()

add_library(vista_fmt INTERFACE)
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt/base.h")
  message(STATUS "vista: fmt header-only from the torch install (${TORCH_INSTALL_PREFIX}/include/fmt)")
  target_include_directories(vista_fmt SYSTEM INTERFACE "${TORCH_INSTALL_PREFIX}/include")
  target_compile_definitions(vista_fmt INTERFACE FMT_HEADER_ONLY=1)
else()
  find_package(fmt REQUIRED)
  target_link_libraries(vista_fmt INTERFACE fmt::fmt)
endif()

set(VISTA_CUDA_RUNTIME "" CACHE FILEPATH "CUDA runtime library that torch::cudart should link (the torch wheel's)")
if(VISTA_CUDA_RUNTIME AND TARGET torch::cudart)
  set_property(TARGET torch::cudart PROPERTY INTERFACE_LINK_LIBRARIES "${VISTA_CUDA_RUNTIME}")
  set_property(TARGET torch::cudart PROPERTY INTERFACE_INCLUDE_DIRECTORIES "")
endif()
# NCCL and CUDA runtime headers matching the libtorch (the wheel's nvidia-* packages): with them
# vista compiles ProcessGroupNCCL in (src/dist).
set(VISTA_NCCL_INCLUDE_DIR "" CACHE PATH "nccl.h of the NCCL libtorch uses (enables the NCCL process group)")
set(VISTA_CUDA_INCLUDE_DIR "" CACHE STRING "CUDA library header folders (;-list) of the CUDA libtorch was built with")
# torch's config adds the system toolkit's NVRTC by path; vista never calls NVRTC itself.
list(FILTER TORCH_LIBRARIES EXCLUDE REGEX "libnvrtc")

# vista_torch: the libtorch vista's libraries and programs link. With a CUDA libtorch that is
# libtorch_cpu alone, and the CUDA half (libtorch_cuda, cuBLAS, cuDNN, NCCL) comes in through
# vista's CUDA plugin (src/dist, runtime/cuda_support.h), loaded at start-up only where an NVIDIA
# driver is: linked into the program, those libraries held about 390 MB resident on a CPU-only
# machine before any work began.
add_library(vista_torch INTERFACE)
if(TARGET torch_cuda AND TARGET torch_cpu_library)
  set(VISTA_CUDA_PLUGIN ON)
  if(NOT VISTA_NCCL_INCLUDE_DIR)
    message(FATAL_ERROR "vista: the CUDA plugin needs NCCL's header: pass -DVISTA_NCCL_INCLUDE_DIR (scripts/build_torch2.sh does)")
  endif()
  target_link_libraries(vista_torch INTERFACE torch_cpu_library)
  target_include_directories(vista_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
  if(TORCH_CXX_FLAGS)
    separate_arguments(VISTA_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
    target_compile_options(vista_torch INTERFACE ${VISTA_TORCH_CXX_FLAGS})
  endif()
  set(VISTA_CUDA_PLUGIN_PATH "${CMAKE_BINARY_DIR}/${CMAKE_SHARED_MODULE_PREFIX}vista_cuda${CMAKE_SHARED_MODULE_SUFFIX}")
  message(STATUS "vista: libtorch_cpu linked; CUDA through the plugin ${VISTA_CUDA_PLUGIN_PATH}")
else()
  set(VISTA_CUDA_PLUGIN OFF)
  target_link_libraries(vista_torch INTERFACE ${TORCH_LIBRARIES})
endif()
message(STATUS "vista: libtorch ${VISTA_TORCH_VERSION} from ${TORCH_INSTALL_PREFIX}")

# Debian's libtorch calls BLAS through libblas.so.3, which Debian's alternatives point at OpenBLAS's
# pthread variant when it is installed: its own thread pool then spins against libtorch's OpenMP
# pool (on 2 cores: 1.5x slower steps, 4x the system time). The OpenMP variant shares libtorch's
# pool, so vista's executables load it first, whatever the alternatives say. DT_RPATH (not
# RUNPATH) because the lookup is for libtorch's dependency, not the executable's own.
set(VISTA_OPENBLAS_OPENMP_DIR "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp")
if(TORCH_INSTALL_PREFIX STREQUAL "/usr" AND EXISTS "${VISTA_OPENBLAS_OPENMP_DIR}/libblas.so.3")
  message(STATUS "vista: BLAS from ${VISTA_OPENBLAS_OPENMP_DIR} (one OpenMP thread pool)")
  add_link_options("LINKER:--disable-new-dtags" "LINKER:-rpath,${VISTA_OPENBLAS_OPENMP_DIR}")
endif()

# libtorch's at::parallel_for is inline in its headers, and runs in parallel only where the file
# that calls it is compiled with OpenMP (_OPENMP); without it vista's own kernels (rotary, AdamW,
# the attention blocks) ran on one thread. So libtorch's users compile with -fopenmp
# (vista_openmp, linked by vista_runtime and the precompiled header) and link the OpenMP runtime
# libtorch itself loads: the wheel's own libgomp, or the system's for Debian's libtorch. Both are
# libgomp.so.1, so the process holds one OpenMP pool either way.
find_package(OpenMP REQUIRED COMPONENTS CXX)
add_library(vista_openmp INTERFACE)
target_compile_options(vista_openmp INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${OpenMP_CXX_FLAGS}>)
file(GLOB VISTA_TORCH_GOMP "${TORCH_INSTALL_PREFIX}/lib/libgomp*.so*")
if(VISTA_TORCH_GOMP AND NOT TORCH_INSTALL_PREFIX STREQUAL "/usr")
  list(GET VISTA_TORCH_GOMP 0 VISTA_TORCH_GOMP)
  message(STATUS "vista: OpenMP runtime ${VISTA_TORCH_GOMP} (libtorch's own)")
  target_link_libraries(vista_openmp INTERFACE "${VISTA_TORCH_GOMP}")
else()
  target_link_libraries(vista_openmp INTERFACE OpenMP::OpenMP_CXX)
endif()

# runtime/blas.cpp calls sgemm_ of the BLAS libtorch computes with. Debian's libtorch reaches
# libblas.so.3 only as its own dependency, which the linker does not search, so it is named here
# (the OpenMP variant where it is installed). The wheel's libtorch_cpu exports MKL's BLAS, whose
# single-threaded sgemm on AMD CPUs runs a fifth slower than OpenBLAS's: where Debian's OpenBLAS
# (OpenMP variant) is installed, it is linked ahead of libtorch_cpu, so that its BLAS symbols come
# first for vista and for libtorch alike (a step of the bench 13-15% shorter, docs/performance.md).
# Its libgomp.so.1 is then the wheel's, already loaded under that soname: one OpenMP pool.
set(VISTA_BLAS_LIBRARIES "")
if(NOT TORCH_INSTALL_PREFIX STREQUAL "/usr" AND EXISTS "${VISTA_OPENBLAS_OPENMP_DIR}/libopenblas.so.0")
  set(VISTA_BLAS_LIBRARIES "${VISTA_OPENBLAS_OPENMP_DIR}/libopenblas.so.0")
  message(STATUS "vista: BLAS from ${VISTA_BLAS_LIBRARIES}, ahead of the wheel's MKL")
  # Among the link options, which come before every library on the link line: first in the
  # program's NEEDED entries, and kept though libtorch_cpu already defines its symbols.
  add_link_options("LINKER:--no-as-needed,${VISTA_BLAS_LIBRARIES}")
elseif(TORCH_INSTALL_PREFIX STREQUAL "/usr")
  if(EXISTS "${VISTA_OPENBLAS_OPENMP_DIR}/libblas.so.3")
    set(VISTA_BLAS_LIBRARIES "${VISTA_OPENBLAS_OPENMP_DIR}/libblas.so.3")
  else()
    find_library(VISTA_BLAS_LIBRARY NAMES blas libblas.so.3)
    if(NOT VISTA_BLAS_LIBRARY)
      message(FATAL_ERROR "vista: no libblas for Debian's libtorch (install libopenblas0-openmp: scripts/install_deps.sh)")
    endif()
    set(VISTA_BLAS_LIBRARIES "${VISTA_BLAS_LIBRARY}")
  endif()
endif()
