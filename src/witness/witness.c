/* witness.c: the C2SP tlog-witness add-checkpoint logic (request parsing, the checks in the
 * spec's order, crash-safe per-origin state) and the log-side helpers (request building,
 * appending verified cosignatures to a checkpoint note). See witness.h for the contracts and
 * docs/internals/witness.md for the decisions. */
#include "witness/witness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Characters of the base64 of one 32-byte hash (43 digits and one '='). */
#define B64_HASH_CHARS 44
/* Bytes of a state file, at most: a signed note as accepted, with one more signature line. */
#define STATE_MAX_BYTES (WITNESS_MAX_REQUEST_BYTES + 1024)

struct witness_entry {
    char *origin;
    struct note_verifier *verifier;
    char file[WITNESS_STATE_NAME_SIZE];
    uint64_t size;           /* held checkpoint; 0 and the empty root when none */
    struct ledger_hash root;
};

struct witness {
    char *dir;
    int dir_fd; /* the state directory: flock'd, fsync'd after each state write */
    struct note_signer *signer;
    struct witness_entry *logs;
    size_t nlogs;
    bool broken; /* a state write failed: refuse everything until reopened */
};

/* ---- base64 of one hash (RFC 4648 section 4, canonical) ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes exactly B64_HASH_CHARS characters into a hash: 43 digits, '=', and the last digit's
 * two pad bits zero (so each hash has one encoding). 0 or -1. */
static int b64_hash_decode(const char *s, struct ledger_hash *out)
{
    unsigned char *o = out->b;
    if (s[B64_HASH_CHARS - 1] != '=')
        return -1;
    int v[B64_HASH_CHARS - 1];
    for (int i = 0; i < B64_HASH_CHARS - 1; i++)
        if ((v[i] = b64_value((unsigned char)s[i])) < 0)
            return -1;
    if (v[42] & 3)
        return -1;
    int j = 0;
    for (int i = 0; i < 40; i += 4) {
        uint32_t n = (uint32_t)v[i] << 18 | (uint32_t)v[i + 1] << 12 | (uint32_t)v[i + 2] << 6 |
                     (uint32_t)v[i + 3];
        o[j++] = (unsigned char)(n >> 16);
        o[j++] = (unsigned char)(n >> 8);
        o[j++] = (unsigned char)n;
    }
    uint32_t n = (uint32_t)v[40] << 18 | (uint32_t)v[41] << 12 | (uint32_t)v[42] << 6;
    o[j++] = (unsigned char)(n >> 16);
    o[j++] = (unsigned char)(n >> 8);
    return 0;
}

/* Writes the B64_HASH_CHARS characters of h and a NUL into out. */
static void b64_hash_encode(const struct ledger_hash *h, char out[B64_HASH_CHARS + 1])
{
    const unsigned char *b = h->b;
    int j = 0;
    for (int i = 0; i < 30; i += 3) {
        uint32_t n = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        out[j++] = B64[n >> 18 & 63];
        out[j++] = B64[n >> 12 & 63];
        out[j++] = B64[n >> 6 & 63];
        out[j++] = B64[n & 63];
    }
    uint32_t n = (uint32_t)b[30] << 16 | (uint32_t)b[31] << 8;
    out[j++] = B64[n >> 18 & 63];
    out[j++] = B64[n >> 12 & 63];
    out[j++] = B64[n >> 6 & 63];
    out[j++] = '=';
    out[j] = '\0';
}

/* ---- small helpers ---- */

/* Finds the last "\n\n" in s (n bytes); returns the length of the text before the signatures
 * (including its final newline), or 0 when there is none. */
static size_t note_text_len(const char *s, size_t n)
{
    for (size_t i = n; i >= 2; i--)
        if (s[i - 2] == '\n' && s[i - 1] == '\n')
            return i - 1;
    return 0;
}

static struct witness_entry *find_log(const struct witness *w, const char *origin)
{
    for (size_t i = 0; i < w->nlogs; i++)
        if (strcmp(w->logs[i].origin, origin) == 0)
            return &w->logs[i];
    return NULL;
}

