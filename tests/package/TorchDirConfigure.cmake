# cmake -DSOURCE_DIR=... -DTORCH_DIR=... -DWORK_DIR=... [-DGENERATOR=Ninja] -P TorchDirConfigure.cmake
# Configures SOURCE_DIR into a fresh WORK_DIR against the LibTorch of TORCH_DIR (GUI off: only the LibTorch
# choice is under test) and fails unless configuring succeeds and reports that LibTorch, with CUDA ON or OFF as
# that LibTorch's own config says.
foreach(var SOURCE_DIR TORCH_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "TorchDirConfigure: ${var} is not set")
  endif()
endforeach()
if(NOT GENERATOR)
  set(GENERATOR "Ninja")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}" "-DTorch_DIR=${TORCH_DIR}"
          -DJULESEG_BUILD_GUI=OFF -DCMAKE_BUILD_TYPE=Release
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${WORK_DIR}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring with -DTorch_DIR=${TORCH_DIR} failed (${rc}):\n${out}\n${err}")
endif()
# The Torch config that was found must be the one asked for, and its CUDA switch must be stated.
file(REAL_PATH "${TORCH_DIR}" want)
string(REGEX MATCH "juleseg: LibTorch ([0-9.]+) from ([^\n]*), CUDA (ON|OFF)" line "${out}")
if(NOT line)
  message(FATAL_ERROR "configure output names no LibTorch:\n${out}")
endif()
file(REAL_PATH "${CMAKE_MATCH_2}" got)
if(NOT got STREQUAL want)
  message(FATAL_ERROR "configure used the LibTorch in ${got}, not ${want}")
endif()
set(cuda "${CMAKE_MATCH_3}")
# Debian's LibTorch is CPU-only: its cmake config lives under /usr/lib/<triplet>/cmake/Torch.
if(want MATCHES "^/usr/lib/" AND NOT cuda STREQUAL "OFF")
  message(FATAL_ERROR "Debian's LibTorch reported CUDA ${cuda}")
endif()
message(STATUS "ok: ${line}")
