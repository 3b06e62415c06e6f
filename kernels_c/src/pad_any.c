/* PAD / PADV2 for any element size: walks the output in order, writing the pad value outside
 * the input's window and the next input row inside it. */
#include <string.h>

#include "evo/shape.h"

static void fill(uint8_t *out, const uint8_t *value, size_t es, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        memcpy(out, value, es);
        out += es;
    }
}

evo_status_t evo_pad_any(const evo_pad_params_t *p, const void *input, const void *pad_value,
                         void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    const uint8_t *value = (const uint8_t *)pad_value;
    uint8_t *out = (uint8_t *)output;
    const size_t es = (size_t)p->elem_size;
    const int32_t *od = p->out_dims;
    const int32_t *id = p->in_dims;
    const int32_t *l = p->left;
    const int32_t row_in = id[4];
    const int32_t right = od[4] - l[4] - id[4];
    int32_t a, b, c, d;

    if (p->elem_size <= 0) {
        return EVO_ERR_ARG;
    }
    for (a = 0; a < od[0]; ++a) {
        const int a_in = a >= l[0] && a < l[0] + id[0];
        for (b = 0; b < od[1]; ++b) {
            const int b_in = a_in && b >= l[1] && b < l[1] + id[1];
            for (c = 0; c < od[2]; ++c) {
                const int c_in = b_in && c >= l[2] && c < l[2] + id[2];
                for (d = 0; d < od[3]; ++d) {
                    if (c_in && d >= l[3] && d < l[3] + id[3]) {
                        fill(out, value, es, l[4]);
                        out += (size_t)l[4] * es;
                        memcpy(out, in, (size_t)row_in * es);
                        out += (size_t)row_in * es;
                        in += (size_t)row_in * es;
                        fill(out, value, es, right);
                        out += (size_t)right * es;
                    } else {
                        fill(out, value, es, od[4]);
                        out += (size_t)od[4] * es;
                    }
                }
            }
        }
    }
    return EVO_OK;
}
