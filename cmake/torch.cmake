# cmake/torch.cmake — finds LibTorch and defines the `safetune_torch` interface target.
#
# SAFETUNE_CUDA = AUTO (default) | ON | OFF
#   A CUDA-enabled LibTorch (the pip wheel, the CUDA libtorch zip) can only be found through its own
#   TorchConfig.cmake when a CUDA toolkit is installed, and libtorch_cuda.so only loads when its CUDA
#   libraries (cuDNN, cuBLAS, NCCL, ...: the wheel's nvidia-* dependencies) are there. AUTO uses
#   find_package(Torch) whenever both hold (or LibTorch is CPU-only) and otherwise links the CPU half of the
#   same LibTorch (libtorch_cpu + libc10) directly, so a machine without a toolkit, or scripts/setup's lean
#   install without the CUDA libraries, still builds and runs on CPU.
#   ON requires the CUDA path; OFF always builds CPU-only.
set(SAFETUNE_CUDA "AUTO" CACHE STRING "Build the CUDA path: AUTO, ON or OFF")
set_property(CACHE SAFETUNE_CUDA PROPERTY STRINGS AUTO ON OFF)

# Default to the project's .venv torch when the user gave no prefix. The package is located, not imported:
# scripts/setup's lean install has no CUDA libraries, without which `import torch` fails.
if(NOT CMAKE_PREFIX_PATH AND EXISTS "${CMAKE_SOURCE_DIR}/.venv/bin/python")
  execute_process(
    COMMAND "${CMAKE_SOURCE_DIR}/.venv/bin/python" -c
            "import importlib.util as u; print(u.find_spec('torch').submodule_search_locations[0] + '/share/cmake', end='')"
    OUTPUT_VARIABLE _venv_torch_prefix RESULT_VARIABLE _rc ERROR_QUIET)
  if(_rc EQUAL 0)
    set(CMAKE_PREFIX_PATH "${_venv_torch_prefix}")
    message(STATUS "safetune: using LibTorch from .venv: ${_venv_torch_prefix}")
  endif()
endif()

find_file(SAFETUNE_TORCH_CONFIG TorchConfig.cmake PATH_SUFFIXES share/cmake/Torch Torch NO_CACHE)
if(NOT SAFETUNE_TORCH_CONFIG)
  message(FATAL_ERROR "LibTorch not found. Run ./scripts/setup, or pass -DCMAKE_PREFIX_PATH=<libtorch dir> or "
                      "-DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')")
endif()
get_filename_component(SAFETUNE_TORCH_ROOT "${SAFETUNE_TORCH_CONFIG}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SAFETUNE_TORCH_ROOT}/lib")  # pip layout: torch/share/cmake/Torch -> torch/
  get_filename_component(SAFETUNE_TORCH_ROOT "${SAFETUNE_TORCH_CONFIG}/../../.." ABSOLUTE)
endif()
set(_torch_has_cuda FALSE)
set(_torch_cuda_missing "")
if(EXISTS "${SAFETUNE_TORCH_ROOT}/lib/libtorch_cuda.so")
  set(_torch_has_cuda TRUE)
  # The libraries libtorch_cuda.so needs and the dynamic loader cannot find, e.g. "libcudnn.so.9".
  execute_process(COMMAND ldd "${SAFETUNE_TORCH_ROOT}/lib/libtorch_cuda.so"
                  OUTPUT_VARIABLE _ldd_out ERROR_QUIET)
  string(REGEX MATCHALL "[^\t\n ]+ => not found" _not_found "${_ldd_out}")
  list(TRANSFORM _not_found REPLACE " => not found" "")
  string(JOIN " " _torch_cuda_missing ${_not_found})
endif()

set(_use_find_package TRUE)
if(SAFETUNE_CUDA STREQUAL "OFF" AND _torch_has_cuda)
  set(_use_find_package FALSE)
elseif(SAFETUNE_CUDA STREQUAL "AUTO" AND _torch_has_cuda)
  find_package(CUDAToolkit QUIET)
  if(_torch_cuda_missing)
    message(STATUS "safetune: LibTorch's CUDA libraries are not installed (${_torch_cuda_missing}): "
                   "building CPU-only; ./scripts/setup --full installs them")
    set(_use_find_package FALSE)
  elseif(NOT CUDAToolkit_FOUND)
    message(STATUS "safetune: LibTorch has CUDA but no CUDA toolkit was found: building CPU-only")
    set(_use_find_package FALSE)
  endif()
elseif(SAFETUNE_CUDA STREQUAL "ON" AND NOT _torch_has_cuda)
  message(FATAL_ERROR "SAFETUNE_CUDA=ON but the LibTorch at ${SAFETUNE_TORCH_ROOT} has no CUDA libraries")
elseif(SAFETUNE_CUDA STREQUAL "ON" AND _torch_cuda_missing)
  message(FATAL_ERROR "SAFETUNE_CUDA=ON but libtorch_cuda.so cannot load: ${_torch_cuda_missing} not found "
                      "(./scripts/setup --full installs the wheel's CUDA libraries)")
endif()

add_library(safetune_torch INTERFACE)
# The pip wheel's libtorch.so exports its own (devtoolset) copies of some libstdc++ symbols, e.g.
# std::filesystem::remove_all, which crash when called from our code. Naming libstdc++ before LibTorch puts
# it first in DT_NEEDED, so the dynamic linker resolves those symbols from the real libstdc++.
target_link_libraries(safetune_torch INTERFACE stdc++)
if(_use_find_package)
  find_package(Torch REQUIRED)
  target_link_libraries(safetune_torch INTERFACE ${TORCH_LIBRARIES})
  set(SAFETUNE_BUILT_WITH_CUDA ${_torch_has_cuda})
else()
  target_include_directories(safetune_torch SYSTEM INTERFACE
    "${SAFETUNE_TORCH_ROOT}/include" "${SAFETUNE_TORCH_ROOT}/include/torch/csrc/api/include")
  target_link_libraries(safetune_torch INTERFACE
    "${SAFETUNE_TORCH_ROOT}/lib/libtorch_cpu.so" "${SAFETUNE_TORCH_ROOT}/lib/libc10.so")
  set(SAFETUNE_BUILT_WITH_CUDA FALSE)
endif()
message(STATUS "safetune: LibTorch ${SAFETUNE_TORCH_ROOT}, CUDA path: ${SAFETUNE_BUILT_WITH_CUDA}")
