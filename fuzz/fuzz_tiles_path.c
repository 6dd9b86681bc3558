/* fuzz_tiles_path.c: libFuzzer harness for tiles_path_parse, the parser of the C2SP tlog-tiles
 * paths that `truce serve` answers under /log/. The input, NUL-terminated, is parsed; whatever
 * parses must be in range and format back to exactly the input with tiles_path (only canonical
 * paths are accepted). Seeds: fuzz/corpus/tiles_path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/tiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = malloc(size + 1);
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = 0;
    int level;
    uint64_t index;
    unsigned width;
    if (tiles_path_parse(z, &level, &index, &width) == 0) {
        char again[TILES_PATH_MAX];
        if (level < TILES_LEVEL_LARGE_ENTRIES || level > TILES_MAX_LEVEL || width < 1 ||
            width > TILES_WIDTH || tiles_path(again, sizeof again, level, index, width) != 0 ||
            strcmp(again, z) != 0)
            abort();
    }
    free(z);
    return 0;
}
