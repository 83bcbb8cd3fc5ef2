// Linked into the test programs of the ThreadSanitizer build only. Debian's librdkafka starts
// its threads with C11 thrd_create(), which gcc 12's TSan runtime does not intercept: such
// threads run without TSan state and crash at their first instrumented access. Defining
// thrd_create here (the executable's definition wins over glibc's for librdkafka too) routes
// them through pthread_create, which TSan does intercept. glibc's thrd_join reads the result
// back as (int)(intptr_t), which the trampoline returns. Its C11 mutexes and condition
// variables are glibc's pthread ones underneath, called internally where TSan cannot see them;
// the definitions below route them through the intercepted pthread calls, so that TSan sees
// librdkafka's synchronisation (and does not report its queue hand-offs as races).
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {
struct Start {
    thrd_start_t func;
    void* arg;
};

void* trampoline(void* p) {
    Start start = *static_cast<Start*>(p);
    delete static_cast<Start*>(p);
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.func(start.arg)));
}
}  // namespace

extern "C" int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
    auto* start = new (std::nothrow) Start{func, arg};
    if (start == nullptr) {
        return thrd_nomem;
    }
    pthread_t t;
    int err = pthread_create(&t, nullptr, &trampoline, start);
    if (err != 0) {
        delete start;
        return err == 11 /* EAGAIN */ ? thrd_nomem : thrd_error;
    }
    *thr = t;
    return thrd_success;
}

namespace {
pthread_mutex_t* native(mtx_t* m) {
    return reinterpret_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* native(cnd_t* c) {
    return reinterpret_cast<pthread_cond_t*>(c);
}
int result(int err) {
    switch (err) {
        case 0: return thrd_success;
        case EBUSY: return thrd_busy;
        case ETIMEDOUT: return thrd_timedout;
        default: return thrd_error;
    }
}
}  // namespace

extern "C" int mtx_lock(mtx_t* m) {
    return result(pthread_mutex_lock(native(m)));
}
extern "C" int mtx_trylock(mtx_t* m) {
    return result(pthread_mutex_trylock(native(m)));
}
extern "C" int mtx_timedlock(mtx_t* m, const struct timespec* until) {
    return result(pthread_mutex_timedlock(native(m), until));
}
extern "C" int mtx_unlock(mtx_t* m) {
    return result(pthread_mutex_unlock(native(m)));
}
extern "C" int cnd_wait(cnd_t* c, mtx_t* m) {
    return result(pthread_cond_wait(native(c), native(m)));
}
extern "C" int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* until) {
    return result(pthread_cond_timedwait(native(c), native(m), until));
}
extern "C" int cnd_signal(cnd_t* c) {
    return result(pthread_cond_signal(native(c)));
}
extern "C" int cnd_broadcast(cnd_t* c) {
    return result(pthread_cond_broadcast(native(c)));
}

// Joins and detaches must be seen too, or TSan keeps finished threads alive and trips over a
// reused thread id.
extern "C" int thrd_join(thrd_t thr, int* res) {
    void* value = nullptr;
    int err = pthread_join(thr, &value);
    if (err == 0 && res != nullptr) {
        *res = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
    }
    return result(err);
}
extern "C" int thrd_detach(thrd_t thr) {
    return result(pthread_detach(thr));
}

// librdkafka is not instrumented, so TSan sees only its intercepted calls (pthread locks,
// malloc/free, memcpy) and not the atomics that order them (its reference counts): a topic's
// lock destroyed after its last reference drops looks like a race. With this default TSan
// reports nothing raised inside an intercepted call made from a module that is not
// instrumented, and keeps everything else: races in agentstream's own code, callbacks that
// librdkafka calls included, are reported (scripts/test.sh plants one and requires the
// report). TSAN_OPTIONS still overrides it.
extern "C" const char* __tsan_default_options() {
    return "ignore_noninstrumented_modules=1";
}
