// Fibers, schedules, checks and guarded memory of the emulated device (see runtime.h and cuda_emu.h).
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_emu.h"
#include "runtime.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#error "the emulator's fiber switch is written for x86-64"
#endif

// Saves the callee-saved registers on the current stack, stores its pointer in *save and continues on `to`, a
// stack left by an earlier switch (or prepared by start_fiber). No system call, unlike swapcontext.
extern "C" void emu_switch(void** save, void* to);
asm(R"(
    .text
    .globl emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
)");

// The linker's bounds of the section cuda_emu.h puts every static __shared__ variable in.
extern "C" {
extern char __start_gpuact_emu_shared[] __attribute__((weak));
extern char __stop_gpuact_emu_shared[] __attribute__((weak));
}

namespace emu {

Thread* current;
uint3 block_idx, block_dim, grid_dim;

namespace {

const size_t PAGE = (size_t)sysconf(_SC_PAGESIZE);
#if defined(__SANITIZE_ADDRESS__)
const size_t STACK_BYTES = 512 * 1024;
#else
const size_t STACK_BYTES = 128 * 1024;
#endif
const uint64_t DEVICE_BYTES = 16ull << 30;
const int OPT_IN_SHARED = 227 * 1024;
const uint8_t CANARY = 0xA5;

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

// ---- memory ------------------------------------------------------------------------------------------------------

/** [guard page][data pages][guard page]; the data ends as close to the second guard as 16-byte alignment allows. */
struct Region {
    char* map;
    size_t mapBytes;
    uint64_t address;
    size_t bytes;
    bool device;
    char* tail() const { return map + mapBytes - PAGE; }
};

std::mutex lock;
std::map<uint64_t, Region> regions;  // by address
uint64_t deviceBytesInUse;
std::map<std::string, Kernel>& kernels() {
    static std::map<std::string, Kernel> k;
    return k;
}

std::string map_region(size_t bytes, bool device, Region* out) {
    size_t data = round_up(std::max<size_t>(bytes, 1), PAGE);
    size_t total = data + 2 * PAGE;
    void* m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return format("cannot map %zu bytes", total);
    char* map = static_cast<char*>(m);
    mprotect(map, PAGE, PROT_NONE);
    mprotect(map + total - PAGE, PAGE, PROT_NONE);
    Region r{map, total, 0, bytes, device};
    r.address = (uint64_t)(r.tail() - round_up(bytes, 16));
    memset(reinterpret_cast<char*>(r.address) + bytes, CANARY, round_up(bytes, 16) - bytes);
    *out = r;
    return "";
}

/** The region holding [address, address + bytes), or null. */
const Region* find(uint64_t address, size_t bytes) {
    auto it = regions.upper_bound(address);
    if (it == regions.begin()) return nullptr;
    --it;
    const Region& r = it->second;
    if (address < r.address || address - r.address > r.bytes || bytes > r.bytes - (address - r.address)) return nullptr;
    return &r;
}

std::string check_canaries(const Region& r) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(r.address);
    for (size_t i = r.bytes; i < round_up(r.bytes, 16); i++) {
        if (p[i] != CANARY) {
            return format("a write %zu bytes past the end of the %zu-byte allocation at 0x%llx", i - r.bytes, r.bytes,
                          (unsigned long long)r.address);
        }
    }
    return "";
}

// ---- fibers ------------------------------------------------------------------------------------------------------

enum State { READY, AT_BARRIER, AT_WARP, DONE };

struct Fiber {
    Thread t;
    void* sp;  // saved stack pointer while switched out
    State state;
    const char* file;
    int line;
    WarpOp op;
    unsigned mask;
    uint64_t value, result;
    int size, arg, width;
};

enum Schedule { ROUND_ROBIN, REVERSED, RANDOM, WARP_GREEDY, WARP_GREEDY_REVERSED, SCHEDULES };
const char* const SCHEDULE_NAMES[] = {"round-robin", "reversed", "random", "warp-greedy", "warp-greedy-reversed"};

struct Launch {
    const Kernel* kernel;
    void** params;
    Schedule schedule;
    std::vector<Fiber> fibers;
    std::vector<char*> stacks;  // guarded, reused by every block
    void* schedulerSp = nullptr;
    ucontext_t faultReturn;  // where a fault in a fiber resumes: the start of its block
    Fiber* running = nullptr;
    int done = 0, atBarrier = 0;
    std::string error;
    std::mt19937_64 random{12345};
    char* shared = nullptr;  // dynamic shared memory, ending at a guard page
    size_t sharedMap = 0;
    unsigned sharedBytes = 0;
};

Launch* active;
pthread_t activeThread;
std::string faultMessage;

// AddressSanitizer is told of every switch: the stack it lands on, and (in a fiber) where the scheduler's is.
const void* schedulerStack;
size_t schedulerStackBytes;

/** From the scheduler into a fiber's stack and back. */
void switch_to_fiber(void** save, void* to, const void* stack) {
#if defined(__SANITIZE_ADDRESS__)
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, stack, STACK_BYTES);
    emu_switch(save, to);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    (void)stack;
    emu_switch(save, to);
#endif
}

