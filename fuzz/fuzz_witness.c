/* fuzz_witness.c: libFuzzer harness for src/witness. The input is parsed as an add-checkpoint
 * request body (whatever parses must build back to the same bytes: the parser accepts only the
 * canonical form) and submitted to a witness that knows one log (fixed test keys below, whose
 * signed requests are among the seeds); the answer must be consistent (0 exactly with 200, a
 * known status, a 200 body that verifies as the witness's cosignature over the note). The
 * witness starts with no state for every input: after a 200 its state file is removed and it is
 * reopened, so runs are reproducible. An input holding a NUL byte is also split there into a
 * signed note and cosignature lines for witness_note_add_cosignatures. The state directory is
 * made under $TMPDIR (default /tmp) and removed at exit. Seeds: fuzz/corpus/witness. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "witness/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Test keys, for this harness only. */
#define ORIGIN "log.truce.example/fuzz"
static const char LOG_VKEY[] =
    "log.truce.example/fuzz+c96f71fd+AS/QzsCc84SW/kDvkTAv2ZrvLbWVmQY8hq+m9GWMNhJQ";
static const char WIT_SKEY[] = "PRIVATE+KEY+witness.truce.example/fuzz+6be83cb1+"
                               "BGV3GEZbp6MESYICOgkQGetEGsuPMUJ3479DuRPTdwMj";
static const char WIT_VKEY[] =
    "witness.truce.example/fuzz+6be83cb1+BIE3f4QaVOBKOzbBXfRmeTv0qasClHBMVwUK92TQz8Uf";

static char dir[512], state_path[1024];
static struct witness *w;
static struct note_verifier *wv;

static void reopen(void)
{
    static const struct witness_log logs[1] = {{ORIGIN, LOG_VKEY}};
    struct errbuf e;
    witness_close(w);
    w = NULL;
    unlink(state_path);
    if (witness_open(dir, WIT_SKEY, logs, 1, &w, &e) != 0) {
        fprintf(stderr, "fuzz_witness: %s\n", e.msg);
        abort();
    }
}

static void cleanup(void)
{
    witness_close(w);
    note_verifier_free(wv);
    unlink(state_path);
    rmdir(dir);
}

static void setup(void)
{
    if (w)
        return;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/truce-fuzz-witness-XXXXXX", base && *base ? base : "/tmp");
    struct errbuf e;
    if (!mkdtemp(dir) || note_verifier_parse(WIT_VKEY, &wv, &e) != 0)
        abort();
    char name[WITNESS_STATE_NAME_SIZE];
    witness_state_file(ORIGIN, name);
    snprintf(state_path, sizeof state_path, "%s/%s", dir, name);
    reopen();
    atexit(cleanup);
}

static void check_round_trip(const char *req, size_t len)
{
    struct witness_request r;
    struct errbuf e;
    if (witness_request_parse(req, len, &r, &e) != 0)
        return;
    if (r.n_proof > WITNESS_MAX_PROOF || r.note < req || r.note_len == 0 ||
        r.note + r.note_len != req + len)
        abort();
    struct buf b;
    buf_init(&b);
    if (witness_request_build(r.old_size, r.proof, r.n_proof, r.note, r.note_len, &b, &e) != 0 ||
        b.len != len || memcmp(b.p, req, len) != 0) {
        fprintf(stderr, "fuzz_witness: request does not round trip\n");
        abort();
    }
    buf_reset(&b);
}

static void check_add(const char *req, size_t len)
{
    struct buf resp;
    buf_init(&resp);
    int status = 0;
    struct errbuf e;
    int rc = witness_add_checkpoint(w, req, len, &resp, &status, &e);
    switch (status) {
    case WITNESS_OK: case WITNESS_BAD_REQUEST: case WITNESS_FORBIDDEN: case WITNESS_NOT_FOUND:
    case WITNESS_CONFLICT: case WITNESS_TOO_LARGE: case WITNESS_UNPROCESSABLE:
        break;
    default:
        abort(); /* 500 cannot happen here: the state directory is writable */
    }
    if ((rc == 0) != (status == WITNESS_OK) || (resp.len && resp.p[resp.len - 1] != '\n'))
        abort();
    (void)witness_content_type(status, resp.p, resp.len);
    if (status == WITNESS_OK) {
        struct witness_request r;
        if (witness_request_parse(req, len, &r, &e) != 0)
            abort();
        size_t tlen = 0;
        for (size_t i = r.note_len; i >= 2 && !tlen; i--)
            if (r.note[i - 2] == '\n' && r.note[i - 1] == '\n')
                tlen = i - 1;
        uint64_t ts;
        if (note_cosig_verify(r.note, tlen, resp.p, resp.len, wv, &ts, &e) != 0) {
            fprintf(stderr, "fuzz_witness: the cosignature does not verify: %s\n", e.msg);
            abort();
        }
        reopen(); /* back to no state */
    }
    buf_reset(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    const char *in = (const char *)data;
    check_round_trip(in, size);
    check_add(in, size);

    const char *nul = memchr(in, '\0', size);
    if (nul) {
        size_t n = (size_t)(nul - in);
        struct buf out;
        buf_init(&out);
        size_t added = 0;
        struct errbuf e;
        int rc = witness_note_add_cosignatures(in, n, nul + 1, size - n - 1, &wv, 1, &out, &added,
                                               &e);
        if (rc == 0 && (added > 1 || out.len < n + added || memcmp(out.p, in, n) != 0))
            abort(); /* the note, then at most one line: one witness */
        if (rc != 0 && out.len != 0)
            abort();
        buf_reset(&out);
    }
    return 0;
}
