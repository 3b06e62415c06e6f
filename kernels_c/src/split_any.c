/* SPLIT / SPLIT_V / UNPACK for any element size (outputs passed as an array of
 * pointers). */
#include <string.h>

#include "evo/shape.h"

evo_status_t evo_split_any(const evo_split_params_t *p, const void *input, void *const *outputs)
{
    const uint8_t *in = (const uint8_t *)input;
    int32_t offset = 0;
    int32_t i, k;

    if (p->count < 1 || p->outer < 0 || p->row_bytes < 0) {
        return EVO_ERR_ARG;
    }
    for (i = 0; i < p->count; ++i) {
        uint8_t *out = (uint8_t *)outputs[i];
        const int32_t n = p->part_bytes[i];
        if (n > 0) {
            for (k = 0; k < p->outer; ++k) {
                memcpy(out, in + (size_t)k * (size_t)p->row_bytes + (size_t)offset, (size_t)n);
                out += n;
            }
        }
        offset += n;
    }
    return offset == p->row_bytes ? EVO_OK : EVO_ERR_ARG;
}
