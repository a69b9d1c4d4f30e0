#include "runtime/split_mm.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/blas.h"
#include "util/error.h"

extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

namespace vista {

namespace {

// Below about a million multiply-adds a product takes tens of microseconds, and OpenBLAS runs it
// on one thread anyway; a part narrower than one of its register blocks' multiples splits badly.
constexpr int64_t kMinMultiplyAdds = int64_t{1} << 20;
constexpr int64_t kMinPart = 64;

struct SplitDecision {
  bool enabled = false;
  std::string reason;
};

SplitDecision decide() {
  const char* env = std::getenv("VISTA_SPLIT_GEMM");
  if (env && std::strcmp(env, "0") != 0 && std::strcmp(env, "1") != 0)
    fail("VISTA_SPLIT_GEMM={}: expected 0 (OpenBLAS's own threads) or 1 (products split over vista's threads)", env);
  if (env && std::strcmp(env, "0") == 0) return {false, "products on the BLAS's own threads (VISTA_SPLIT_GEMM=0)"};
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&sgemm_), &info) == 0 || info.dli_fname == nullptr)
    return {false, "products on the BLAS's own threads (sgemm_'s library unknown)"};
  const std::string path = info.dli_fname;
  // Debian's OpenBLAS is libblas.so.3 in a folder that names the variant: name both.
  const auto slash = path.find_last_of('/');
  const auto parent = slash == std::string::npos || slash == 0 ? std::string::npos : path.find_last_of('/', slash - 1);
  const std::string library = parent == std::string::npos ? path : path.substr(parent + 1);
  using GetParallel = int (*)();
  const auto get_parallel = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  if (path.find("openblas") == std::string::npos || get_parallel == nullptr)
    return {false, "products on the BLAS's own threads (" + library + " is not OpenBLAS)"};
  // 1: OpenBLAS's pthread variant, whose own pool would run beside the OpenMP threads calling it.
  if (get_parallel() == 1) return {false, "products on the BLAS's own threads (OpenBLAS's pthread variant)"};
  return {true, "products split over the threads (" + library + ")"};
}

const SplitDecision& decision() {
  static const SplitDecision d = decide();
  return d;
}

struct Operand {
  const float* data;
  bool transposed;
  int64_t ld;
};

// A row-major view of a 2-D float32 tensor, or of its transpose, as sgemm_row_major takes it.
bool as_operand(const torch::Tensor& t, Operand* out) {
  if (t.stride(1) == 1 && t.stride(0) >= std::max<int64_t>(1, t.size(1))) {
    *out = {t.data_ptr<float>(), false, t.stride(0)};
    return true;
  }
  if (t.stride(0) == 1 && t.stride(1) >= std::max<int64_t>(1, t.size(0))) {
    *out = {t.data_ptr<float>(), true, t.stride(1)};
    return true;
  }
  return false;
}

// A float32 CPU tensor of `dims` dimensions that autograd would not record a product of.
bool plain_float32(const torch::Tensor& t, int64_t dims) {
  return t.dim() == dims && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 &&
         !(t.requires_grad() && torch::GradMode::is_enabled());
}

bool splits(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& bias) {
  if (!decision().enabled || at::get_num_threads() < 2 || at::in_parallel_region()) return false;
  if (!plain_float32(a, 2) || !plain_float32(b, 2)) return false;
  if (bias.defined() && (!plain_float32(bias, 1) || bias.size(0) != b.size(1))) return false;
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  return b.size(0) == k && k > 0 && m * n * k >= kMinMultiplyAdds && std::max(m, n) >= 2 * kMinPart;
}

}  // namespace

bool split_mm_enabled() { return decision().enabled; }
std::string split_mm_summary() { return decision().reason; }

torch::Tensor mm_float32(const torch::Tensor& a_MK, const torch::Tensor& b_KN, const torch::Tensor& bias_N) {
  if (!splits(a_MK, b_KN, bias_N)) return bias_N.defined() ? at::addmm(bias_N, a_MK, b_KN) : at::mm(a_MK, b_KN);
  Operand a{}, b{};
  auto a_c = a_MK, b_c = b_KN;
  if (!as_operand(a_c, &a)) as_operand(a_c = a_MK.contiguous(), &a);
  if (!as_operand(b_c, &b)) as_operand(b_c = b_KN.contiguous(), &b);
  const auto bias_c = bias_N.defined() ? bias_N.contiguous() : torch::Tensor();
  const float* bias = bias_c.defined() ? bias_c.data_ptr<float>() : nullptr;
  const int64_t m = a_MK.size(0), k = a_MK.size(1), n = b_KN.size(1);
  RECORD_FUNCTION("vista_kernel::mm", std::vector<c10::IValue>({a_MK, b_KN}));
  auto out_MN = torch::empty({m, n}, a_MK.options());
  float* c = out_MN.data_ptr<float>();
  // The longer side of the output is split, so each part keeps its register blocks full.
  const bool by_rows = m >= n;
  const int64_t parts = at::get_num_threads(), length = by_rows ? m : n;
  at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t part = first; part < last; ++part) {
      const int64_t begin = length * part / parts, end = length * (part + 1) / parts;
      if (begin == end) continue;
      const int64_t rows = by_rows ? end - begin : m, cols = by_rows ? n : end - begin;
      const float* a_part = a.data;
      const float* b_part = b.data;
      float* c_part = c;
      if (by_rows) {
        a_part += a.transposed ? begin : begin * a.ld;
        c_part += begin * n;
      } else {
        b_part += b.transposed ? begin * b.ld : begin;
        c_part += begin;
      }
      if (bias) {
        const float* bias_part = by_rows ? bias : bias + begin;
        for (int64_t r = 0; r < rows; ++r) std::memcpy(c_part + r * n, bias_part, cols * sizeof(float));
      }
      sgemm_row_major_uncounted(a.transposed, b.transposed, rows, cols, k, 1.0f, a_part, a.ld, b_part, b.ld,
                                bias ? 1.0f : 0.0f, c_part, n);
    }
  });
  return out_MN;
}

}  // namespace vista
