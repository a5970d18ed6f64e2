// The emulated device: memory with guard pages, a kernel registry, and launches that run every CUDA thread as a
// fiber under several schedules and insist on bit-identical results.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace emu {

/** How a kernel parameter is passed, to check a launch's arguments against the kernel's signature. */
enum ParamKind { PARAM_POINTER, PARAM_INT, PARAM_FLOAT, PARAM_STRUCT };

struct Param {
    ParamKind kind;
    int size;
};

struct Kernel {
    const char* name;
    void* fn;
    void (*call)(void* fn, void** params);
    std::vector<Param> params;
    long long launches = 0;
    int maxDynamicShared = 48 * 1024;
};

void register_kernel(Kernel k);

template <typename A>
Param param_of() {
    using T = std::remove_cv_t<A>;
    if (std::is_pointer<T>::value) return {PARAM_POINTER, (int)sizeof(T)};
    if (std::is_floating_point<T>::value) return {PARAM_FLOAT, (int)sizeof(T)};
    if (std::is_integral<T>::value) return {PARAM_INT, (int)sizeof(T)};
    return {PARAM_STRUCT, (int)sizeof(T)};
}

template <typename... A, size_t... I>
void call_unpacked(void (*f)(A...), void** p, std::index_sequence<I...>) {
    f(*static_cast<std::remove_cv_t<A>*>(p[I])...);
}

template <typename... A>
struct Registrar {
    Registrar(const char* name, void (*f)(A...)) {
        Kernel k;
        k.name = name;
        k.fn = reinterpret_cast<void*>(f);
        k.call = [](void* fn, void** p) {
            call_unpacked(reinterpret_cast<void (*)(A...)>(fn), p, std::index_sequence_for<A...>{});
        };
        k.params = {param_of<A>()...};
        register_kernel(k);
    }
};

/** The host's argument types (dev.gpuact.cuda.KernelArgs.Type, by ordinal). */
enum HostArg { HOST_I64 = 0, HOST_F32 = 1, HOST_I32 = 2, HOST_LONG_ARGS = 3 };

// Every call returns "" on success, else the error in words.
std::string alloc(size_t bytes, uint64_t* address);
std::string free_device(uint64_t address);
std::string alloc_host(size_t bytes, uint64_t* address);
std::string free_host(uint64_t address);
/** Copies bytes; a range marked device must lie inside one device allocation. */
std::string copy(uint64_t dst, bool dstDevice, uint64_t src, bool srcDevice, size_t bytes);
std::string memset32(uint64_t dst, uint32_t value, size_t count);
std::string address_range(uint64_t address, uint64_t* base, uint64_t* size);
void mem_info(uint64_t* free, uint64_t* total);
std::string set_max_dynamic_shared(const char* kernel, int bytes);
/** Runs the kernel once per schedule from the same memory and checks that all leave the same bytes. */
std::string launch(const char* kernel, unsigned grid, unsigned block, unsigned shared, const uint8_t* args,
                   const int* types, int count);
std::vector<std::pair<std::string, long long>> launch_counts();
std::vector<std::string> schedule_names();

}  // namespace emu
