/* test_witness.c: the tlog-witness (src/witness) against real trees and keys: persisted ledger
 * trees in a temporary directory give the roots and consistency proofs, fresh note keys the log
 * and witness keys, note_checkpoint_format + note_sign the checkpoints. Covers the first
 * checkpoint (trust on first use), extensions with verified cosignatures, every refusal with its
 * status (409 with the held size, split view, smaller tree, bad proofs, unknown origin and keys,
 * malformed bodies), state across reopening, a failed state write (nothing cosigned), the
 * request builder and parser, and attaching cosignatures on the log side. Files live in a fresh
 * directory under $TMPDIR (default /tmp), removed at the end. */
#include "t.h"
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "note/note.h"
#include "witness/witness.h"

#define ORIGIN "truce.example/log"
#define ORIGIN2 "truce.example/other log" /* a space: valid in an origin, not in a key name */
#define LOG2_KEY_NAME "truce.example/other-log"
#define WIT_NAME "witness.truce.example/w1"
#define WIT2_NAME "witness.truce.example/w2"

static char tmpdir[512];
static int dir_serial;

/* keys made once in main */
static char log_skey[NOTE_SKEY_SIZE], log_vkey[NOTE_VKEY_SIZE];
static char log2_skey[NOTE_SKEY_SIZE], log2_vkey[NOTE_VKEY_SIZE];
static char evil_skey[NOTE_SKEY_SIZE], evil_vkey[NOTE_VKEY_SIZE]; /* same name as log key */
static char wit_skey[NOTE_SKEY_SIZE], wit_vkey[NOTE_VKEY_SIZE];
static char wit2_skey[NOTE_SKEY_SIZE], wit2_vkey[NOTE_VKEY_SIZE];

/* ---- helpers ---- */

/* Removes every file in dir and dir itself (one level: the tests make no subfolders but in
 * test_state_write_failure, which removes its own). */
static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[1024];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            if (unlink(path) != 0)
                rmdir(path);
        }
    closedir(d);
    rmdir(dir);
}

/* A fresh empty directory under tmpdir into out. */
static void new_dir(char *out, size_t n, const char *what)
{
    snprintf(out, n, "%s/%s-%d", tmpdir, what, ++dir_serial);
    if (mkdir(out, 0700) != 0)
        T_FAIL_("mkdir %s", out);
}

/* A tree of size leaves "<tag> <i>" in a fresh directory (the caller closes it and rm_dir's
 * dir). */
static struct ledger_tree *make_tree(char *dir, size_t dn, const char *tag, uint64_t size)
{
    new_dir(dir, dn, "tree");
    char path[1024];
    snprintf(path, sizeof path, "%s/leaves", dir);
    struct ledger_tree *t = NULL;
    struct errbuf e;
    if (ledger_open(path, true, &t, &e) != 0) {
        T_FAIL_("ledger_open: %s", e.msg);
        return NULL;
    }
    for (uint64_t i = 0; i < size; i++) {
        char leaf[64];
        int n = snprintf(leaf, sizeof leaf, "%s %llu", tag, (unsigned long long)i);
        if (ledger_append(t, leaf, (size_t)n, NULL, &e) != 0)
            T_FAIL_("ledger_append: %s", e.msg);
    }
    return t;
}

static struct ledger_hash root_of(struct ledger_tree *t, uint64_t n)
{
    struct ledger_hash h;
    struct errbuf e;
    if (ledger_root(t, n, &h, &e) != 0)
        T_FAIL_("ledger_root: %s", e.msg);
    return h;
}

/* A checkpoint note (origin, size, root) signed by skey, into out (reset first). */
static void checkpoint_note(const char *origin, uint64_t size, const struct ledger_hash *root,
                            const char *skey, struct buf *out)
{
    struct note_checkpoint c;
    memset(&c, 0, sizeof c);
    str_copy(c.origin, sizeof c.origin, origin);
    c.size = size;
    memcpy(c.hash, root->b, NOTE_HASH_BYTES);
    struct buf text;
    buf_init(&text);
    struct errbuf e;
    struct note_signer *s = NULL;
    buf_reset(out);
    if (note_checkpoint_format(&c, &text, &e) != 0 || note_signer_parse(skey, &s, &e) != 0 ||
        note_sign(text.p, text.len, &s, 1, out, &e) != 0)
        T_FAIL_("checkpoint_note: %s", e.msg);
    note_signer_free(s);
    buf_reset(&text);
}

/* The add-checkpoint request for tree t at size n (signed by skey as origin), from old size
 * old with the tree's own consistency proof, into req (reset first). */
static void request_for(struct ledger_tree *t, const char *origin, const char *skey, uint64_t old,
                        uint64_t n, struct buf *req)
{
    struct ledger_hash proof[LEDGER_MAX_PROOF], root = root_of(t, n);
    size_t np = 0;
    struct errbuf e;
    if (ledger_consistency_proof(t, old, n, proof, &np, &e) != 0)
        T_FAIL_("ledger_consistency_proof(%llu, %llu): %s", (unsigned long long)old,
                (unsigned long long)n, e.msg);
    struct buf note;
    buf_init(&note);
    checkpoint_note(origin, n, &root, skey, &note);
    buf_reset(req);
    if (witness_request_build(old, proof, np, note.p, note.len, req, &e) != 0)
        T_FAIL_("witness_request_build: %s", e.msg);
    buf_reset(&note);
}

