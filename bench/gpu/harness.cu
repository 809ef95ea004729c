// The GPU bundle's harness (bench/gpu/run.sh builds it with nvcc): every
// kernel of the bundle (kernels.h) checked on the GPU against its CPU
// reference at awkward sizes, then matmul (fp32, 4096^3) timed against cuBLAS
// SGEMM and softmax (fp32, 8192 x 8192) against a device-to-device copy of
// the same bytes, in the same run, with a table naming the card.
//
//   harness [--check-only | --bench-only] [--runs R]
// Exit status: 0 when every check passed, 1 otherwise, 2 for a CUDA error.
//
// The accl kernels are called through their uniform entries K.packed (args[i]
// points to K's i-th argument; on the GPU the stream last), so one loop serves
// every kernel whatever its signature. Inputs are multiples of 1/64 in
// [-1, 1] (exact in f16 and bf16); outputs start from the same bytes on both
// sides. A float output passes where |gpu - ref| <= tol * max(1, |ref|), tol
// 1e-3 for f32 and f64, 1e-2 for f16 and bf16; integers must be equal.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "accl.h"

enum { H_IN, H_OUT, H_INOUT, H_SCALAR };
enum { H_F32, H_F64, H_F16, H_BF16, H_I8, H_U8, H_I16, H_I32, H_U32, H_I64, H_BOOL };

struct HParam {
    const char *name;
    int mode;
    int elem;
    int ndims;
    int dims[8];   // >= 0: a size's index; < 0: the literal -1 - d
};

struct HKernel {
    const char *name;
    int (*gpu)(void **);
    int (*ref)(void **);
    int nsizes;
    const char *sizes[8];
    int nparams;
    HParam params[16];
};

#include "kernels.h"

#define CK(call)                                                                                  \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) {                                                                  \
            fprintf(stderr, "harness: %s: %s (%s:%d)\n", #call, cudaGetErrorString(e_), __FILE__, \
                    __LINE__);                                                                    \
            exit(2);                                                                              \
        }                                                                                         \
    } while (0)

static int elem_bytes(int e)
{
    switch (e) {
    case H_F64: case H_I64: return 8;
    case H_F32: case H_I32: case H_U32: return 4;
    case H_F16: case H_BF16: case H_I16: return 2;
    default: return 1;
    }
}

static bool elem_float(int e) { return e == H_F32 || e == H_F64 || e == H_F16 || e == H_BF16; }

// Bits of an f16 holding x, exact for the multiples of 1/64 in [-1, 1] used here.
static uint16_t f16_bits(float x)
{
    if (x == 0)
        return 0;
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t sign = (u >> 16) & 0x8000, exp = ((u >> 23) & 0xff) - 127 + 15, mant = (u >> 13) & 0x3ff;
    return (uint16_t)(sign | (exp << 10) | mant);
}

static float f16_value(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v = exp == 0 ? std::ldexp((float)mant, -24) : exp == 31 ? INFINITY : std::ldexp((float)(mant | 0x400), exp - 25);
    return sign ? -v : v;
}

static double load(const void *p, int e, int64_t i)
{
    switch (e) {
    case H_F32: return ((const float *)p)[i];
    case H_F64: return ((const double *)p)[i];
    case H_F16: return f16_value(((const uint16_t *)p)[i]);
    case H_BF16: {
        uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    case H_I8: return ((const int8_t *)p)[i];
    case H_U8: case H_BOOL: return ((const uint8_t *)p)[i];
    case H_I16: return ((const int16_t *)p)[i];
    case H_I32: return ((const int32_t *)p)[i];
    case H_U32: return ((const uint32_t *)p)[i];
    default: return (double)((const int64_t *)p)[i];
    }
}

static uint64_t rng = 1;
static int rng_small(int span)   // uniform in [-span, span]
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((rng >> 33) % (uint64_t)(2 * span + 1)) - span;
}

static void fill(void *p, int e, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x = rng_small(64) / 64.0f;
        switch (e) {
        case H_F32: ((float *)p)[i] = x; break;
        case H_F64: ((double *)p)[i] = x; break;
        case H_F16: ((uint16_t *)p)[i] = f16_bits(x); break;
        case H_BF16: {
            uint32_t u;
            memcpy(&u, &x, 4);
            ((uint16_t *)p)[i] = (uint16_t)(u >> 16);
            break;
        }
        case H_BOOL: ((uint8_t *)p)[i] = (uint8_t)(rng_small(1) != 0); break;
        default: {
            int64_t v = e == H_U8 || e == H_U32 ? rng_small(8) + 8 : rng_small(8);
            memcpy((char *)p + i * elem_bytes(e), &v, (size_t)elem_bytes(e));   // little-endian
        }
        }
    }
}

