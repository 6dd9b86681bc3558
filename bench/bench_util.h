/* bench_util.h: what the store benchmarks share: the seeded splitmix64 generator
 * (tests/splitmix.h; each bench keeps its own seed), wall and thread-CPU clocks in milliseconds, and removing a temporary directory
 * tree. Header-only (static functions): each bench program is one translation unit. Include it
 * after defining _XOPEN_SOURCE 700 (nftw). */
#ifndef TRUCE_BENCH_UTIL_H
#define TRUCE_BENCH_UTIL_H
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "splitmix.h" /* splitmix64: each bench keeps its own seed */

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