/* witness_request_build into req after emptying it. */
static int build_req(uint64_t old, const struct ledger_hash *proof, size_t np, const char *note,
                     size_t note_len, struct buf *req, struct errbuf *e)
{
    buf_reset(req);
    return witness_request_build(old, proof, np, note, note_len, req, e);
}

static struct witness *open_witness(const char *dir)
{
    const struct witness_log logs[2] = {{ORIGIN, log_vkey}, {ORIGIN2, log2_vkey}};
    struct witness *w = NULL;
    struct errbuf e;
    if (witness_open(dir, wit_skey, logs, 2, &w, &e) != 0)
        T_FAIL_("witness_open: %s", e.msg);
    return w;
}

/* Submits req; returns the status; the body goes to resp. */
static int submit(struct witness *w, const struct buf *req, struct buf *resp)
{
    int status = 0;
    struct errbuf e;
    e.msg[0] = '\0';
    int rc = witness_add_checkpoint(w, req->p, req->len, resp, &status, &e);
    if ((rc == 0) != (status == WITNESS_OK))
        T_FAIL_("rc %d with status %d", rc, status);
    if (status != WITNESS_OK && e.msg[0] == '\0')
        T_FAIL_("status %d without a message", status);
    return status;
}

static int submit_str(struct witness *w, const char *s, struct buf *resp)
{
    struct buf b = {(char *)s, strlen(s), 0};
    return submit(w, &b, resp);
}

/* Verifies that resp is one cosignature line from the test witness over the note in req, and
 * that the note with it attached opens with the witness and log keys. */
static void check_cosigned(const struct buf *req, const struct buf *resp)
{
    struct witness_request r;
    struct errbuf e;
    if (witness_request_parse(req->p, req->len, &r, &e) != 0) {
        T_FAIL_("parse: %s", e.msg);
        return;
    }
    const char *blank = NULL;
    for (size_t i = r.note_len; i >= 2 && !blank; i--)
        if (r.note[i - 2] == '\n' && r.note[i - 1] == '\n')
            blank = r.note + i - 1;
    size_t tlen = (size_t)(blank - r.note);

    struct note_verifier *wv = NULL, *lv = NULL;
    CHECK_INT(note_verifier_parse(wit_vkey, &wv, &e), 0);
    CHECK_INT(note_verifier_parse(log_vkey, &lv, &e), 0);
    CHECK(resp->len > 4 && strncmp(resp->p, "— ", strlen("— ")) == 0);
    CHECK(resp->len > 0 && resp->p[resp->len - 1] == '\n');
    uint64_t ts = 0;
    CHECK_INT(note_cosig_verify(r.note, tlen, resp->p, resp->len, wv, &ts, &e), 0);
    uint64_t now = (uint64_t)time(NULL);
    CHECK(ts + 60 >= now && ts <= now + 60);

    struct buf full;
    buf_init(&full);
    size_t added = 0;
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, resp->p, resp->len, &wv, 1, &full,
                                            &added, &e),
              0);
    CHECK_INT(added, 1);
    struct note_verifier *vs[2] = {lv, wv};
    struct note_opened o;
    CHECK_INT(note_open(full.p, full.len, vs, 2, &o, &e), 0);
    CHECK_INT(o.nverified, 2);
    if (o.timestamps)
        CHECK_INT(o.timestamps[1], ts);
    note_opened_free(&o);
    buf_reset(&full);
    note_verifier_free(wv);
    note_verifier_free(lv);
}

static void check_latest(struct witness *w, const char *origin, uint64_t size,
                         const struct ledger_hash *root)
{
    uint64_t s = 99;
    struct ledger_hash h;
    struct errbuf e;
    CHECK_INT(witness_latest(w, origin, &s, &h, &e), 0);
    CHECK_INT(s, size);
    CHECK(ledger_hash_eq(&h, root));
}

/* ---- tests ---- */