/** From a fiber to the scheduler; `exiting` when the fiber will never run again. */
void switch_to_scheduler(void** save, void* to, bool exiting) {
#if defined(__SANITIZE_ADDRESS__)
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(exiting ? nullptr : &fake, schedulerStack, schedulerStackBytes);
    emu_switch(save, to);
    __sanitizer_finish_switch_fiber(fake, &schedulerStack, &schedulerStackBytes);
#else
    (void)exiting;
    emu_switch(save, to);
#endif
}

void fiber_exit();

void fiber_entry() {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(nullptr, &schedulerStack, &schedulerStackBytes);
#endif
    Launch& l = *active;
    l.kernel->call(l.kernel->fn, l.params);
    l.running->state = DONE;
    fiber_exit();
}

/** A stack that starts fiber_entry at the first switch to it. */
void* start_fiber(char* stack) {
    uint64_t* top = reinterpret_cast<uint64_t*>(stack + STACK_BYTES);
    *--top = 0;                                        // fiber_entry's return address: it never returns
    *--top = reinterpret_cast<uint64_t>(fiber_entry);  // where emu_switch's ret goes
    for (int i = 0; i < 6; i++) *--top = 0;            // rbp rbx r12 r13 r14 r15
    return top;
}

void fail(Launch& l, std::string message) {
    if (l.error.empty()) l.error = std::move(message);
}

std::string where(const Fiber& f) {
    return format("%s:%d", f.file, f.line);
}

std::string who(const Fiber& f) {
    return format("block %u thread %u (warp %d lane %d)", block_idx.x, f.t.idx.x, f.t.warp, f.t.lane);
}

void enter(Launch& l, Fiber& f) {
    l.running = &f;
    current = &f.t;
    switch_to_fiber(&l.schedulerSp, f.sp, l.stacks[f.t.idx.x]);
    l.running = nullptr;
}

void yield(Launch& l) {
    switch_to_scheduler(&l.running->sp, l.schedulerSp, false);
}

void fiber_exit() {
    void* unused;
    switch_to_scheduler(&unused, active->schedulerSp, true);
    __builtin_unreachable();
}

}  // namespace

void* dynamic_shared() {
    return active->shared;
}