static int64_t count_of(const HParam &p, const int64_t *sizes)
{
    int64_t n = 1;
    for (int d = 0; d < p.ndims; d++)
        n *= p.dims[d] >= 0 ? sizes[p.dims[d]] : -1 - p.dims[d];
    return n;
}

// One call's arguments on one side (host for the reference, device for the GPU).
struct Side {
    std::vector<void *> ptrs;        // per param: the tensor's data
    std::vector<uint64_t> scalars;   // per param: the scalar's bits
    std::vector<int64_t> sizes;
    void *stream = nullptr;
    std::vector<void *> packed;

    void pack(const HKernel &k)
    {
        packed.assign((size_t)(k.nparams + k.nsizes + 1), nullptr);
        for (int i = 0; i < k.nparams; i++)
            packed[i] = k.params[i].mode == H_SCALAR ? (void *)&scalars[i] : (void *)&ptrs[i];
        for (int s = 0; s < k.nsizes; s++)
            packed[k.nparams + s] = &sizes[s];
        packed[k.nparams + k.nsizes] = &stream;
    }
};

static void scalar_value(const HParam &p, uint64_t *bits)
{
    *bits = 0;
    if (p.elem == H_F32) {
        float v = strcmp(p.name, "eps") == 0 ? 1e-5f : 0.5f;
        memcpy(bits, &v, 4);
    } else if (p.elem == H_F64) {
        double v = strcmp(p.name, "eps") == 0 ? 1e-5 : 0.5;
        memcpy(bits, &v, 8);
    } else {
        *bits = 1;   // 1 of any integer type, true
    }
}

static void gpu_failed(const char *what, int rc)
{
    printf("  %s: %s (code %d): %s\n", what, accl_strerror(rc), rc, accl_gpu_error_detail());
}

// Kernel k at sizes: the reference on the CPU, the kernel on the GPU, every
// output compared. Returns whether it passed.
static bool check(const HKernel &k, const int64_t *sizes)
{
    Side ref, dev;
    ref.ptrs.assign((size_t)k.nparams, nullptr);
    dev.ptrs.assign((size_t)k.nparams, nullptr);
    ref.scalars.assign((size_t)k.nparams, 0);
    ref.sizes.assign(sizes, sizes + k.nsizes);
    std::vector<std::vector<char>> host((size_t)k.nparams);
    for (int i = 0; i < k.nparams; i++) {
        const HParam &p = k.params[i];
        if (p.mode == H_SCALAR) {
            scalar_value(p, &ref.scalars[i]);
            continue;
        }
        int64_t n = count_of(p, sizes);
        size_t bytes = (size_t)n * (size_t)elem_bytes(p.elem);
        host[i].resize(bytes + 1);
        fill(host[i].data(), p.elem, n);
        ref.ptrs[i] = malloc(bytes + 1);
        memcpy(ref.ptrs[i], host[i].data(), bytes);
        CK(cudaMalloc(&dev.ptrs[i], bytes + 1));
        CK(cudaMemcpy(dev.ptrs[i], host[i].data(), bytes, cudaMemcpyHostToDevice));
    }
    dev.scalars = ref.scalars;
    dev.sizes = ref.sizes;
    ref.pack(k);
    dev.pack(k);
    bool pass = true;
    int rc = k.ref(ref.packed.data());
    if (rc != ACCL_OK) {
        printf("  the CPU reference failed: %s\n", accl_strerror(rc));
        pass = false;
    }
    rc = k.gpu(dev.packed.data());
    if (rc != ACCL_OK) {
        gpu_failed("the GPU kernel", rc);
        pass = false;
    }
    CK(cudaDeviceSynchronize());
    double worst = 0, worst_ratio = 0;
    for (int i = 0; i < k.nparams && pass; i++) {
        const HParam &p = k.params[i];
        if (p.mode == H_SCALAR || p.mode == H_IN)
            continue;
        int64_t n = count_of(p, sizes);
        std::vector<char> got((size_t)n * (size_t)elem_bytes(p.elem) + 1);
        CK(cudaMemcpy(got.data(), dev.ptrs[i], got.size() - 1, cudaMemcpyDeviceToHost));
        double tol = p.elem == H_F16 || p.elem == H_BF16 ? 1e-2 : 1e-3;
        int64_t bad = 0, first = -1;
        for (int64_t j = 0; j < n; j++) {
            double g = load(got.data(), p.elem, j), r = load(ref.ptrs[i], p.elem, j);
            double err = std::fabs(g - r), bound = elem_float(p.elem) ? tol * std::max(1.0, std::fabs(r)) : 0;
            bool ok = err <= bound || (std::isnan(g) && std::isnan(r));
            if (!ok && first < 0)
                first = j;
            bad += !ok;
            if (bound > 0 && err / bound > worst_ratio) {
                worst_ratio = err / bound;
                worst = err;
            }
        }
        if (bad) {
            printf("  %s: %lld of %lld elements differ; first at %lld: gpu %.9g ref %.9g\n", p.name, (long long)bad,
                   (long long)n, (long long)first, load(got.data(), p.elem, first), load(ref.ptrs[i], p.elem, first));
            pass = false;
        }
    }
    for (int i = 0; i < k.nparams; i++) {
        free(ref.ptrs[i]);
        if (dev.ptrs[i])
            CK(cudaFree(dev.ptrs[i]));
    }
    printf("check %-10s", k.name);
    for (int s = 0; s < k.nsizes; s++)
        printf("%s%s=%lld", s ? "," : " ", k.sizes[s], (long long)sizes[s]);
    printf(": %s", pass ? "PASS" : "FAIL");
    if (pass)
        printf(" (max error %.3g, %.3g of the tolerance)", worst, worst_ratio);
    printf("\n");
    return pass;
}

