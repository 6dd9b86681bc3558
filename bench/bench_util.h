/* bench_util.h: what the store benchmarks share: a seeded splitmix64 generator (each bench keeps
 * its own seed), wall and thread-CPU clocks in milliseconds, and removing a temporary directory
 * tree. Header-only (static functions): each bench program is one translation unit. Include it
 * after defining _XOPEN_SOURCE 700 (nftw). */
#ifndef TRUCE_BENCH_UTIL_H
#define TRUCE_BENCH_UTIL_H
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* The next number of the splitmix64 sequence at *state. */
static inline uint64_t bench_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A uniform number in [0, 1) from the sequence at *state. */
static inline double bench_unit(uint64_t *state)
{
    return (double)(bench_splitmix(state) >> 11) * 0x1.0p-53;
}

/* Monotonic wall time, ms. */
static inline double bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* CPU time of this thread (user + system, page faults of a mapped database included), ms. */
static inline double bench_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int bench_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the directory tree at dir (a benchmark's temporary store). */
static inline void bench_rm_tree(const char *dir)
{
    nftw(dir, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
#endif