static void test_first_then_extensions(void)
{
    char sdir[512], tdir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 20);
    struct witness *w = open_witness(sdir);
    if (!t || !w)
        return;
    struct buf req, resp;
    buf_init(&req);
    buf_init(&resp);
    struct ledger_hash empty;
    ledger_empty_root(&empty);
    check_latest(w, ORIGIN, 0, &empty);

    /* first checkpoint: old 0, empty proof (trust on first use) */
    request_for(t, ORIGIN, log_skey, 0, 5, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    check_cosigned(&req, &resp);
    struct ledger_hash r5 = root_of(t, 5);
    check_latest(w, ORIGIN, 5, &r5);

    /* extensions with correct consistency proofs, including powers of two */
    const uint64_t sizes[] = {8, 9, 16, 20};
    uint64_t old = 5;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        request_for(t, ORIGIN, log_skey, old, sizes[i], &req);
        CHECK_INT(submit(w, &req, &resp), 200);
        check_cosigned(&req, &resp);
        old = sizes[i];
    }
    struct ledger_hash r20 = root_of(t, 20);
    check_latest(w, ORIGIN, 20, &r20);

    /* the held checkpoint again (old == size, same root, empty proof): cosigned again */
    request_for(t, ORIGIN, log_skey, 20, 20, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    check_cosigned(&req, &resp);

    /* the other log is independent: old 0 still applies there */
    request_for(t, ORIGIN2, log2_skey, 0, 3, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    check_latest(w, ORIGIN, 20, &r20);

    buf_reset(&req);
    buf_reset(&resp);
    witness_close(w);
    ledger_close(t);
    rm_dir(tdir);
    rm_dir(sdir);
}

static void test_empty_tree_first(void)
{
    char sdir[512], tdir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 4);
    struct witness *w = open_witness(sdir);
    if (!t || !w)
        return;
    struct buf req, resp;
    buf_init(&req);
    buf_init(&resp);
    /* a size-0 checkpoint must carry the empty root */
    struct ledger_hash r4 = root_of(t, 4);
    struct buf note;
    buf_init(&note);
    struct errbuf e;
    checkpoint_note(ORIGIN, 0, &r4, log_skey, &note);
    CHECK_INT(build_req(0, NULL, 0, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 409); /* same size 0, different root */
    request_for(t, ORIGIN, log_skey, 0, 0, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    check_cosigned(&req, &resp);
    request_for(t, ORIGIN, log_skey, 0, 4, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    buf_reset(&note);
    buf_reset(&req);
    buf_reset(&resp);
    witness_close(w);
    ledger_close(t);
    rm_dir(tdir);
    rm_dir(sdir);
}

static void test_refusals(void)
{
    char sdir[512], tdir[512], t2dir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 16);
    struct ledger_tree *fork = make_tree(t2dir, sizeof t2dir, "b", 16); /* other leaves */
    struct witness *w = open_witness(sdir);
    if (!t || !fork || !w)
        return;
    struct buf req, resp;
    buf_init(&req);
    buf_init(&resp);
    request_for(t, ORIGIN, log_skey, 0, 9, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    struct ledger_hash r9 = root_of(t, 9);

    /* wrong old size: 409 with the held size, text/x.tlog.size */
    request_for(t, ORIGIN, log_skey, 5, 12, &req);
    CHECK_INT(submit(w, &req, &resp), 409);
    CHECK_STR(resp.p, "9\n");
    CHECK_STR(witness_content_type(409, resp.p, resp.len), WITNESS_SIZE_CONTENT_TYPE);
    request_for(t, ORIGIN, log_skey, 0, 12, &req);
    CHECK_INT(submit(w, &req, &resp), 409);
    CHECK_STR(resp.p, "9\n");
    request_for(t, ORIGIN, log_skey, 10, 12, &req);
    CHECK_INT(submit(w, &req, &resp), 409);
    CHECK_STR(resp.p, "9\n");

    /* smaller tree: old 9 above its size is a bad request; its own size is a conflict */
    struct ledger_hash r5 = root_of(t, 5), proof[LEDGER_MAX_PROOF];
    struct buf note;
    buf_init(&note);
    struct errbuf e;
    checkpoint_note(ORIGIN, 5, &r5, log_skey, &note);
    CHECK_INT(build_req(9, NULL, 0, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 400);
    CHECK_CONTAINS(resp.p, "above the checkpoint size");
    request_for(t, ORIGIN, log_skey, 5, 5, &req);
    CHECK_INT(submit(w, &req, &resp), 409);
    CHECK_STR(resp.p, "9\n");

    /* split view at the same size: a second tree with different leaves */
    request_for(fork, ORIGIN, log_skey, 9, 9, &req);
    CHECK_INT(submit(w, &req, &resp), 409);
    CHECK_CONTAINS(resp.p, "split view");
    CHECK_STR(witness_content_type(409, resp.p, resp.len), WITNESS_TEXT_CONTENT_TYPE);
    /* and at a larger size, with the fork's own (valid for the fork) proof: 422 */
    request_for(fork, ORIGIN, log_skey, 9, 14, &req);
    CHECK_INT(submit(w, &req, &resp), 422);

    /* bad proofs: one flipped bit, one hash missing, one too many, none at all */
    size_t np = 0;
    struct ledger_hash r14 = root_of(t, 14);
    CHECK_INT(ledger_consistency_proof(t, 9, 14, proof, &np, &e), 0);
    checkpoint_note(ORIGIN, 14, &r14, log_skey, &note);
    proof[1].b[7] ^= 0x10;
    CHECK_INT(build_req(9, proof, np, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 422);
    proof[1].b[7] ^= 0x10;
    CHECK_INT(build_req(9, proof, np - 1, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 422);
    proof[np] = proof[0];
    CHECK_INT(build_req(9, proof, np + 1, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 422);
    CHECK_INT(build_req(9, NULL, 0, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 422);
    /* the held checkpoint with a (needless) proof hash */
    checkpoint_note(ORIGIN, 9, &r9, log_skey, &note);
    CHECK_INT(build_req(9, proof, 1, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 422);
    /* first checkpoint of the other log with a non-empty proof */
    struct ledger_hash r3 = root_of(t, 3);
    checkpoint_note(ORIGIN2, 3, &r3, log2_skey, &note);
    CHECK_INT(build_req(0, proof, 1, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 422);
    /* the correct proof still works, and nothing above moved the state */
    check_latest(w, ORIGIN, 9, &r9);
    CHECK_INT(build_req(9, proof, np, note.p, 0, &req, &e), ERR_INVAL);
    checkpoint_note(ORIGIN, 14, &r14, log_skey, &note);
    CHECK_INT(build_req(9, proof, np, note.p, note.len, &req, &e), 0);
    CHECK_INT(submit(w, &req, &resp), 200);
    check_cosigned(&req, &resp);

    /* signatures: an unknown key with the log's name, a log's key for another origin, a broken
     * signature from the right key: 403; an unknown origin: 404 */
    request_for(t, ORIGIN, evil_skey, 14, 16, &req);
    CHECK_INT(submit(w, &req, &resp), 403);
    request_for(t, ORIGIN, log2_skey, 14, 16, &req);
    CHECK_INT(submit(w, &req, &resp), 403);
    request_for(t, ORIGIN, log_skey, 14, 16, &req);
    char *dash = strstr(req.p, "\n\n— ");
    CHECK(dash != NULL);
    if (dash) {
        char *sig = strchr(dash + strlen("\n\n— ") + 1, ' ') + 1;
        sig[10] = sig[10] == 'A' ? 'B' : 'A';
        CHECK_INT(submit(w, &req, &resp), 403);
    }
    request_for(t, "truce.example/unknown", log_skey, 14, 16, &req);
    CHECK_INT(submit(w, &req, &resp), 404);
    CHECK_CONTAINS(resp.p, "unknown log");
    struct ledger_hash r14b;
    uint64_t s = 0;
    CHECK_INT(witness_latest(w, "truce.example/unknown", &s, &r14b, &e), ERR_NOTFOUND);
    check_latest(w, ORIGIN, 14, &r14);

    buf_reset(&note);
    buf_reset(&req);
    buf_reset(&resp);
    witness_close(w);
    ledger_close(t);
    ledger_close(fork);
    rm_dir(tdir);
    rm_dir(t2dir);
    rm_dir(sdir);
}

static void test_malformed(void)
{
    char sdir[512], tdir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 4);
    struct witness *w = open_witness(sdir);
    if (!t || !w)
        return;
    struct buf req, resp, bad;
    buf_init(&req);
    buf_init(&resp);
    buf_init(&bad);
    request_for(t, ORIGIN, log_skey, 0, 4, &req);
    const char *note = strstr(req.p, "\n\n") + 2;
    static const char *const heads[] = {
        "",
        "old\n\n",
        "old 4\n",                /* nothing after */
        "old 4\n\n",              /* no checkpoint */
        "old 04\n\n",             /* leading zero */
        "old -1\n\n",
        "old +1\n\n",
        "old 1 \n\n",
        "Old 0\n\n",
        "old  0\n\n",
        "old 0\r\n\r\n",
        "old 18446744073709551616\n\n",           /* 2^64 */
        "old 0\nAAAA\n\n",                        /* short proof line */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\n", /* pad bits set */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n",  /* no pad */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n", /* 31 bytes */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A=\n\n",  /* URL alphabet */
        "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \n\n",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        buf_reset(&bad);
        CHECK_INT(buf_printf(&bad, "%s%s", heads[i], i < 4 ? "" : note), 0); /* 0-3 as written */
        int st = submit(w, &bad, &resp);
        if (st != 400)
            T_FAIL_("head %zu (%s): status %d, want 400", i, heads[i], st);
    }
    /* no empty line between the proof and the checkpoint */
    buf_reset(&bad);
    CHECK_INT(buf_printf(&bad, "old 0\n%s", note), 0);
    CHECK_INT(submit(w, &bad, &resp), 400);
    /* 64 proof lines */
    buf_reset(&bad);
    CHECK_INT(buf_printf(&bad, "old 0\n"), 0);
    for (int i = 0; i < 64; i++)
        CHECK_INT(buf_printf(&bad, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0);
    CHECK_INT(buf_printf(&bad, "\n%s", note), 0);
    CHECK_INT(submit(w, &bad, &resp), 400);
    CHECK_CONTAINS(resp.p, "more than 63");
    /* the note: no signatures, not a checkpoint, a control character, a bad signature line */
    CHECK_INT(submit_str(w, "old 0\n\n" ORIGIN "\n4\n", &resp), 400);
    CHECK_INT(submit_str(w, "old 0\n\nhello\n\n— x AAAA\n", &resp), 400);
    buf_reset(&bad);
    CHECK_INT(buf_printf(&bad, "old 0\n\n%s", note), 0);
    bad.p[bad.len - 5] = '\x01';
    CHECK_INT(submit(w, &bad, &resp), 400);
    buf_reset(&bad);
    CHECK_INT(buf_printf(&bad, "old 0\n\n%s", note), 0);
    char *sig = strstr(bad.p, "\n— ");
    if (sig)
        memcpy(sig + 1, "-- ", 3);
    CHECK_INT(submit(w, &bad, &resp), 400);
    /* a body with a NUL byte inside the old line */
    struct buf nul = {"old 0\0\n\n", 8, 0};
    CHECK_INT(submit(w, &nul, &resp), 400);
    /* too large */
    buf_reset(&bad);
    CHECK_INT(buf_printf(&bad, "old 0\n\n%s", note), 0);
    while (bad.len <= WITNESS_MAX_REQUEST_BYTES)
        CHECK_INT(buf_printf(&bad, "— x AAAAAAAA\n"), 0);
    CHECK_INT(submit(w, &bad, &resp), 413);
    /* after all that, the right request still works */
    CHECK_INT(submit(w, &req, &resp), 200);
    buf_reset(&bad);
    buf_reset(&req);
    buf_reset(&resp);
    witness_close(w);
    ledger_close(t);
    rm_dir(tdir);
    rm_dir(sdir);
}

static void test_state_survives_reopen(void)
{
    char sdir[512], tdir[512], t2dir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 12);
    struct ledger_tree *fork = make_tree(t2dir, sizeof t2dir, "b", 12);
    struct witness *w = open_witness(sdir);
    if (!t || !fork || !w)
        return;
    struct buf req, resp;
    buf_init(&req);
    buf_init(&resp);
    struct errbuf e;
    request_for(t, ORIGIN, log_skey, 0, 7, &req);
    CHECK_INT(submit(w, &req, &resp), 200);

    /* one witness per state directory */
    struct witness *w2 = NULL;
    const struct witness_log logs[1] = {{ORIGIN, log_vkey}};
    CHECK_INT(witness_open(sdir, wit_skey, logs, 1, &w2, &e), ERR_CONFLICT);
    CHECK(w2 == NULL);
    witness_close(w);

    /* the response was lost (say the witness crashed after writing its state): the state holds */
    w = open_witness(sdir);
    if (!w)
        return;
    struct ledger_hash r7 = root_of(t, 7);
    check_latest(w, ORIGIN, 7, &r7);
    request_for(t, ORIGIN, log_skey, 0, 7, &req);
    CHECK_INT(submit(w, &req, &resp), 409);
    CHECK_STR(resp.p, "7\n");
    request_for(fork, ORIGIN, log_skey, 7, 7, &req); /* split view */
    CHECK_INT(submit(w, &req, &resp), 409);
    request_for(fork, ORIGIN, log_skey, 7, 12, &req);
    CHECK_INT(submit(w, &req, &resp), 422);
    request_for(t, ORIGIN, log_skey, 7, 7, &req); /* the log retries: same checkpoint */
    CHECK_INT(submit(w, &req, &resp), 200);
    check_cosigned(&req, &resp);
    request_for(t, ORIGIN, log_skey, 7, 12, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    witness_close(w);

    /* the state file: a signed note of the origin with the witness's cosignature, readable name */
    char name[WITNESS_STATE_NAME_SIZE], path[1024];
    witness_state_file(ORIGIN, name);
    CHECK(strncmp(name, "log-truce.example_log-", 22) == 0);
    CHECK(strlen(name) == strlen("log-truce.example_log-") + 16 + strlen(".checkpoint"));
    witness_state_file(ORIGIN2, name);
    CHECK(strncmp(name, "log-truce.example_other_log-", 28) == 0);
    witness_state_file(ORIGIN, name);
    snprintf(path, sizeof path, "%s/%s", sdir, name);
    char *data = NULL;
    size_t len = 0;
    CHECK_INT(file_read(path, 1 << 20, &data, &len, &e), 0);
    if (data) {
        struct note_verifier *wv = NULL, *lv = NULL;
        CHECK_INT(note_verifier_parse(wit_vkey, &wv, &e), 0);
        CHECK_INT(note_verifier_parse(log_vkey, &lv, &e), 0);
        struct note_verifier *vs[2] = {lv, wv};
        struct note_opened o;
        CHECK_INT(note_open(data, len, vs, 2, &o, &e), 0);
        CHECK_INT(o.nverified, 2);
        CHECK(strncmp(o.text, ORIGIN "\n12\n", strlen(ORIGIN "\n12\n")) == 0);
        note_opened_free(&o);
        note_verifier_free(wv);
        note_verifier_free(lv);
        free(data);
    }

    /* a state file holding another origin's checkpoint (hash collision, tampering) is refused */
    char other[WITNESS_STATE_NAME_SIZE], opath[1024];
    witness_state_file(ORIGIN2, other);
    snprintf(opath, sizeof opath, "%s/%s", sdir, other);
    CHECK_INT(rename(path, opath), 0);
    const struct witness_log both[2] = {{ORIGIN, log_vkey}, {ORIGIN2, log2_vkey}};
    CHECK_INT(witness_open(sdir, wit_skey, both, 2, &w2, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "holds a checkpoint of");
    /* a state file that is not a checkpoint */
    CHECK_INT(file_write_atomic(opath, "junk\n", 5, &e), 0);
    CHECK_INT(witness_open(sdir, wit_skey, both, 2, &w2, &e), ERR_PARSE);
    CHECK(w2 == NULL);

    buf_reset(&req);
    buf_reset(&resp);
    ledger_close(t);
    ledger_close(fork);
    rm_dir(tdir);
    rm_dir(t2dir);
    rm_dir(sdir);
}

/* The state must be durable before a cosignature leaves: when it cannot be written, the answer
 * is 500 with no cosignature, the held state does not move, and the witness refuses everything
 * until reopened. */
static void test_state_write_failure(void)
{
    char sdir[512], tdir[512], t2dir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 10);
    struct ledger_tree *fork = make_tree(t2dir, sizeof t2dir, "b", 10);
    struct witness *w = open_witness(sdir);
    if (!t || !fork || !w)
        return;
    struct buf req, resp;
    buf_init(&req);
    buf_init(&resp);
    request_for(t, ORIGIN, log_skey, 0, 4, &req);
    CHECK_INT(submit(w, &req, &resp), 200);

    /* block the state file of ORIGIN2 with a directory: its rename fails */
    char name[WITNESS_STATE_NAME_SIZE], path[1024];
    witness_state_file(ORIGIN2, name);
    snprintf(path, sizeof path, "%s/%s", sdir, name);
    CHECK_INT(mkdir(path, 0700), 0);
    request_for(t, ORIGIN2, log2_skey, 0, 6, &req);
    CHECK_INT(submit(w, &req, &resp), 500);
    CHECK(strstr(resp.p, "— ") == NULL);
    CHECK_CONTAINS(resp.p, "not cosigned");
    /* broken until reopened, for every log */
    request_for(t, ORIGIN, log_skey, 4, 10, &req);
    CHECK_INT(submit(w, &req, &resp), 500);
    CHECK(strstr(resp.p, "— ") == NULL);
    witness_close(w);

    /* a directory where a state file should be stops the witness from opening */
    struct witness *w2 = NULL;
    const struct witness_log logs[2] = {{ORIGIN, log_vkey}, {ORIGIN2, log2_vkey}};
    struct errbuf e;
    CHECK_INT(witness_open(sdir, wit_skey, logs, 2, &w2, &e), ERR_IO);
    CHECK(w2 == NULL);
    CHECK_INT(rmdir(path), 0);

    /* reopened: ORIGIN2 holds nothing, ORIGIN still 4; a fork of ORIGIN2 may now be the first
     * (nothing was ever cosigned for it) */
    w = open_witness(sdir);
    if (!w)
        return;
    struct ledger_hash empty, r4 = root_of(t, 4);
    ledger_empty_root(&empty);
    check_latest(w, ORIGIN2, 0, &empty);
    check_latest(w, ORIGIN, 4, &r4);
    request_for(fork, ORIGIN2, log2_skey, 0, 6, &req);
    CHECK_INT(submit(w, &req, &resp), 200);
    request_for(t, ORIGIN, log_skey, 4, 10, &req);
    CHECK_INT(submit(w, &req, &resp), 200);

    buf_reset(&req);
    buf_reset(&resp);
    witness_close(w);
    ledger_close(t);
    ledger_close(fork);
    rm_dir(tdir);
    rm_dir(t2dir);
    rm_dir(sdir);
}

static void test_open_errors(void)
{
    char sdir[512];
    new_dir(sdir, sizeof sdir, "state");
    struct witness *w = NULL;
    struct errbuf e;
    const struct witness_log one[1] = {{ORIGIN, log_vkey}};
    const struct witness_log dup[2] = {{ORIGIN, log_vkey}, {ORIGIN, log2_vkey}};
    const struct witness_log cosig_log[1] = {{ORIGIN, wit2_vkey}};
    const struct witness_log bad_key[1] = {{ORIGIN, "nonsense"}};
    const struct witness_log bad_origin[1] = {{"a\tb", log_vkey}};
    const struct witness_log empty_origin[1] = {{"", log_vkey}};
    CHECK_INT(witness_open(sdir, wit_skey, dup, 2, &w, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "configured twice");
    CHECK_INT(witness_open(sdir, wit_skey, cosig_log, 1, &w, &e), ERR_INVAL);
    CHECK_INT(witness_open(sdir, wit_skey, bad_key, 1, &w, &e), ERR_PARSE);
    CHECK_INT(witness_open(sdir, wit_skey, bad_origin, 1, &w, &e), ERR_INVAL);
    CHECK_INT(witness_open(sdir, wit_skey, empty_origin, 1, &w, &e), ERR_INVAL);
    CHECK_INT(witness_open(sdir, log_skey, one, 1, &w, &e), ERR_INVAL); /* not a cosig key */
    CHECK_CONTAINS(e.msg, "cosignature");
    CHECK_INT(witness_open(sdir, wit_skey, one, WITNESS_MAX_LOGS + 1, &w, &e), ERR_TOOBIG);
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir", tmpdir);
    CHECK_INT(witness_open(nodir, wit_skey, one, 1, &w, &e), ERR_IO);
    CHECK(w == NULL);
    /* no key string and no key file */
    CHECK_INT(witness_open(sdir, NULL, one, 1, &w, &e), ERR_NOTFOUND);
    /* zero logs is allowed (everything is 404) */
    CHECK_INT(witness_open(sdir, wit_skey, NULL, 0, &w, &e), 0);
    struct buf resp;
    buf_init(&resp);
    int status = 0;
    const char req[] = "old 0\n\n" ORIGIN "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
                       "— x AAAAAAAA\n";
    CHECK_INT(witness_add_checkpoint(w, req, sizeof req - 1, &resp, &status, &e), ERR_NOTFOUND);
    CHECK_INT(status, 404);
    buf_reset(&resp);
    witness_close(w);
    witness_close(NULL);
    rm_dir(sdir);
}

static void test_key_file(void)
{
    char sdir[512];
    snprintf(sdir, sizeof sdir, "%s/keyed-%d", tmpdir, ++dir_serial); /* created by the call */
    char vkey[NOTE_VKEY_SIZE];
    struct errbuf e;
    CHECK_INT(witness_key_create(sdir, "witness.truce.example/w9", vkey, sizeof vkey, &e), 0);
    CHECK(strncmp(vkey, "witness.truce.example/w9+", 25) == 0);
    CHECK_INT(witness_key_create(sdir, "witness.truce.example/w9", NULL, 0, &e), ERR_CONFLICT);
    CHECK_INT(witness_key_create(sdir, "bad name", NULL, 0, &e), ERR_INVAL);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", sdir, WITNESS_KEY_NAME);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/%s", sdir, WITNESS_VKEY_NAME);
    char *data = NULL;
    size_t len = 0;
    CHECK_INT(file_read(path, 4096, &data, &len, &e), 0);
    if (data) {
        CHECK(len == strlen(vkey) + 1 && strncmp(data, vkey, strlen(vkey)) == 0);
        free(data);
    }
    const struct witness_log one[1] = {{ORIGIN, log_vkey}};
    struct witness *w = NULL;
    CHECK_INT(witness_open(sdir, NULL, one, 1, &w, &e), 0);
    if (w) {
        char got[NOTE_VKEY_SIZE];
        witness_vkey(w, got);
        CHECK_STR(got, vkey);
        witness_close(w);
    }
    rm_dir(sdir);
}

static void test_request_round_trip(void)
{
    char tdir[512];
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 100);
    if (!t)
        return;
    struct buf req, again;
    buf_init(&req);
    buf_init(&again);
    struct errbuf e;
    const uint64_t pairs[][2] = {{0, 1}, {1, 2}, {3, 7}, {7, 8}, {13, 100}, {64, 100}, {99, 100}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        request_for(t, ORIGIN, log_skey, pairs[i][0], pairs[i][1], &req);
        struct witness_request r;
        CHECK_INT(witness_request_parse(req.p, req.len, &r, &e), 0);
        CHECK_INT(r.old_size, pairs[i][0]);
        CHECK_INT(r.n_proof, ledger_consistency_len(pairs[i][0], pairs[i][1]));
        buf_reset(&again);
        CHECK_INT(witness_request_build(r.old_size, r.proof, r.n_proof, r.note, r.note_len, &again,
                                        &e),
                  0);
        CHECK(again.len == req.len && memcmp(again.p, req.p, req.len) == 0);
    }
    /* the spec's example shape, and the largest old size */
    const char *ex = "old 20852014\n"
                     "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
                     "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
                     "\nexample.com/behind-the-sofa\n";
    struct witness_request r;
    CHECK_INT(witness_request_parse(ex, strlen(ex), &r, &e), 0);
    CHECK_INT(r.old_size, 20852014);
    CHECK_INT(r.n_proof, 2);
    CHECK_INT(r.proof[0].b[0], 0x3e);
    CHECK_INT(r.proof[1].b[31], 0x09);
    const char *big = "old 18446744073709551615\n\nx\n";
    CHECK_INT(witness_request_parse(big, strlen(big), &r, &e), 0);
    CHECK(r.old_size == UINT64_MAX);
    struct ledger_hash many[WITNESS_MAX_PROOF + 1];
    memset(many, 0, sizeof many);
    CHECK_INT(witness_request_build(0, many, WITNESS_MAX_PROOF + 1, "x", 1, &again, &e),
              ERR_TOOBIG);
    buf_reset(&req);
    buf_reset(&again);
    ledger_close(t);
    rm_dir(tdir);
}

static void test_add_cosignatures(void)
{
    char sdir[512], s2dir[512], tdir[512];
    new_dir(sdir, sizeof sdir, "state");
    new_dir(s2dir, sizeof s2dir, "state");
    struct ledger_tree *t = make_tree(tdir, sizeof tdir, "a", 5);
    struct witness *w = open_witness(sdir);
    const struct witness_log logs[1] = {{ORIGIN, log_vkey}};
    struct witness *w2 = NULL;
    struct errbuf e;
    CHECK_INT(witness_open(s2dir, wit2_skey, logs, 1, &w2, &e), 0);
    if (!t || !w || !w2)
        return;
    struct buf req, r1, r2, lines, out, out2;
    buf_init(&req);
    buf_init(&r1);
    buf_init(&r2);
    buf_init(&lines);
    buf_init(&out);
    buf_init(&out2);
    request_for(t, ORIGIN, log_skey, 0, 5, &req);
    CHECK_INT(submit(w, &req, &r1), 200);
    CHECK_INT(submit(w2, &req, &r2), 200);
    struct witness_request r;
    CHECK_INT(witness_request_parse(req.p, req.len, &r, &e), 0);

    struct note_verifier *wv = NULL, *wv2 = NULL, *lv = NULL;
    CHECK_INT(note_verifier_parse(wit_vkey, &wv, &e), 0);
    CHECK_INT(note_verifier_parse(wit2_vkey, &wv2, &e), 0);
    CHECK_INT(note_verifier_parse(log_vkey, &lv, &e), 0);
    struct note_verifier *both[2] = {wv, wv2};

    /* both lines, with a repeat and an unknown witness's line among them */
    CHECK_INT(buf_printf(&lines, "%s%s%s", r1.p, r2.p, r1.p), 0);
    size_t added = 0;
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, lines.p, lines.len, both, 2, &out,
                                            &added, &e),
              0);
    CHECK_INT(added, 2);
    CHECK_INT(out.len, r.note_len + r1.len + r2.len);
    struct note_verifier *all[3] = {lv, wv, wv2};
    struct note_opened o;
    CHECK_INT(note_open(out.p, out.len, all, 3, &o, &e), 0);
    CHECK_INT(o.nverified, 3);
    note_opened_free(&o);
    /* only one witness trusted: the other's line is ignored */
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, lines.p, lines.len, &wv2, 1, &out2,
                                            &added, &e),
              0);
    CHECK_INT(added, 1);
    CHECK_INT(out2.len, r.note_len + r2.len);
    /* adding again to the cosigned note adds nothing (already signed) */
    buf_reset(&out2);
    CHECK_INT(witness_note_add_cosignatures(out.p, out.len, r1.p, r1.len, both, 2, &out2, &added,
                                            &e),
              0);
    CHECK_INT(added, 0);
    CHECK(out2.len == out.len && memcmp(out2.p, out.p, out.len) == 0);
    /* no line from a given witness */
    buf_reset(&out2);
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, r1.p, r1.len, &wv2, 1, &out2,
                                            &added, &e),
              ERR_NOTFOUND);
    CHECK_INT(out2.len, 0);
    /* a line from a trusted witness that does not verify: nothing appended */
    buf_reset(&lines);
    CHECK_INT(buf_printf(&lines, "%s%s", r2.p, r1.p), 0);
    lines.p[lines.len - 6] = lines.p[lines.len - 6] == 'A' ? 'B' : 'A';
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, lines.p, lines.len, both, 2, &out2,
                                            &added, &e),
              ERR_INVAL);
    CHECK_INT(out2.len, 0);
    /* a cosignature over another checkpoint does not verify either */
    struct ledger_hash r3 = root_of(t, 3);
    struct buf other;
    buf_init(&other);
    checkpoint_note(ORIGIN, 3, &r3, log_skey, &other);
    CHECK_INT(witness_note_add_cosignatures(other.p, other.len, r1.p, r1.len, &wv, 1, &out2,
                                            &added, &e),
              ERR_INVAL);
    /* malformed inputs */
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, "— x", 5, &wv, 1, &out2, &added,
                                            &e),
              ERR_PARSE);
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, "\n", 1, &wv, 1, &out2, &added, &e),
              ERR_PARSE);
    CHECK_INT(witness_note_add_cosignatures("hello\n", 6, r1.p, r1.len, &wv, 1, &out2, &added, &e),
              ERR_PARSE);
    CHECK_INT(witness_note_add_cosignatures(r.note, r.note_len, r1.p, r1.len, &lv, 1, &out2,
                                            &added, &e),
              ERR_INVAL); /* not a witness key */
    CHECK_INT(out2.len, 0);

    note_verifier_free(wv);
    note_verifier_free(wv2);
    note_verifier_free(lv);
    buf_reset(&other);
    buf_reset(&req);
    buf_reset(&r1);
    buf_reset(&r2);
    buf_reset(&lines);
    buf_reset(&out);
    buf_reset(&out2);
    witness_close(w);
    witness_close(w2);
    ledger_close(t);
    rm_dir(tdir);
    rm_dir(sdir);
    rm_dir(s2dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/truce-test-witness-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    struct errbuf e;
    if (ledger_init() != 0 ||
        note_key_generate(ORIGIN, NOTE_KEY_ED25519, log_skey, log_vkey, &e) != 0 ||
        note_key_generate(LOG2_KEY_NAME, NOTE_KEY_ED25519, log2_skey, log2_vkey, &e) != 0 ||
        note_key_generate(ORIGIN, NOTE_KEY_ED25519, evil_skey, evil_vkey, &e) != 0 ||
        note_key_generate(WIT_NAME, NOTE_KEY_COSIG, wit_skey, wit_vkey, &e) != 0 ||
        note_key_generate(WIT2_NAME, NOTE_KEY_COSIG, wit2_skey, wit2_vkey, &e) != 0) {
        fprintf(stderr, "setup failed\n");
        return 2;
    }
    static const struct t_case cases[] = {
        T(test_first_then_extensions),
        T(test_empty_tree_first),
        T(test_refusals),
        T(test_malformed),
        T(test_state_survives_reopen),
        T(test_state_write_failure),
        T(test_open_errors),
        T(test_key_file),
        T(test_request_round_trip),
        T(test_add_cosignatures),
    };
    int rc = T_RUN(cases);
    note_wipe(log_skey, sizeof log_skey);
    note_wipe(log2_skey, sizeof log2_skey);
    note_wipe(evil_skey, sizeof evil_skey);
    note_wipe(wit_skey, sizeof wit_skey);
    note_wipe(wit2_skey, sizeof wit2_skey);
    rmdir(tmpdir);
    return rc;
}