static int fsync_dir(int fd, const char *dir, struct errbuf *e)
{
    if (fsync(fd) != 0)
        return errf(e, ERR_IO, "%s: cannot sync the directory: %s", dir, strerror(errno));
    return 0;
}

/* ---- request body ---- */

int witness_request_parse(const char *req, size_t len, struct witness_request *out,
                          struct errbuf *e)
{
    memset(out, 0, sizeof *out);
    if (len > WITNESS_MAX_REQUEST_BYTES)
        return errf(e, ERR_TOOBIG, "request: %zu bytes, above the limit of %u", len,
                    WITNESS_MAX_REQUEST_BYTES);
    if (len < 6 || memcmp(req, "old ", 4) != 0)
        return errf(e, ERR_PARSE, "request: does not start with \"old <size>\"");
    size_t i = 4;
    uint64_t old = 0;
    size_t digits = 0;
    while (i < len && req[i] >= '0' && req[i] <= '9') {
        unsigned d = (unsigned)(req[i] - '0');
        if (old > (UINT64_MAX - d) / 10)
            return errf(e, ERR_PARSE, "request: old size above 2^64-1");
        old = old * 10 + d;
        i++;
        digits++;
    }
    if (digits == 0 || (digits > 1 && req[4] == '0'))
        return errf(e, ERR_PARSE, "request: old size is not a decimal without leading zeros");
    if (i >= len || req[i] != '\n')
        return errf(e, ERR_PARSE, "request: the old size line does not end in a newline");
    i++;
    out->old_size = old;
    for (;;) {
        if (i >= len)
            return errf(e, ERR_PARSE, "request: no empty line before the checkpoint");
        if (req[i] == '\n') {
            i++;
            break;
        }
        if (out->n_proof == WITNESS_MAX_PROOF)
            return errf(e, ERR_TOOBIG, "request: more than %d consistency proof lines",
                        WITNESS_MAX_PROOF);
        if (len - i < B64_HASH_CHARS + 1 || req[i + B64_HASH_CHARS] != '\n' ||
            b64_hash_decode(req + i, &out->proof[out->n_proof]) != 0)
            return errf(e, ERR_PARSE, "request: proof line %zu is not the base64 of a 32-byte hash",
                        out->n_proof + 1);
        out->n_proof++;
        i += B64_HASH_CHARS + 1;
    }
    if (i >= len)
        return errf(e, ERR_PARSE, "request: no checkpoint after the empty line");
    out->note = req + i;
    out->note_len = len - i;
    return 0;
}

int witness_request_build(uint64_t old_size, const struct ledger_hash *proof, size_t n_proof,
                          const char *note, size_t note_len, struct buf *out, struct errbuf *e)
{
    if (n_proof > WITNESS_MAX_PROOF)
        return errf(e, ERR_TOOBIG, "request: %zu proof hashes, above the limit of %d", n_proof,
                    WITNESS_MAX_PROOF);
    if (note_len == 0)
        return errf(e, ERR_INVAL, "request: empty checkpoint note");
    if (note_len > WITNESS_MAX_REQUEST_BYTES)
        return errf(e, ERR_TOOBIG, "request: above the limit of %u bytes",
                    WITNESS_MAX_REQUEST_BYTES);
    size_t start = out->len;
    char num[24];
    str_utoa(num, old_size);
    if (buf_printf(out, "old %s\n", num))
        goto nomem;
    for (size_t k = 0; k < n_proof; k++) {
        char b[B64_HASH_CHARS + 1];
        b64_hash_encode(&proof[k], b);
        if (buf_append(out, b, B64_HASH_CHARS) || buf_append(out, "\n", 1))
            goto nomem;
    }
    if (buf_append(out, "\n", 1) || buf_append(out, note, note_len))
        goto nomem;
    if (out->len - start > WITNESS_MAX_REQUEST_BYTES) {
        out->len = start;
        out->p[start] = '\0';
        return errf(e, ERR_TOOBIG, "request: above the limit of %u bytes",
                    WITNESS_MAX_REQUEST_BYTES);
    }
    return 0;
nomem:
    if (out->p) {
        out->len = start;
        out->p[start] = '\0';
    }
    return errf(e, ERR_NOMEM, "request: out of memory");
}