namespace {

void release_barrier(Launch& l) {
    const Fiber* first = nullptr;
    for (Fiber& f : l.fibers) {
        if (f.state != AT_BARRIER) continue;
        if (first && (first->line != f.line || strcmp(first->file, f.file) != 0)) {
            fail(l, format("__syncthreads reached at different places: %s at %s, %s at %s", who(*first).c_str(),
                           where(*first).c_str(), who(f).c_str(), where(f).c_str()));
            return;
        }
        if (!first) first = &f;
    }
    for (Fiber& f : l.fibers) {
        if (f.state == AT_BARRIER) f.state = READY;
    }
    l.atBarrier = 0;
}

/** Completes the warp collective `f` waits in once every lane of its mask has arrived at the same one. */
void try_warp(Launch& l, Fiber& f) {
    const int base = f.t.warp * 32, lanes = std::min<int>(32, (int)l.fibers.size() - base);
    if (!(f.mask >> f.t.lane & 1u)) {
        fail(l, format("%s calls a warp collective at %s with mask 0x%08x, which does not name it", who(f).c_str(),
                       where(f).c_str(), f.mask));
        return;
    }
    if (lanes < 32 && (f.mask >> lanes) != 0) {
        fail(l, format("%s: mask 0x%08x at %s names lanes beyond the block's %d", who(f).c_str(), f.mask,
                       where(f).c_str(), lanes));
        return;
    }
    if (f.width < 1 || f.width > 32 || (f.width & (f.width - 1)) != 0) {
        fail(l, format("%s: shuffle width %d at %s is not a power of two up to 32", who(f).c_str(), f.width,
                       where(f).c_str()));
        return;
    }
    for (int i = 0; i < lanes; i++) {
        if (!(f.mask >> i & 1u)) continue;
        Fiber& o = l.fibers[base + i];
        if (o.state == DONE) {
            fail(l, format("lane %d of warp %d exited while %s waits for it at %s", i, f.t.warp, who(f).c_str(),
                           where(f).c_str()));
            return;
        }
        if (o.state != AT_WARP) return;  // not there yet
        if (o.line != f.line || strcmp(o.file, f.file) != 0 || o.op != f.op || o.mask != f.mask ||
            o.size != f.size || o.width != f.width) {
            fail(l, format("warp %d diverges: lane %d at %s (mask 0x%08x), lane %d at %s (mask 0x%08x)", f.t.warp,
                           f.t.lane, where(f).c_str(), f.mask, i, where(o).c_str(), o.mask));
            return;
        }
    }
    unsigned ballot = 0;
    for (int i = 0; i < lanes; i++) {
        if ((f.mask >> i & 1u) && l.fibers[base + i].value) ballot |= 1u << i;
    }
    for (int i = 0; i < lanes; i++) {
        if (!(f.mask >> i & 1u)) continue;
        Fiber& o = l.fibers[base + i];
        const int segment = i & ~(f.width - 1);
        int src = i;
        switch (f.op) {
            case SHFL_IDX: src = segment + (o.arg & (f.width - 1)); break;
            case SHFL_XOR: src = i ^ o.arg; break;
            case SHFL_DOWN: src = i + o.arg; break;
            case SHFL_UP: src = i - o.arg; break;
            default: break;
        }
        if (src < segment || src >= segment + f.width) src = i;  // out of the segment: the lane keeps its value
        if (f.op <= SHFL_UP && !(f.mask >> src & 1u)) {
            fail(l, format("%s reads lane %d at %s, which mask 0x%08x leaves out", who(o).c_str(), src,
                           where(o).c_str(), f.mask));
            return;
        }
        o.result = f.op == BALLOT ? ballot : f.op == SYNCWARP ? 0 : l.fibers[base + src].value;
    }
    for (int i = 0; i < lanes; i++) {
        if (f.mask >> i & 1u) l.fibers[base + i].state = READY;
    }
}

/** What the fiber that just stopped means for the others. */
void after_stop(Launch& l, Fiber& f) {
    if (f.state == DONE) {
        l.done++;
        const int base = f.t.warp * 32;
        for (int i = 0; i < 32 && base + i < (int)l.fibers.size(); i++) {
            const Fiber& o = l.fibers[base + i];
            if (o.state == AT_WARP && (o.mask >> f.t.lane & 1u)) {
                fail(l, format("%s exited while %s waits for it at %s", who(f).c_str(), who(o).c_str(),
                               where(o).c_str()));
                return;
            }
        }
    } else if (f.state == AT_BARRIER) {
        l.atBarrier++;
    } else if (f.state == AT_WARP) {
        try_warp(l, f);
    }
    if (l.atBarrier > 0 && l.atBarrier + l.done == (int)l.fibers.size()) release_barrier(l);
}

std::string describe_deadlock(Launch& l) {
    std::string s = format("deadlock in block %u: no thread can run;", block_idx.x);
    int shown = 0;
    for (Fiber& f : l.fibers) {
        if (f.state == DONE) continue;
        if (shown++ == 6) {
            s += " ...";
            break;
        }
        s += format(" thread %u waits at %s %s (%s);", f.t.idx.x, f.state == AT_BARRIER ? "__syncthreads" : "warp op",
                    where(f).c_str(), f.state == AT_WARP ? format("mask 0x%08x", f.mask).c_str() : "");
    }
    return s;
}

void run_block(Launch& l) {
    const int n = (int)l.fibers.size();
    for (int i = 0; i < n; i++) {
        Fiber& f = l.fibers[i];
        f.t.idx = {(unsigned)i, 0, 0};
        f.t.lane = i & 31;
        f.t.warp = i >> 5;
        f.state = READY;
        f.file = "";
        f.line = 0;
        f.sp = start_fiber(l.stacks[i]);
    }
    l.done = l.atBarrier = 0;
    if (+__start_gpuact_emu_shared != +__stop_gpuact_emu_shared) {
        memset(__start_gpuact_emu_shared, 0xFF, __stop_gpuact_emu_shared - __start_gpuact_emu_shared);
    }
    if (l.sharedBytes) memset(l.shared, 0xFF, l.sharedBytes);
    const int warps = (n + 31) / 32;
    std::vector<int> order;
    while (l.error.empty()) {
        order.clear();
        for (int i = 0; i < n; i++) {
            if (l.fibers[i].state == READY) order.push_back(i);
        }
        if (order.empty()) {
            if (l.done != n) fail(l, describe_deadlock(l));
            return;
        }
        if (l.schedule == REVERSED) std::reverse(order.begin(), order.end());
        if (l.schedule == RANDOM) std::shuffle(order.begin(), order.end(), l.random);
        if (l.schedule == WARP_GREEDY || l.schedule == WARP_GREEDY_REVERSED) {
            // One warp runs until none of its lanes can, before the next starts.
            for (int k = 0; k < warps && l.error.empty(); k++) {
                const int w = l.schedule == WARP_GREEDY ? k : warps - 1 - k;
                for (bool ran = true; ran && l.error.empty();) {
                    ran = false;
                    for (int i = w * 32; i < std::min(n, w * 32 + 32) && l.error.empty(); i++) {
                        if (l.fibers[i].state != READY) continue;
                        ran = true;
                        enter(l, l.fibers[i]);
                        after_stop(l, l.fibers[i]);
                    }
                }
            }
            continue;
        }
        for (int i : order) {
            if (!l.error.empty()) return;
            enter(l, l.fibers[i]);
            after_stop(l, l.fibers[i]);
        }
    }
}

// ---- faults ------------------------------------------------------------------------------------------------------

struct sigaction previous[32];
char altStack[64 * 1024];

std::string describe_address(uint64_t a) {
    for (auto& [address, r] : regions) {
        uint64_t m = (uint64_t)r.map;
        if (a >= m && a < m + PAGE) {
            return format("0x%llx, %llu bytes before the %zu-byte allocation at 0x%llx", (unsigned long long)a,
                          (unsigned long long)(r.address - a), r.bytes, (unsigned long long)r.address);
        }
        if (a >= (uint64_t)r.tail() && a < (uint64_t)r.tail() + PAGE) {
            return format("0x%llx, %llu bytes past the end of the %zu-byte allocation at 0x%llx",
                          (unsigned long long)a, (unsigned long long)(a - r.address - r.bytes), r.bytes,
                          (unsigned long long)r.address);
        }
    }
    if (active && active->shared) {
        uint64_t end = (uint64_t)active->shared + active->sharedBytes;
        if (a >= end && a < end + 2 * PAGE) {
            return format("0x%llx, %llu bytes past the end of the %u bytes of dynamic shared memory",
                          (unsigned long long)a, (unsigned long long)(a - end), active->sharedBytes);
        }
    }
    if (active) {
        for (char* s : active->stacks) {
            if (a >= (uint64_t)s - PAGE && a < (uint64_t)s) return "the guard page below a thread's stack (stack overflow)";
        }
    }
    return format("0x%llx (no device memory there; 0 for a misaligned vector access)", (unsigned long long)a);
}

void on_fault(int sig, siginfo_t* info, void* context) {
    Launch* l = active;
    if (l && l->running && pthread_equal(pthread_self(), activeThread)) {
        const Fiber& f = *l->running;
        faultMessage = format("%s at %s in %s", sig == SIGFPE ? "arithmetic fault (integer division by zero?)"
                                                              : "illegal memory access",
                              describe_address((uint64_t)info->si_addr).c_str(), who(f).c_str());
        setcontext(&l->faultReturn);
    }
    const struct sigaction& p = previous[sig];
    if (p.sa_flags & SA_SIGINFO) {
        p.sa_sigaction(sig, info, context);
    } else if (p.sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);  // the fault repeats on return and ends the process as it would have
    } else if (p.sa_handler != SIG_IGN) {
        p.sa_handler(sig);
    }
}

