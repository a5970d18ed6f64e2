// JNI entry points of dev.gpuact.cuda.EmulatorLibrary (the test-scope emulated CUDA driver): each call either
// succeeds or throws jcuda.CudaException with the emulator's words.
#include <jni.h>

#include <string>
#include <vector>

#include "runtime.h"

namespace {

bool ok(JNIEnv* env, const std::string& error) {
    if (error.empty()) return true;
    jclass c = env->FindClass("jcuda/CudaException");
    if (c == nullptr) return false;  // NoClassDefFoundError is pending
    env->ThrowNew(c, ("emulator: " + error).c_str());
    return false;
}

std::string text(JNIEnv* env, jstring s) {
    const char* c = env->GetStringUTFChars(s, nullptr);
    std::string out(c);
    env->ReleaseStringUTFChars(s, c);
    return out;
}

jobjectArray strings(JNIEnv* env, const std::vector<std::string>& v) {
    jobjectArray a = env->NewObjectArray((jsize)v.size(), env->FindClass("java/lang/String"), nullptr);
    for (size_t i = 0; i < v.size(); i++) env->SetObjectArrayElement(a, (jsize)i, env->NewStringUTF(v[i].c_str()));
    return a;
}

jlongArray longs(JNIEnv* env, const std::vector<jlong>& v) {
    jlongArray a = env->NewLongArray((jsize)v.size());
    env->SetLongArrayRegion(a, 0, (jsize)v.size(), v.data());
    return a;
}

}  // namespace

#define EMU_JNI(ret, name) extern "C" JNIEXPORT ret JNICALL Java_dev_gpuact_cuda_EmulatorLibrary_##name

EMU_JNI(jlong, alloc)(JNIEnv* env, jclass, jlong bytes) {
    uint64_t a = 0;
    ok(env, emu::alloc((size_t)bytes, &a));
    return (jlong)a;
}

EMU_JNI(void, free)(JNIEnv* env, jclass, jlong address) {
    ok(env, emu::free_device((uint64_t)address));
}

EMU_JNI(jlong, allocHost)(JNIEnv* env, jclass, jlong bytes) {
    uint64_t a = 0;
    ok(env, emu::alloc_host((size_t)bytes, &a));
    return (jlong)a;
}

EMU_JNI(void, freeHost)(JNIEnv* env, jclass, jlong address) {
    ok(env, emu::free_host((uint64_t)address));
}

EMU_JNI(jobject, view)(JNIEnv* env, jclass, jlong address, jlong bytes) {
    return env->NewDirectByteBuffer(reinterpret_cast<void*>(address), bytes);
}

/** The host address a jcuda.Pointer stands for: its native pointer or direct buffer, plus its byte offset. */
EMU_JNI(jlong, hostAddress)(JNIEnv* env, jclass, jobject pointer) {
    jclass npo = env->FindClass("jcuda/NativePointerObject");
    jclass p = env->FindClass("jcuda/Pointer");
    jlong native = env->GetLongField(pointer, env->GetFieldID(npo, "nativePointer", "J"));
    jlong offset = env->GetLongField(pointer, env->GetFieldID(p, "byteOffset", "J"));
    jobject buffer = env->GetObjectField(pointer, env->GetFieldID(p, "buffer", "Ljava/nio/Buffer;"));
    if (buffer != nullptr) {
        void* a = env->GetDirectBufferAddress(buffer);
        if (a == nullptr) {
            ok(env, "a host pointer over a Java array: the driver copies only from native memory");
            return 0;
        }
        native = (jlong)a;
    }
    return native + offset;
}

EMU_JNI(void, copy)(JNIEnv* env, jclass, jlong dst, jboolean dstDevice, jlong src, jboolean srcDevice, jlong bytes) {
    ok(env, emu::copy((uint64_t)dst, dstDevice, (uint64_t)src, srcDevice, (size_t)bytes));
}

EMU_JNI(void, memsetD32)(JNIEnv* env, jclass, jlong dst, jint value, jlong count) {
    ok(env, emu::memset32((uint64_t)dst, (uint32_t)value, (size_t)count));
}

EMU_JNI(jlongArray, addressRange)(JNIEnv* env, jclass, jlong address) {
    uint64_t base = 0, size = 0;
    if (!ok(env, emu::address_range((uint64_t)address, &base, &size))) return nullptr;
    return longs(env, {(jlong)base, (jlong)size});
}

EMU_JNI(jlongArray, memInfo)(JNIEnv* env, jclass) {
    uint64_t free = 0, total = 0;
    emu::mem_info(&free, &total);
    return longs(env, {(jlong)free, (jlong)total});
}

EMU_JNI(void, setMaxDynamicShared)(JNIEnv* env, jclass, jstring kernel, jint bytes) {
    ok(env, emu::set_max_dynamic_shared(text(env, kernel).c_str(), bytes));
}

EMU_JNI(void, launch)(JNIEnv* env, jclass, jstring kernel, jint grid, jint block, jint shared, jbyteArray args,
                      jintArray types) {
    std::vector<uint8_t> a(env->GetArrayLength(args));
    env->GetByteArrayRegion(args, 0, (jsize)a.size(), reinterpret_cast<jbyte*>(a.data()));
    std::vector<int> t(env->GetArrayLength(types));
    env->GetIntArrayRegion(types, 0, (jsize)t.size(), reinterpret_cast<jint*>(t.data()));
    ok(env, emu::launch(text(env, kernel).c_str(), (unsigned)grid, (unsigned)block, (unsigned)shared, a.data(),
                        t.data(), (int)t.size()));
}

EMU_JNI(jobjectArray, kernels)(JNIEnv* env, jclass) {
    std::vector<std::string> names;
    for (auto& [name, count] : emu::launch_counts()) names.push_back(name);
    return strings(env, names);
}

EMU_JNI(jlongArray, launchCounts0)(JNIEnv* env, jclass) {
    std::vector<jlong> counts;
    for (auto& [name, count] : emu::launch_counts()) counts.push_back(count);
    return longs(env, counts);
}

EMU_JNI(jobjectArray, schedules)(JNIEnv* env, jclass) {
    return strings(env, emu::schedule_names());
}