/* ---- state files ---- */

void witness_state_file(const char *origin, char out[WITNESS_STATE_NAME_SIZE])
{
    char safe[65];
    size_t n = 0;
    for (const char *p = origin; *p && n < 64; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-';
        safe[n++] = ok ? c : '_';
    }
    safe[n] = '\0';
    struct ledger_hash h;
    char hex[LEDGER_HEX_SIZE];
    ledger_sha256(origin, strlen(origin), &h);
    ledger_hash_hex(&h, hex);
    hex[16] = '\0';
    snprintf(out, WITNESS_STATE_NAME_SIZE, "log-%s-%s.checkpoint", safe, hex);
}

/* Loads the held checkpoint of l from its file in dir, if there is one. */
static int state_load(const char *dir, struct witness_entry *l, struct errbuf *e)
{
    char path[4096];
    if (path_join(path, sizeof path, dir, l->file) != 0)
        return errf(e, ERR_INVAL, "%s: path too long", dir);
    l->size = 0;
    ledger_empty_root(&l->root);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return errf(e, ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return errf(e, ERR_IO, "%s: not a regular file", path);
    char *data = NULL;
    size_t len = 0;
    int rc = file_read(path, STATE_MAX_BYTES, &data, &len, e);
    if (rc)
        return rc;
    size_t tlen = note_text_len(data, len);
    struct note_checkpoint c;
    if (tlen == 0) {
        rc = errf(e, ERR_PARSE, "%s: not a signed checkpoint", path);
    } else if ((rc = note_checkpoint_parse(data, tlen, &c, e)) != 0) {
        errprefix(e, "%s", path);
        rc = ERR_PARSE;
    } else if (strcmp(c.origin, l->origin) != 0) {
        rc = errf(e, ERR_CONFLICT, "%s: holds a checkpoint of \"%s\", not \"%s\"", path,
                  c.origin, l->origin);
    } else {
        l->size = c.size;
        memcpy(l->root.b, c.hash, LEDGER_HASH_BYTES);
    }
    free(data);
    return rc;
}

/* ---- open and close ---- */

int witness_key_create(const char *state_dir, const char *name, char *vkey, size_t vkey_size,
                       struct errbuf *e)
{
    if (mkdir(state_dir, 0700) != 0 && errno != EEXIST)
        return errf(e, ERR_IO, "%s: cannot create: %s", state_dir, strerror(errno));
    char skey[NOTE_SKEY_SIZE], vk[NOTE_VKEY_SIZE], path[4096];
    int rc = note_key_generate(name, NOTE_KEY_COSIG, skey, vk, e);
    if (rc)
        return rc;
    if (path_join(path, sizeof path, state_dir, WITNESS_KEY_NAME) != 0) {
        rc = errf(e, ERR_INVAL, "%s: path too long", state_dir);
    } else if ((rc = note_key_write_new(path, skey, e)) == 0) {
        char line[NOTE_VKEY_SIZE + 1];
        size_t n = (size_t)snprintf(line, sizeof line, "%s\n", vk);
        if (path_join(path, sizeof path, state_dir, WITNESS_VKEY_NAME) != 0)
            rc = errf(e, ERR_INVAL, "%s: path too long", state_dir);
        else
            rc = file_write_atomic(path, line, n, e);
    }
    note_wipe(skey, sizeof skey);
    if (rc == 0 && vkey)
        str_copy(vkey, vkey_size, vk);
    return rc;
}

int witness_open(const char *state_dir, const char *skey, const struct witness_log *logs,
                 size_t nlogs, struct witness **out, struct errbuf *e)
{
    *out = NULL;
    if (nlogs > WITNESS_MAX_LOGS)
        return errf(e, ERR_TOOBIG, "witness: %zu logs, above the limit of %d", nlogs,
                    WITNESS_MAX_LOGS);
    struct witness *w = calloc(1, sizeof *w);
    if (!w)
        return errf(e, ERR_NOMEM, "witness: out of memory");
    w->dir_fd = -1;
    int rc = 0;
    if (!(w->dir = strdup(state_dir)) ||
        (nlogs && !(w->logs = calloc(nlogs, sizeof *w->logs)))) {
        rc = errf(e, ERR_NOMEM, "witness: out of memory");
        goto fail;
    }
    w->dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dir_fd < 0) {
        rc = errf(e, ERR_IO, "%s: cannot open the state directory: %s", state_dir,
                  strerror(errno));
        goto fail;
    }
    if (flock(w->dir_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? errf(e, ERR_CONFLICT, "%s: another witness has this state directory open",
                        state_dir)
                 : errf(e, ERR_IO, "%s: cannot lock: %s", state_dir, strerror(errno));
        goto fail;
    }

    if (skey) {
        rc = note_signer_parse(skey, &w->signer, e);
    } else {
        char path[4096];
        if (path_join(path, sizeof path, state_dir, WITNESS_KEY_NAME) != 0)
            rc = errf(e, ERR_INVAL, "%s: path too long", state_dir);
        else
            rc = note_key_read(path, &w->signer, e);
    }
    if (rc) {
        errprefix(e, "witness key");
        goto fail;
    }
    if (note_signer_type(w->signer) != NOTE_KEY_COSIG) {
        rc = errf(e, ERR_INVAL, "witness key: not a cosignature/v1 (type 0x04) key");
        goto fail;
    }

    for (size_t i = 0; i < nlogs; i++) {
        const char *origin = logs[i].origin;
        size_t olen = origin ? strlen(origin) : 0;
        bool ok = olen > 0 && olen <= NOTE_NAME_MAX;
        for (size_t k = 0; ok && k < olen; k++)
            if ((unsigned char)origin[k] < 0x20 || origin[k] == 0x7f)
                ok = false;
        if (!ok) {
            rc = errf(e, ERR_INVAL, "log %zu: origin must be 1 to %d bytes, no control character",
                      i + 1, NOTE_NAME_MAX);
            goto fail;
        }
        if (find_log(w, origin)) {
            rc = errf(e, ERR_INVAL, "log \"%s\": configured twice", origin);
            goto fail;
        }
        struct witness_entry *l = &w->logs[w->nlogs];
        if (!(l->origin = strdup(origin))) {
            rc = errf(e, ERR_NOMEM, "witness: out of memory");
            goto fail;
        }
        w->nlogs++;
        if ((rc = note_verifier_parse(logs[i].vkey ? logs[i].vkey : "", &l->verifier, e)) != 0) {
            errprefix(e, "log \"%s\" key", origin);
            goto fail;
        }
        if (note_verifier_type(l->verifier) != NOTE_KEY_ED25519) {
            rc = errf(e, ERR_INVAL, "log \"%s\" key: not an Ed25519 (type 0x01) key", origin);
            goto fail;
        }
        witness_state_file(origin, l->file);
        if ((rc = state_load(state_dir, l, e)) != 0)
            goto fail;
    }
    *out = w;
    return 0;
fail:
    witness_close(w);
    return rc;
}

void witness_close(struct witness *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nlogs; i++) {
        free(w->logs[i].origin);
        note_verifier_free(w->logs[i].verifier);
    }
    free(w->logs);
    note_signer_free(w->signer);
    if (w->dir_fd >= 0)
        close(w->dir_fd); /* releases the lock */
    free(w->dir);
    free(w);
}