void install_fault_handlers() {
    static bool installed;
    if (installed) return;
    installed = true;
    struct sigaction sa{};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE}) sigaction(sig, &sa, &previous[sig]);
}

// ---- launching ---------------------------------------------------------------------------------------------------

std::string check_arguments(const Kernel& k, const int* types, int count, void** params,
                            std::vector<const Region*>* touched) {
    if (count != (int)k.params.size()) {
        return format("%s takes %zu arguments, the host passed %d", k.name, k.params.size(), count);
    }
    static const char* const HOST[] = {"i64", "f32", "i32", "LongArgs"};
    for (int i = 0; i < count; i++) {
        const Param& p = k.params[i];
        bool ok = false;
        switch (types[i]) {
            case HOST_I64: ok = (p.kind == PARAM_POINTER || p.kind == PARAM_INT) && p.size == 8; break;
            case HOST_F32: ok = p.kind == PARAM_FLOAT && p.size == 4; break;
            case HOST_I32: ok = p.kind == PARAM_INT && p.size == 4; break;
            case HOST_LONG_ARGS: ok = p.kind == PARAM_STRUCT && p.size == 56; break;
        }
        if (!ok) {
            return format("%s: argument %d is a %d-byte %s in the kernel but the host passed %s", k.name, i, p.size,
                          p.kind == PARAM_POINTER ? "pointer" : p.kind == PARAM_INT ? "integer"
                          : p.kind == PARAM_FLOAT ? "float" : "struct",
                          types[i] >= 0 && types[i] < 4 ? HOST[types[i]] : "?");
        }
        if (p.kind == PARAM_POINTER) {
            uint64_t a = *static_cast<uint64_t*>(params[i]);
            if (a == 0) continue;
            const Region* r = find(a, 0);
            if (!r || !r->device) return format("%s: argument %d (0x%llx) is not device memory", k.name, i, (unsigned long long)a);
            if (std::find(touched->begin(), touched->end(), r) == touched->end()) touched->push_back(r);
        }
    }
    return "";
}

