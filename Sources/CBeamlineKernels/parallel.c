// The worker pool behind BeamlineTensor's `Parallel` loops (see the header).
//
// One job runs at a time. A job is published by bumping the generation in
// the high 32 bits of `cursor`; its low 32 bits are the next unclaimed
// iteration, claimed by compare-and-swap so that a claim can only succeed
// while its job is current. The job's body and context are read after a
// successful claim: the claimed iteration keeps `pending` above zero, so the
// caller cannot publish the next job until that iteration has run.
//
// Idle workers spin (pause, then yield) for `spin_ns` before sleeping on a
// condition variable. Sleeping and waking use the usual handshake: a worker
// counts itself in `sleepers` and re-reads the generation under the lock;
// the caller publishes the generation, then reads `sleepers` (both
// sequentially consistent), so one of them sees the other.

#define _GNU_SOURCE
#include "CBeamlineKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { max_workers = 255 };

/// How long an idle worker stays awake: longer than the serial stretches
/// between the parallel loops of one call (a 256² FFT takes about 100 µs),
/// short enough not to hold a core long after the work is done.
static const long spin_ns = 300000;
/// Of which the first part is a plain spin; after it the worker yields its core between checks.
static const long plain_spin_ns = 30000;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int busy;                  // 1 while a job runs: later and nested calls are refused
    _Atomic uint64_t cursor;          // generation << 32 | next unclaimed iteration
    _Atomic(bl_parallel_body) body;
    _Atomic(void *) context;
    atomic_long iterations;
    atomic_long pending;              // iterations not finished yet
    atomic_int participants;          // workers 0 ..< participants join the current job
    atomic_int sleepers;
    atomic_int caller_cpu;            // where the current job's caller runs (-1: unknown)
    int workers;                      // threads started (changed by the job's caller only)
    uint32_t start_generation[max_workers];
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, .caller_cpu = -1};

static uint32_t generation_of(uint64_t cursor) { return (uint32_t)(cursor >> 32); }

static long elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

/// Claims and runs iterations of job `generation` until none is left.
static void run_share(uint32_t generation) {
    for (;;) {
        uint64_t cursor = atomic_load(&pool.cursor);
        if (generation_of(cursor) != generation) return;
        long next = (long)(uint32_t)cursor;
        if (next >= atomic_load(&pool.iterations)) return;
        if (!atomic_compare_exchange_weak(&pool.cursor, &cursor, cursor + 1)) continue;
        bl_parallel_body body = atomic_load(&pool.body);
        body(atomic_load(&pool.context), next);
        atomic_fetch_sub(&pool.pending, 1);
    }
}

/// Moves this worker off the core of the current job's caller when it finds
/// itself there. The scheduler may place a new or woken worker on the
/// caller's core and leave it there (a thread that keeps spinning counts as
/// cache-hot and is not migrated), and then it only runs when the caller is
/// preempted. The worker briefly narrows its own affinity to the other
/// allowed cores, which migrates it at once, and restores the mask it had.
/// Returns 0 when it had to stay (no other allowed core).
static int leave_caller_cpu(void) {
#if defined(__linux__)
    int caller = atomic_load(&pool.caller_cpu);
    if (caller < 0 || sched_getcpu() != caller) return 1;
    cpu_set_t allowed, others;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    others = allowed;
    CPU_CLR(caller, &others);
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others) != 0) return 0;
    sched_setaffinity(0, sizeof allowed, &allowed);
#endif
    return 1;
}

/// Returns once the generation differs from `seen`.
static void wait_for_job(uint32_t seen) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned k = 1;; k++) {
        if (generation_of(atomic_load(&pool.cursor)) != seen) return;
        if ((k & 63) == 0) {
            long waited = elapsed_ns(&start);
            if (waited > spin_ns || !leave_caller_cpu()) break;
            if (waited > plain_spin_ns) sched_yield();
        } else {
            CPU_RELAX();
        }
    }
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add(&pool.sleepers, 1);
    while (generation_of(atomic_load(&pool.cursor)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.lock);
}

static void *worker_main(void *argument) {
    int index = (int)(intptr_t)argument;
    uint32_t seen = pool.start_generation[index];
    for (;;) {
        wait_for_job(seen);
        seen = generation_of(atomic_load(&pool.cursor));
        if (index < atomic_load(&pool.participants)) run_share(seen);
    }
    return NULL;
}

/// Starts workers up to `wanted` (the caller holds `busy`). Returns how
/// many of them may join the job: at most `wanted`, though more may exist
/// from an earlier, larger thread count.
static int start_workers(int wanted, uint32_t generation) {
    if (wanted > max_workers) wanted = max_workers;
    while (pool.workers < wanted) {
        pool.start_generation[pool.workers] = generation;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        int failed = pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)pool.workers);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.workers += 1;
    }
    return pool.workers < wanted ? pool.workers : wanted;
}

int bl_parallel_run(ptrdiff_t iterations, int threads, bl_parallel_body body, void *context) {
    if (iterations <= 0) return 1;
    if (threads < 2 || iterations > INT32_MAX) return 0;
    int idle = 0;
    if (!atomic_compare_exchange_strong(&pool.busy, &idle, 1)) return 0;
    uint32_t generation = generation_of(atomic_load(&pool.cursor));
    int helpers = start_workers(threads - 1, generation);
    if (helpers == 0) {
        atomic_store(&pool.busy, 0);
        return 0;
    }
    atomic_store(&pool.participants, helpers);
    atomic_store(&pool.body, body);
    atomic_store(&pool.context, context);
    atomic_store(&pool.iterations, (long)iterations);
    atomic_store(&pool.pending, (long)iterations);
#if defined(__linux__)
    atomic_store(&pool.caller_cpu, sched_getcpu());
#endif
    generation += 1;
    atomic_store(&pool.cursor, (uint64_t)generation << 32);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_share(generation);
    for (unsigned k = 1; atomic_load(&pool.pending) > 0; k++) {
        if ((k & 1023) == 0) sched_yield(); else CPU_RELAX();
    }
    atomic_store(&pool.busy, 0);
    return 1;
}