void witness_vkey(const struct witness *w, char vkey[NOTE_VKEY_SIZE])
{
    note_signer_vkey(w->signer, vkey);
}

int witness_latest(const struct witness *w, const char *origin, uint64_t *size,
                   struct ledger_hash *root, struct errbuf *e)
{
    const struct witness_entry *l = find_log(w, origin);
    if (!l)
        return errf(e, ERR_NOTFOUND, "log \"%s\" is not configured", origin);
    *size = l->size;
    *root = l->root;
    return 0;
}

/* ---- add-checkpoint ---- */

/* Puts the answer for a refusal in response: status, and e's message as the body. */
static int refuse(struct buf *response, int *status, int st, int rc, struct errbuf *e)
{
    buf_reset(response);
    *status = st;
    /* the body is a courtesy: on ERR_NOMEM it stays empty, status and e still say why */
    (void)!buf_printf(response, "%s\n", e ? e->msg : err_str(rc));
    return rc;
}

/* Writes the new state of l (the accepted signed note with the cosignature line appended), then
 * syncs the directory so that the rename is durable. */
static int state_store(struct witness *w, struct witness_entry *l, const char *note,
                       size_t note_len, const struct buf *cosig, struct errbuf *e)
{
    char path[4096];
    if (path_join(path, sizeof path, w->dir, l->file) != 0)
        return errf(e, ERR_INVAL, "%s: path too long", w->dir);
    struct buf b;
    buf_init(&b);
    int rc = 0;
    if (buf_append(&b, note, note_len) || buf_append(&b, cosig->p, cosig->len))
        rc = errf(e, ERR_NOMEM, "witness: out of memory");
    else if ((rc = file_write_atomic(path, b.p, b.len, e)) == 0)
        rc = fsync_dir(w->dir_fd, w->dir, e);
    buf_reset(&b);
    return rc;
}

