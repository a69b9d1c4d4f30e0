# Sourced by the build scripts: CMake's unity build, 16 source files a compilation. Every file that
# uses libtorch spends about 7 s instantiating <torch/torch.h>'s templates before its own code, even
# with the precompiled header; one compilation per 16 files pays that once (a clean Release build
# 1,213 s -> 331-427 s on 2 cores; README, docs/developing.md). VISTA_UNITY=0 compiles file by file, which
# also shows a file that relies on an include made by the file before it in its batch.
UNITY_BUILD=()
if [ "${VISTA_UNITY:-1}" != 0 ]; then
  UNITY_BUILD=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16)
fi