static const HKernel *find(const char *name)
{
    for (const HKernel &k : kernels)
        if (strcmp(k.name, name) == 0)
            return &k;
    return nullptr;
}

// Median of `runs` timed calls of fn (after two warm-ups), in ms.
template <typename F> static double time_ms(F fn, int runs)
{
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    fn();
    fn();
    std::vector<float> t;
    for (int r = 0; r < runs; r++) {
        CK(cudaEventRecord(a));
        fn();
        CK(cudaEventRecord(b));
        CK(cudaEventSynchronize(b));
        float ms;
        CK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(ms);
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

static float *device_random(int64_t n)
{
    std::vector<float> h((size_t)n);
    fill(h.data(), H_F32, n);
    float *d;
    CK(cudaMalloc(&d, (size_t)n * 4));
    CK(cudaMemcpy(d, h.data(), (size_t)n * 4, cudaMemcpyHostToDevice));
    return d;
}

struct Row {
    const char *what;
    double accl_ms, accl_rate;
    const char *base;
    double base_ms, base_rate;
    const char *unit;
};

// matmul (M = K = N = 4096) against cublasSgemm with the default math mode
// (NVIDIA_TF32_OVERRIDE=0 from run.sh keeps it to fp32).
static bool bench_matmul(int runs, Row *row)
{
    const HKernel *k = find("matmul");
    if (!k)
        return false;
    const int64_t n = 4096;
    float *A = device_random(n * n), *B = device_random(n * n), *C, *Cb;
    CK(cudaMalloc(&C, (size_t)(n * n) * 4));
    CK(cudaMalloc(&Cb, (size_t)(n * n) * 4));
    int64_t M = n, K = n, N = n;
    void *stream = nullptr;
    void *args[] = {&A, &B, &C, &M, &K, &N, &stream};
    int rc = ACCL_OK;
    double t = time_ms([&] { rc = rc ? rc : k->gpu(args); }, runs);
    if (rc != ACCL_OK) {
        gpu_failed("matmul 4096", rc);
        return false;
    }
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS || cublasSetMathMode(h, CUBLAS_DEFAULT_MATH) != CUBLAS_STATUS_SUCCESS) {
        printf("harness: cuBLAS did not start\n");
        return false;
    }
    const float one = 1, zero = 0;
    // Row-major C = A B is column-major C^T = B^T A^T.
    double tb = time_ms([&] { cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)N, (int)M, (int)K, &one, B, (int)N, A, (int)K, &zero, Cb, (int)N); }, runs);
    std::vector<float> c((size_t)(n * n)), cb((size_t)(n * n));
    CK(cudaMemcpy(c.data(), C, c.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(cb.data(), Cb, cb.size() * 4, cudaMemcpyDeviceToHost));
    double diff = 0;
    for (size_t i = 0; i < c.size(); i++)
        diff = std::max(diff, (double)std::fabs(c[i] - cb[i]) / std::max(1.0, (double)std::fabs(cb[i])));
    printf("matmul 4096: largest difference from cuBLAS %.3g (relative, at least 1)\n", diff);
    cublasDestroy(h);
    CK(cudaFree(A));
    CK(cudaFree(B));
    CK(cudaFree(C));
    CK(cudaFree(Cb));
    double flop = 2.0 * n * n * n;
    *row = {"matmul fp32 4096^3", t, flop / t * 1e-9, "cuBLAS SGEMM", tb, flop / tb * 1e-9, "TFLOP/s"};
    return diff < 1e-2;
}