int witness_add_checkpoint(struct witness *w, const char *req, size_t len, struct buf *response,
                           int *status, struct errbuf *e)
{
    int rc;
    if (w->broken) {
        errf(e, ERR_IO, "witness: a state write failed earlier; reopen the witness");
        return refuse(response, status, WITNESS_INTERNAL, ERR_IO, e);
    }

    /* the body's shape */
    struct witness_request r;
    if ((rc = witness_request_parse(req, len, &r, e)) != 0)
        return refuse(response, status,
                      len > WITNESS_MAX_REQUEST_BYTES ? WITNESS_TOO_LARGE : WITNESS_BAD_REQUEST,
                      rc, e);
    size_t tlen = note_text_len(r.note, r.note_len);
    if (tlen == 0) {
        errf(e, ERR_PARSE, "request: the checkpoint is not a signed note (no empty line before "
                           "its signatures)");
        return refuse(response, status, WITNESS_BAD_REQUEST, ERR_PARSE, e);
    }
    struct note_checkpoint c;
    if ((rc = note_checkpoint_parse(r.note, tlen, &c, e)) != 0) {
        errprefix(e, "request");
        return refuse(response, status, WITNESS_BAD_REQUEST, ERR_PARSE, e);
    }

    /* a configured log, and its signature */
    struct witness_entry *l = find_log(w, c.origin);
    if (!l) {
        errf(e, ERR_NOTFOUND, "unknown log \"%s\"", c.origin);
        return refuse(response, status, WITNESS_NOT_FOUND, ERR_NOTFOUND, e);
    }
    struct note_opened o;
    rc = note_open(r.note, r.note_len, &l->verifier, 1, &o, e);
    if (rc == ERR_NOTFOUND || rc == ERR_INVAL || rc == ERR_CONFLICT) {
        errprefix(e, "log \"%s\"", c.origin);
        return refuse(response, status, WITNESS_FORBIDDEN, ERR_INVAL, e);
    }
    if (rc == ERR_NOMEM)
        return refuse(response, status, WITNESS_INTERNAL, rc, e);
    if (rc) {
        errprefix(e, "request");
        return refuse(response, status, WITNESS_BAD_REQUEST, ERR_PARSE, e);
    }
    bool same_text = o.text_len == tlen && memcmp(o.text, r.note, tlen) == 0;
    note_opened_free(&o);
    if (!same_text) { /* cannot happen: both split at the last blank line */
        errf(e, ERR_PARSE, "request: the signed note's text is ambiguous");
        return refuse(response, status, WITNESS_BAD_REQUEST, ERR_PARSE, e);
    }

    /* sizes */
    if (r.old_size > c.size) {
        errf(e, ERR_PARSE, "old size %llu is above the checkpoint size %llu",
             (unsigned long long)r.old_size, (unsigned long long)c.size);
        return refuse(response, status, WITNESS_BAD_REQUEST, ERR_PARSE, e);
    }
    if (r.old_size != l->size) {
        errf(e, ERR_CONFLICT, "log \"%s\": old size %llu, but the latest cosigned size is %llu",
             c.origin, (unsigned long long)r.old_size, (unsigned long long)l->size);
        buf_reset(response);
        *status = WITNESS_CONFLICT;
        char num[24];
        str_utoa(num, l->size);
        if (buf_printf(response, "%s\n", num)) {
            errf(e, ERR_NOMEM, "witness: out of memory");
            return refuse(response, status, WITNESS_INTERNAL, ERR_NOMEM, e);
        }
        return ERR_CONFLICT;
    }
    struct ledger_hash root;
    memcpy(root.b, c.hash, LEDGER_HASH_BYTES);
    if (c.size == l->size && !ledger_hash_eq(&root, &l->root)) {
        errf(e, ERR_CONFLICT, "log \"%s\": a different root hash at the cosigned size %llu "
                              "(split view)", c.origin, (unsigned long long)c.size);
        return refuse(response, status, WITNESS_CONFLICT, ERR_CONFLICT, e);
    }

    /* the consistency proof from the held checkpoint (old size 0: the empty tree) */
    if ((rc = ledger_verify_consistency(l->size, c.size, &l->root, &root, r.proof, r.n_proof,
                                        e)) != 0) {
        errprefix(e, "log \"%s\": consistency proof from size %llu", c.origin,
                  (unsigned long long)l->size);
        return refuse(response, status, WITNESS_UNPROCESSABLE, ERR_CONFLICT, e);
    }

    /* cosign, persist, and only then answer */
    struct buf cosig;
    buf_init(&cosig);
    time_t now = time(NULL);
    rc = note_cosign(r.note, tlen, w->signer, now > 0 ? (uint64_t)now : 0, &cosig, e);
    if (rc == 0 && (rc = state_store(w, l, r.note, r.note_len, &cosig, e)) != 0)
        w->broken = true;
    if (rc) {
        buf_reset(&cosig);
        errprefix(e, "log \"%s\": not cosigned", c.origin);
        return refuse(response, status, WITNESS_INTERNAL, rc, e);
    }
    l->size = c.size;
    l->root = root;
    buf_reset(response);
    *response = cosig;
    *status = WITNESS_OK;
    return 0;
}