std::string run_schedule(Launch& l, unsigned grid, unsigned block) {
    grid_dim = {grid, 1, 1};
    block_dim = {block, 1, 1};
    std::vector<unsigned> blocks(grid);
    for (unsigned b = 0; b < grid; b++) blocks[b] = b;
    if (l.schedule == REVERSED || l.schedule == WARP_GREEDY_REVERSED) std::reverse(blocks.begin(), blocks.end());
    if (l.schedule == RANDOM) std::shuffle(blocks.begin(), blocks.end(), l.random);
    for (unsigned b : blocks) {
        block_idx = {b, 0, 0};
        faultMessage.clear();
        getcontext(&l.faultReturn);  // a fault in a fiber resumes here
        if (!faultMessage.empty()) {
            l.running = nullptr;
            fail(l, faultMessage);
            faultMessage.clear();
        }
        if (!l.error.empty()) break;
        run_block(l);
        if (!l.error.empty()) break;
    }
    current = nullptr;
    return l.error;
}

}  // namespace

void register_kernel(Kernel k) {
    kernels()[k.name] = k;
}

std::string alloc(size_t bytes, uint64_t* address) {
    std::lock_guard<std::mutex> g(lock);
    if (bytes > DEVICE_BYTES - deviceBytesInUse) return format("out of memory: %zu bytes requested", bytes);
    Region r;
    std::string e = map_region(bytes, true, &r);
    if (!e.empty()) return e;
    regions[r.address] = r;
    deviceBytesInUse += bytes;
    *address = r.address;
    return "";
}

