/* splitmix.h: the seeded splitmix64 generator the tests and benchmarks draw their inputs from
 * (the caller owns the state, so each program keeps its own seed and sequence). Header-only. */
#ifndef TRUCE_SPLITMIX_H
#define TRUCE_SPLITMIX_H
#include <stdint.h>

/* The next number of the splitmix64 sequence at *state. */
static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The next number of the sequence as a uniform double in [0, 1). */
static inline double splitmix01(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}
#endif