const char *witness_content_type(int status, const char *body, size_t len)
{
    if (status != WITNESS_CONFLICT || len < 2 || body[len - 1] != '\n')
        return WITNESS_TEXT_CONTENT_TYPE;
    for (size_t i = 0; i + 1 < len; i++)
        if (body[i] < '0' || body[i] > '9')
            return WITNESS_TEXT_CONTENT_TYPE;
    return WITNESS_SIZE_CONTENT_TYPE;
}

/* ---- log side: cosignatures ---- */

/* True when the signature block sigs (n bytes, lines ending in newlines) has a line from key
 * name+keyid. */
static bool has_sig_from(const char *sigs, size_t n, const char *name, uint32_t keyid)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(sigs + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - sigs) : n;
        struct note_sig_info si;
        struct errbuf ignore;
        if (note_sig_line_parse(sigs + i, end - i, &si, &ignore) == 0 && si.keyid == keyid &&
            strcmp(si.name, name) == 0)
            return true;
        i = end + 1;
    }
    return false;
}

int witness_note_add_cosignatures(const char *note, size_t note_len, const char *lines,
                                  size_t lines_len, struct note_verifier *const *witnesses,
                                  size_t nwitnesses, struct buf *out, size_t *added,
                                  struct errbuf *e)
{
    if (added)
        *added = 0;
    if (note_len > NOTE_MAX_BYTES || lines_len > NOTE_MAX_BYTES ||
        note_len + lines_len > NOTE_MAX_BYTES)
        return errf(e, ERR_TOOBIG, "cosignatures: above the limit of %u bytes", NOTE_MAX_BYTES);
    size_t tlen = note_text_len(note, note_len);
    if (tlen == 0 || tlen + 1 >= note_len || note[note_len - 1] != '\n')
        return errf(e, ERR_PARSE, "cosignatures: the checkpoint is not a signed note");
    if (lines_len == 0 || lines[lines_len - 1] != '\n')
        return errf(e, ERR_PARSE, "cosignatures: the lines do not end in a newline");
    struct note_checkpoint c;
    int rc = note_checkpoint_parse(note, tlen, &c, e);
    if (rc)
        return rc;
    for (size_t k = 0; k < nwitnesses; k++)
        if (note_verifier_type(witnesses[k]) != NOTE_KEY_COSIG)
            return errf(e, ERR_INVAL, "cosignatures: witness key %s is not a cosignature/v1 key",
                        note_verifier_name(witnesses[k]));

