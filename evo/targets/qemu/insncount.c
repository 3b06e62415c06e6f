/* EVO's instruction counter for qemu-system-arm (TCG plugin API v1, QEMU 7.x).
 *
 * Debian's QEMU 7.2 supports -plugin but ships neither plugins nor qemu-plugin.h, so the few
 * API entry points used are declared here.
 *
 *   qemu-system-arm ... -plugin libevo_insncount.so,mark=0xADDR,out=FILE[,pcs=FILE2]
 *
 * Counts every executed guest instruction exactly (an inline counter per instruction) and
 * records the running total each time the instruction at `mark` (the firmware's
 * evo_layer_hook) executes. The output file holds "total=N" and "marks=a,b,c,...": the
 * differences between consecutive marks are per-layer instruction counts. With pcs=FILE2 each
 * instruction address also gets its own inline counter, written as "ADDR COUNT" lines (hex,
 * decimal) for a per-function profile. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

static uint64_t total;
static uint64_t mark_pc = UINT64_MAX;
static uint64_t *marks;
static size_t n_marks, cap_marks;
static const char *out_path;

/* Per-address counters (pcs=): a chained hash table; entries are never freed or moved, since
 * the inline adds of translated blocks hold their addresses. */
#define PC_BUCKETS 65536u
struct pc_entry {
    uint64_t pc, count;
    struct pc_entry *next;
};
static struct pc_entry *pc_table[PC_BUCKETS];
static const char *pcs_path;

static uint64_t *pc_counter(uint64_t pc)
{
    struct pc_entry **head = &pc_table[(pc >> 1) % PC_BUCKETS], *e;
    for (e = *head; e; e = e->next) {
        if (e->pc == pc) {
            return &e->count;
        }
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    e->pc = pc;
    e->next = *head;
    *head = e;
    return &e->count;
}

static void on_mark(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    if (n_marks == cap_marks) {
        size_t cap = cap_marks ? cap_marks * 2 : 256;
        uint64_t *grown = realloc(marks, cap * sizeof *marks);
        if (!grown) {
            return;
        }
        marks = grown;
        cap_marks = cap;
    }
    /* Exec callbacks run before the inline add of the same instruction. */
    marks[n_marks++] = total;
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t i, n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (qemu_plugin_insn_vaddr(insn) == mark_pc) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total, 1);
        if (pcs_path) {
            uint64_t *c = pc_counter(qemu_plugin_insn_vaddr(insn));
            if (c) {
                qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, c, 1);
            }
        }
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata)
{
    FILE *f;
    size_t i;
    (void)id;
    (void)udata;
    if (!out_path || !(f = fopen(out_path, "w"))) {
        return;
    }
    fprintf(f, "total=%" PRIu64 "\nmarks=", total);
    for (i = 0; i < n_marks; i++) {
        fprintf(f, i ? ",%" PRIu64 : "%" PRIu64, marks[i]);
    }
    fputc('\n', f);
    fclose(f);
    if (pcs_path && (f = fopen(pcs_path, "w"))) {
        for (i = 0; i < PC_BUCKETS; i++) {
            const struct pc_entry *e;
            for (e = pc_table[i]; e; e = e->next) {
                if (e->count) {
                    fprintf(f, "%" PRIx64 " %" PRIu64 "\n", e->pc, e->count);
                }
            }
        }
        fclose(f);
    }
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "mark=", 5)) {
            mark_pc = strtoull(argv[i] + 5, NULL, 0) & ~1ull; /* drop the Thumb bit */
        } else if (!strncmp(argv[i], "out=", 4)) {
            out_path = argv[i] + 4;
        } else if (!strncmp(argv[i], "pcs=", 4)) {
            pcs_path = argv[i] + 4;
        } else {
            fprintf(stderr, "evo insncount: unknown argument %s\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
