# Sourced by the sanitizer builds (scripts/test_sanitizers.sh, scripts/build_torch2.sh --sanitize,
# scripts/test_torch2.sh --sanitize): AddressSanitizer + UndefinedBehaviorSanitizer with gcc at -O1,
# line tables for the reports (-g1: full -g makes the libtorch-sized links slow), and the runtime
# options every run uses. Leak checking is off (libtorch keeps global state); ODR checking is off
# (the tests link some libraries twice through the fixture checker). UBSan's vptr check is left out:
# it instruments every call through a polymorphic type (each torch::nn::Module), which took a sixth
# of a file's compile time, and its types mostly live in libtorch, which is not instrumented.
SANITIZER_CXX_FLAGS="-O1 -g1 -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
SANITIZER_LINK_FLAGS="-fsanitize=address,undefined"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:detect_odr_violation=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