    const char *sigs = note + tlen + 1;
    size_t sigs_len = note_len - tlen - 1, nsigs = 0;
    for (size_t i = 0; i < sigs_len; i++)
        nsigs += sigs[i] == '\n';

    /* first pass: verify every line, note which to append (bit k: witness k is taken) */
    size_t start = out->len, nadd = 0, nmatched = 0;
    bool *taken = calloc(nwitnesses ? nwitnesses : 1, sizeof *taken);
    const char **take = calloc(nwitnesses ? nwitnesses : 1, sizeof *take);
    size_t *take_len = calloc(nwitnesses ? nwitnesses : 1, sizeof *take_len);
    if (!taken || !take || !take_len) {
        rc = errf(e, ERR_NOMEM, "cosignatures: out of memory");
        goto out;
    }
    for (size_t i = 0; i < lines_len;) {
        const char *line = lines + i;
        const char *nl = memchr(line, '\n', lines_len - i);
        size_t n = (size_t)(nl - line); /* a newline exists: lines ends in one */
        i += n + 1;
        struct note_sig_info si;
        if ((rc = note_sig_line_parse(line, n, &si, e)) != 0) {
            errprefix(e, "cosignatures");
            goto out;
        }
        for (size_t k = 0; k < nwitnesses; k++) {
            uint64_t ts;
            rc = note_cosig_verify(note, tlen, line, n, witnesses[k], &ts, e);
            if (rc == ERR_NOTFOUND) {
                rc = 0;
                continue;
            }
            if (rc) {
                errprefix(e, "cosignatures: witness %s", note_verifier_name(witnesses[k]));
                goto out;
            }
            nmatched++;
            if (!taken[k] && !has_sig_from(sigs, sigs_len, note_verifier_name(witnesses[k]),
                                           note_verifier_keyid(witnesses[k]))) {
                take[nadd] = line;
                take_len[nadd] = n;
                nadd++;
            }
            taken[k] = true;
            break;
        }
    }
    if (nmatched == 0) {
        rc = errf(e, ERR_NOTFOUND, "cosignatures: none from the given witnesses");
        goto out;
    }
    if (nsigs + nadd > NOTE_MAX_SIGS) {
        rc = errf(e, ERR_TOOBIG, "cosignatures: more than %d signatures", NOTE_MAX_SIGS);
        goto out;
    }
    if (buf_append(out, note, note_len)) {
        rc = errf(e, ERR_NOMEM, "cosignatures: out of memory");
        goto out;
    }
    for (size_t k = 0; k < nadd; k++)
        if (buf_append(out, take[k], take_len[k]) || buf_append(out, "\n", 1)) {
            rc = errf(e, ERR_NOMEM, "cosignatures: out of memory");
            goto out;
        }
    if (added)
        *added = nadd;
out:
    if (rc && out->p) {
        out->len = start;
        out->p[start] = '\0';
    }
    free(taken);
    free(take);
    free(take_len);
    return rc;
}