static std::string unmap(uint64_t address, bool device) {
    std::lock_guard<std::mutex> g(lock);
    auto it = regions.find(address);
    if (it == regions.end() || it->second.device != device) {
        return format("0x%llx is not the start of a %s allocation", (unsigned long long)address,
                      device ? "device" : "pinned host");
    }
    std::string canary = device ? check_canaries(it->second) : "";
    if (device) deviceBytesInUse -= it->second.bytes;
    munmap(it->second.map, it->second.mapBytes);
    regions.erase(it);
    return canary;
}

std::string free_device(uint64_t address) { return unmap(address, true); }
std::string free_host(uint64_t address) { return unmap(address, false); }

std::string alloc_host(size_t bytes, uint64_t* address) {
    std::lock_guard<std::mutex> g(lock);
    Region r;
    std::string e = map_region(bytes, false, &r);
    if (!e.empty()) return e;
    regions[r.address] = r;
    *address = r.address;
    return "";
}

std::string copy(uint64_t dst, bool dstDevice, uint64_t src, bool srcDevice, size_t bytes) {
    std::lock_guard<std::mutex> g(lock);
    if (dstDevice && !find(dst, bytes)) return format("copy: [0x%llx, +%zu) is not inside a device allocation", (unsigned long long)dst, bytes);
    if (srcDevice && !find(src, bytes)) return format("copy: [0x%llx, +%zu) is not inside a device allocation", (unsigned long long)src, bytes);
    memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    return "";
}

std::string memset32(uint64_t dst, uint32_t value, size_t count) {
    std::lock_guard<std::mutex> g(lock);
    if (!find(dst, count * 4)) return format("memset: [0x%llx, +%zu floats) is not inside a device allocation", (unsigned long long)dst, count);
    uint32_t* p = reinterpret_cast<uint32_t*>(dst);
    for (size_t i = 0; i < count; i++) p[i] = value;
    return "";
}

std::string address_range(uint64_t address, uint64_t* base, uint64_t* size) {
    std::lock_guard<std::mutex> g(lock);
    const Region* r = find(address, 0);
    if (!r || !r->device || address == r->address + r->bytes) return "CUDA_ERROR_NOT_FOUND";
    *base = r->address;
    *size = r->bytes;
    return "";
}

void mem_info(uint64_t* free, uint64_t* total) {
    std::lock_guard<std::mutex> g(lock);
    *total = DEVICE_BYTES;
    *free = DEVICE_BYTES - deviceBytesInUse;
}

std::string set_max_dynamic_shared(const char* kernel, int bytes) {
    std::lock_guard<std::mutex> g(lock);
    auto it = kernels().find(kernel);
    if (it == kernels().end()) return format("no kernel %s", kernel);
    if (bytes < 0 || bytes > OPT_IN_SHARED) return format("%d bytes of dynamic shared memory: the most is %d", bytes, OPT_IN_SHARED);
    it->second.maxDynamicShared = bytes;
    return "";
}