// softmax (R = N = 8192) against copying the same bytes on the device.
static bool bench_softmax(int runs, Row *row)
{
    const HKernel *k = find("softmax");
    if (!k)
        return false;
    const int64_t n = 8192;
    float *X = device_random(n * n), *Y;
    CK(cudaMalloc(&Y, (size_t)(n * n) * 4));
    int64_t R = n, N = n;
    void *stream = nullptr;
    void *args[] = {&X, &Y, &R, &N, &stream};
    int rc = ACCL_OK;
    double t = time_ms([&] { rc = rc ? rc : k->gpu(args); }, runs);
    if (rc != ACCL_OK) {
        gpu_failed("softmax 8192", rc);
        return false;
    }
    size_t bytes = (size_t)(n * n) * 4;
    double tc = time_ms([&] { CK(cudaMemcpyAsync(Y, X, bytes, cudaMemcpyDeviceToDevice)); }, runs);
    CK(cudaFree(X));
    CK(cudaFree(Y));
    double moved = 2.0 * (double)bytes;   // read X, write Y
    *row = {"softmax fp32 8192x8192", t, moved / t * 1e-6, "D2D copy", tc, moved / tc * 1e-6, "GB/s"};
    return true;
}

int main(int argc, char **argv)
{
    bool checks = true, bench = true;
    int runs = 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check-only") == 0)
            bench = false;
        else if (strcmp(argv[i], "--bench-only") == 0)
            checks = false;
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = std::max(1, atoi(argv[++i]));
        else {
            fprintf(stderr, "usage: harness [--check-only | --bench-only] [--runs R]\n");
            return 2;
        }
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    char name[256] = "";
    int rc = accl_gpu_device_name(ACCL_GPU_NVIDIA, name, sizeof name);
    if (rc != ACCL_OK) {
        gpu_failed("the runtime finds no device", rc);
        return 1;
    }
    printf("device: %s (sm_%d%d), %d SMs, %.1f GiB\n", name, prop.major, prop.minor, prop.multiProcessorCount,
           prop.totalGlobalMem / 1073741824.0);

    int passed = 0, failed = 0;
    if (checks) {
        // Awkward sizes: all 1, all 17, all 129, and two mixes.
        const int64_t sets[5][4] = {{1, 1, 1, 1}, {17, 17, 17, 17}, {129, 129, 129, 129}, {129, 17, 1, 33},
                                    {1, 129, 17, 65}};
        for (const HKernel &k : kernels)
            for (const auto &set : sets) {
                int64_t sizes[8];
                for (int s = 0; s < k.nsizes; s++)
                    sizes[s] = set[s % 4];
                (check(k, sizes) ? passed : failed)++;
            }
        printf("checks: %d passed, %d failed\n", passed, failed);
    }
    if (bench) {
        Row rows[2];
        int nrows = 0;
        bool ok = true;
        if (find("matmul"))
            ok = bench_matmul(runs, &rows[nrows++]) && ok;
        if (find("softmax"))
            ok = bench_softmax(runs, &rows[nrows++]) && ok;
        printf("\n%s, median of %d runs after 2 warm-ups\n", name, runs);
        printf("%-24s %10s %10s   %-14s %10s %10s   %s\n", "", "accl ms", "rate", "baseline", "ms", "rate", "accl/baseline");
        for (int i = 0; i < nrows; i++)
            printf("%-24s %10.3f %10.1f   %-14s %10.3f %10.1f   %.2f  (%s)\n", rows[i].what, rows[i].accl_ms,
                   rows[i].accl_rate, rows[i].base, rows[i].base_ms, rows[i].base_rate,
                   rows[i].base_ms / rows[i].accl_ms, rows[i].unit);
        failed += !ok;
    }
    return failed ? 1 : 0;
}