std::string launch(const char* name, unsigned grid, unsigned block, unsigned shared, const uint8_t* args,
                   const int* types, int count) {
    std::lock_guard<std::mutex> g(lock);
    auto it = kernels().find(name);
    if (it == kernels().end()) return format("no kernel named %s", name);
    Kernel& k = it->second;
    if (grid < 1 || block < 1 || block > 1024) return format("%s: bad launch shape %u x %u", name, grid, block);
    if ((int)shared > k.maxDynamicShared) {
        return format("%s: %u bytes of dynamic shared memory, over the kernel's limit of %d", name, shared,
                      k.maxDynamicShared);
    }
    std::vector<void*> params(count);
    for (int i = 0, offset = 0; i < count; i++) {
        params[i] = const_cast<uint8_t*>(args) + offset;
        offset += types[i] == HOST_LONG_ARGS ? 56 : 8;
    }
    std::vector<const Region*> touched;
    std::string e = check_arguments(k, types, count, params.data(), &touched);
    if (!e.empty()) return e;
    k.launches++;
    install_fault_handlers();

    Launch l;
    l.kernel = &k;
    l.params = params.data();
    l.fibers.resize(block);
    for (unsigned i = 0; i < block; i++) {
        char* m = static_cast<char*>(mmap(nullptr, STACK_BYTES + PAGE, PROT_READ | PROT_WRITE,
                                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
        mprotect(m, PAGE, PROT_NONE);
        l.stacks.push_back(m + PAGE);
    }
    l.sharedBytes = shared;
    l.sharedMap = round_up(shared, PAGE) + PAGE;
    char* sm = static_cast<char*>(mmap(nullptr, l.sharedMap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mprotect(sm + l.sharedMap - PAGE, PAGE, PROT_NONE);
    l.shared = sm + l.sharedMap - PAGE - round_up(shared, 16);

    stack_t alt{}, oldAlt{};
    alt.ss_sp = altStack;
    alt.ss_size = sizeof altStack;
    sigaltstack(&alt, &oldAlt);
    active = &l;
    activeThread = pthread_self();

    // Every schedule starts from the memory as the host left it, and must leave the same bytes as the first.
    std::vector<std::vector<char>> before, after;
    for (const Region* r : touched) before.emplace_back((char*)r->address, (char*)r->address + r->bytes);
    for (int s = 0; s < SCHEDULES && l.error.empty(); s++) {
        l.schedule = (Schedule)s;
        if (s > 0) {
            for (size_t i = 0; i < touched.size(); i++) memcpy((char*)touched[i]->address, before[i].data(), before[i].size());
        }
        run_schedule(l, grid, block);
        for (const Region* r : touched) {
            std::string c = check_canaries(*r);
            if (!c.empty()) fail(l, c);
        }
        if (!l.error.empty()) {
            l.error = format("%s (grid %u, block %u, shared %u) under the %s schedule: %s", name, grid, block, shared,
                             SCHEDULE_NAMES[s], l.error.c_str());
            break;
        }
        for (size_t i = 0; i < touched.size(); i++) {
            const char* now = (const char*)touched[i]->address;
            if (s == 0) {
                after.emplace_back(now, now + touched[i]->bytes);
                continue;
            }
            if (memcmp(now, after[i].data(), after[i].size()) != 0) {
                size_t at = 0;
                while (now[at] == after[i][at]) at++;
                at &= ~(size_t)3;
                float was, is;
                memcpy(&was, &after[i][at], 4);
                memcpy(&is, now + at, 4);
                l.error = format("%s (grid %u, block %u, shared %u): the %s schedule left different bytes than %s "
                                 "at byte %zu of the %zu-byte allocation at 0x%llx (as float: %.9g, not %.9g): a race",
                                 name, grid, block, shared, SCHEDULE_NAMES[s], SCHEDULE_NAMES[0], at,
                                 touched[i]->bytes, (unsigned long long)touched[i]->address, is, was);
                break;
            }
        }
    }
    active = nullptr;
    sigaltstack(&oldAlt, nullptr);
    for (char* s : l.stacks) munmap(s - PAGE, STACK_BYTES + PAGE);
    munmap(sm, l.sharedMap);
    return l.error;
}

std::vector<std::pair<std::string, long long>> launch_counts() {
    std::lock_guard<std::mutex> g(lock);
    std::vector<std::pair<std::string, long long>> out;
    for (auto& [name, k] : kernels()) out.emplace_back(name, k.launches);
    return out;
}

std::vector<std::string> schedule_names() {
    return {SCHEDULE_NAMES, SCHEDULE_NAMES + SCHEDULES};
}

// Called by the kernels through cuda_emu.h.
void syncthreads(const char* file, int line) {
    Launch& l = *active;
    Fiber& f = *l.running;
    f.state = AT_BARRIER;
    f.file = file;
    f.line = line;
    yield(l);
}

uint64_t warp_collective(const char* file, int line, WarpOp op, unsigned mask, uint64_t value, int size, int arg,
                         int width) {
    Launch& l = *active;
    Fiber& f = *l.running;
    f.state = AT_WARP;
    f.file = file;
    f.line = line;
    f.op = op;
    f.mask = mask;
    f.value = value;
    f.size = size;
    f.arg = arg;
    f.width = width;
    yield(l);
    return f.result;
}

}  // namespace emu
