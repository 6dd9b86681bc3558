/* log.c: leaves of the logged records, and the ledger kept in step with the store (log.h).
 *
 * Leaf bytes (docs/log-format.md): a first line naming the kind and format version, one
 * "key value" line per field in a fixed order, then the body as "body <length>" followed by a
 * newline and exactly that many bytes. Values never contain a newline (they are ids, clause ids,
 * enumerations); the body is taken byte for byte, so no escaping is needed anywhere. */
#include "log/log.h"

#include "note/note.h"
#include "witness/witness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct truce_log {
    struct ledger_tree *tree;
    struct buf leaf;
    char path[4096];
    char dir[4096]; /* the log folder */
};

static int put_line(struct buf *b, const char *key, const char *value)
{
    return buf_append(b, key, strlen(key)) || buf_append(b, " ", 1) ||
           buf_append(b, value ? value : "", value ? strlen(value) : 0) || buf_append(b, "\n", 1);
}

static int put_int(struct buf *b, const char *key, long long v)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", v);
    return put_line(b, key, num);
}

int log_leaf_bytes(const struct store_log_record *r, struct buf *out)
{
    out->len = 0;
    int rc;
    switch (r->kind) {
    case STORE_LOG_AGREEMENT:
        rc = buf_append(out, "truce/agreement/1\n", 18) || put_int(out, "version", r->id) ||
             put_line(out, "agreement", r->text1);
        break;
    case STORE_LOG_OBSERVATION:
        rc = buf_append(out, "truce/observation/1\n", 20) || put_int(out, "id", r->id) ||
             put_line(out, "client_id", r->text1) ||
             put_int(out, "agreement_version", r->agreement_version);
        break;
    case STORE_LOG_ALERT:
        rc = buf_append(out, "truce/alert/1\n", 14) || put_int(out, "id", r->id) ||
             put_line(out, "threshold", r->threshold) || put_line(out, "level", r->level) ||
             put_int(out, "agreement_version", r->agreement_version) ||
             put_line(out, "region", r->region) || put_line(out, "party", r->party) ||
             put_int(out, "window_start_ms", r->window_start_ms) ||
             put_int(out, "window_end_ms", r->window_end_ms) ||
             put_int(out, "findings", r->n_findings);
        break;
    case STORE_LOG_INCIDENT:
        rc = buf_append(out, "truce/incident/1\n", 17) || put_int(out, "id", r->id) ||
             put_int(out, "agreement_version", r->agreement_version) ||
             put_line(out, "party", r->party) || put_line(out, "grade", r->grade);
        break;
    case STORE_LOG_REVIEW:
        rc = buf_append(out, "truce/finding-review/1\n", 23) || put_int(out, "id", r->id) ||
             put_int(out, "finding", r->finding_id) || put_line(out, "action", r->action) ||
             put_line(out, "status_from", r->status_from) ||
             put_line(out, "status_to", r->status_to) || put_line(out, "actor", r->actor) ||
             put_line(out, "role", r->role) || put_line(out, "party", r->party) ||
             put_int(out, "time_ms", r->time_ms);
        break;
    default:
        rc = buf_append(out, "truce/finding/1\n", 16) || put_int(out, "id", r->id) ||
             put_int(out, "observation", r->obs_id) ||
             put_int(out, "agreement_version", r->agreement_version) ||
             put_line(out, "clause", r->clause) || put_line(out, "rule_kind", r->rule_kind) ||
             put_line(out, "result", r->result) || put_line(out, "party", r->party) ||
             put_line(out, "severity", r->severity);
        break;
    }
    rc = rc || put_int(out, "body", (long long)r->body_len);
    rc = rc || (r->body_len && buf_append(out, r->body, r->body_len));
    return rc ? ERR_NOMEM : 0;
}

int log_add(struct truce_log *l, const struct store_log_record *r, struct errbuf *e)
{
    if ((uint64_t)r->log_index != ledger_size(l->tree))
        return errf(e, ERR_CONFLICT, "log: record for leaf %lld arrived at leaf %llu",
                    (long long)r->log_index, (unsigned long long)ledger_size(l->tree));
    if (log_leaf_bytes(r, &l->leaf))
        return errf(e, ERR_NOMEM, "log: out of memory");
    uint64_t index;
    return ledger_append(l->tree, l->leaf.p, l->leaf.len, &index, e);
}

int log_sync(struct truce_log *l, struct errbuf *e) { return ledger_sync(l->tree, e); }

int log_rewind(struct truce_log *l, struct store *s, struct errbuf *e)
{
    uint64_t committed = (uint64_t)store_log_committed(s);
    if (ledger_size(l->tree) <= committed)
        return 0;
    return ledger_truncate(l->tree, committed, e);
}

uint64_t log_size(const struct truce_log *l) { return ledger_size(l->tree); }
struct ledger_tree *log_tree(struct truce_log *l) { return l->tree; }

struct rebuild_ctx {
    struct truce_log *l;
    struct errbuf *e;
};

static int rebuild_one(void *ctx, const struct store_log_record *r)
{
    struct rebuild_ctx *c = ctx;
    return log_add(c->l, r, c->e);
}

int log_open(const char *dir, struct store *s, struct truce_log **out, struct errbuf *e)
{
    struct truce_log *l = calloc(1, sizeof *l);
    if (!l)
        return errf(e, ERR_NOMEM, "out of memory");
    buf_init(&l->leaf);
    char logdir[4096];
    int rc = 0;
    if (path_join(logdir, sizeof logdir, dir, LOG_DIR_NAME) ||
        path_join(l->path, sizeof l->path, logdir, LOG_LEAVES_NAME)) {
        rc = errf(e, ERR_INVAL, "%s: path too long", dir);
        goto fail;
    }
    str_copy(l->dir, sizeof l->dir, logdir);
    if (mkdir(logdir, 0750) != 0 && errno != EEXIST) {
        rc = errf(e, ERR_IO, "%s: cannot create: %s", logdir, strerror(errno));
        goto fail;
    }
    struct stat st;
    bool exists = stat(l->path, &st) == 0;
    if ((rc = ledger_open(l->path, !exists, &l->tree, e)))
        goto fail;
    uint64_t committed = (uint64_t)store_log_committed(s), have = ledger_size(l->tree);
    if (have > committed) {
        /* leaves of a batch whose COMMIT did not happen */
        if ((rc = ledger_truncate(l->tree, committed, e)))
            goto fail;
    } else if (have < committed) {
        if (have != 0) {
            rc = errf(e, ERR_CONFLICT,
                      "%s: the log holds %llu leaves but the store recorded %llu: leaves were lost "
                      "or removed (run `truce log verify`; restore the log from a mirror)",
                      l->path, (unsigned long long)have, (unsigned long long)committed);
            goto fail;
        }
        /* a store from before the log: build it from the stored records, in their order */
        struct rebuild_ctx c = {l, e};
        if ((rc = store_log_records(s, 0, rebuild_one, &c, e)) || (rc = ledger_sync(l->tree, e)))
            goto fail;
        if (ledger_size(l->tree) != committed) {
            rc = errf(e, ERR_CONFLICT, "%s: rebuilt %llu leaves but the store recorded %llu",
                      l->path, (unsigned long long)ledger_size(l->tree),
                      (unsigned long long)committed);
            goto fail;
        }
    }
    *out = l;
    return 0;
fail:
    log_close(l);
    return rc;
}

void log_close(struct truce_log *l)
{
    if (!l)
        return;
    if (l->tree)
        ledger_close(l->tree);
    buf_reset(&l->leaf);
    free(l);
}

struct verify_ctx {
    struct truce_log *l;
    struct errbuf *e;
    uint64_t checked;
    int64_t expect;
    int64_t first_bad;
};

static int verify_one(void *ctx, const struct store_log_record *r)
{
    struct verify_ctx *c = ctx;
    static const char *const kinds[] = {"agreement version", "observation", "finding",
                                        "alert", "incident version", "finding review"};
    if (r->log_index != c->expect) {
        c->first_bad = c->expect;
        return errf(c->e, ERR_CONFLICT,
                    "leaf %lld: no stored record has this index (the next is %s %lld at leaf "
                    "%lld): a record was removed or reordered",
                    (long long)c->expect, kinds[r->kind], (long long)r->id, (long long)r->log_index);
    }
    if ((uint64_t)r->log_index >= ledger_size(c->l->tree)) {
        c->first_bad = r->log_index;
        return errf(c->e, ERR_CONFLICT, "leaf %lld: %s %lld is stored but not in the log",
                    (long long)r->log_index, kinds[r->kind], (long long)r->id);
    }
    if (log_leaf_bytes(r, &c->l->leaf))
        return errf(c->e, ERR_NOMEM, "out of memory");
    struct ledger_hash want, have;
    ledger_leaf_hash(c->l->leaf.p, c->l->leaf.len, &want);
    int rc = ledger_leaf(c->l->tree, (uint64_t)r->log_index, &have, c->e);
    if (rc)
        return rc;
    if (!ledger_hash_eq(&want, &have)) {
        c->first_bad = r->log_index;
        return errf(c->e, ERR_CONFLICT,
                    "leaf %lld: %s %lld does not match its logged leaf: the record was altered "
                    "after it was logged",
                    (long long)r->log_index, kinds[r->kind], (long long)r->id);
    }
    c->checked++;
    c->expect++;
    return 0;
}

int log_verify(struct truce_log *l, struct store *s, uint64_t *checked, int64_t *first_bad,
               struct errbuf *e)
{
    struct verify_ctx c = {l, e, 0, 0, -1};
    int rc = store_log_records(s, 0, verify_one, &c, e);
    *checked = c.checked;
    *first_bad = c.first_bad;
    if (rc)
        return rc;
    uint64_t committed = (uint64_t)store_log_committed(s);
    if ((uint64_t)c.expect != committed) {
        *first_bad = c.expect;
        return errf(e, ERR_CONFLICT, "leaf %lld: the store recorded %llu leaves but holds records "
                                     "for only %lld: records were removed",
                    (long long)c.expect, (unsigned long long)committed, (long long)c.expect);
    }
    if (ledger_size(l->tree) != committed) {
        *first_bad = -1;
        return errf(e, ERR_CONFLICT, "the log holds %llu leaves, the store %llu",
                    (unsigned long long)ledger_size(l->tree), (unsigned long long)committed);
    }
    if ((rc = ledger_check(l->tree, e)))
        return rc;
    return 0;
}

int log_add_agreement(struct truce_log *l, struct store *s, const struct agreement *a,
                      struct errbuf *e)
{
    int rc = store_begin(s, e);
    if (rc)
        return rc;
    int64_t index = store_log_size(s);
    if (!(rc = store_agreement_add(s, a, e))) {
        struct store_log_record r = {.kind = STORE_LOG_AGREEMENT, .log_index = index,
                                     .id = a->version, .text1 = a->id,
                                     .body = a->resolved_json,
                                     .body_len = strlen(a->resolved_json)};
        if (!(rc = log_add(l, &r, e)) && !(rc = log_sync(l, e)))
            rc = store_commit(s, e);
    }
    if (rc) {
        store_rollback(s);
        if (log_rewind(l, s, NULL))
            fputs("truce: the log could not be rewound; it is repaired when next opened\n",
                  stderr);
    }
    return rc;
}

/* ---- keys and checkpoints ---- */

static int log_file(const char *dir, const char *name, char *out, size_t n, struct errbuf *e)
{
    char logdir[4096];
    if (path_join(logdir, sizeof logdir, dir, LOG_DIR_NAME) || path_join(out, n, logdir, name))
        return errf(e, ERR_INVAL, "%s: path too long", dir);
    return 0;
}

int log_key_create(const char *dir, const char *origin, struct errbuf *e)
{
    char skey[NOTE_SKEY_SIZE], vkey[NOTE_VKEY_SIZE], path[4200];
    int rc = note_key_generate(origin, NOTE_KEY_ED25519, skey, vkey, e);
    if (!rc && !(rc = log_file(dir, LOG_SIGNING_KEY_NAME, path, sizeof path, e)))
        rc = note_key_write_new(path, skey, e);
    note_wipe(skey, sizeof skey);
    if (rc)
        return rc;
    if ((rc = log_file(dir, LOG_VERIFIER_KEY_NAME, path, sizeof path, e)))
        return rc;
    char line[NOTE_VKEY_SIZE + 1];
    snprintf(line, sizeof line, "%s\n", vkey);
    return file_write_atomic(path, line, strlen(line), e);
}

int log_verifier_key(const char *dir, char *out, size_t n, struct errbuf *e)
{
    char path[4200];
    int rc = log_file(dir, LOG_VERIFIER_KEY_NAME, path, sizeof path, e);
    return rc ? rc : file_read_line(path, NOTE_VKEY_SIZE + 2, out, n, e);
}

/* The log folder's parent is the data directory. */
static void data_dir_of(const struct truce_log *l, char *out, size_t n)
{
    path_dirname(out, n, l->dir);
}

int log_checkpoint(struct truce_log *l, struct store *s, struct buf *out, bool *signed_new,
                   struct errbuf *e)
{
    *signed_new = false;
    uint64_t n = ledger_size(l->tree);
    struct store_checkpoint last = {0};
    int rc = store_checkpoint_last(s, &last, e);
    bool have_last = rc == 0;
    if (rc && rc != ERR_NOTFOUND)
        return rc;
    rc = 0;
    if (have_last) {
        /* The newest signed tree must be a prefix of this one, or nothing is signed. */
        struct ledger_hash old_root;
        char hex[LEDGER_HEX_SIZE];
        if ((uint64_t)last.size > n) {
            rc = errf(e, ERR_CONFLICT, "the log has %llu leaves but checkpoint %lld was signed: "
                                       "refusing to sign a smaller tree",
                      (unsigned long long)n, (long long)last.size);
            goto out;
        }
        if ((rc = ledger_root(l->tree, (uint64_t)last.size, &old_root, e)))
            goto out;
        ledger_hash_hex(&old_root, hex);
        if (strcmp(hex, last.root_hex)) {
            rc = errf(e, ERR_CONFLICT,
                      "the log's first %lld leaves no longer hash to the root signed in the "
                      "newest checkpoint: refusing to sign a checkpoint that contradicts it",
                      (long long)last.size);
            goto out;
        }
        if ((uint64_t)last.size == n) {
            rc = buf_append(out, last.note, strlen(last.note)) ? ERR_NOMEM : 0;
            goto out;
        }
    }
    char ddir[4096], path[4200];
    data_dir_of(l, ddir, sizeof ddir);
    struct note_signer *signer = NULL;
    if ((rc = log_file(ddir, LOG_SIGNING_KEY_NAME, path, sizeof path, e)) ||
        (rc = note_key_read(path, &signer, e)))
        goto out;
    struct note_checkpoint cp = {0};
    str_copy(cp.origin, sizeof cp.origin, note_signer_name(signer));
    cp.size = n;
    struct ledger_hash root;
    struct buf body;
    buf_init(&body);
    if (!(rc = ledger_root(l->tree, n, &root, e))) {
        memcpy(cp.hash, root.b, NOTE_HASH_BYTES);
        if (!(rc = note_checkpoint_format(&cp, &body, e)))
            rc = note_sign(body.p, body.len, &signer, 1, out, e);
    }
    note_signer_free(signer);
    buf_reset(&body);
    char hex[LEDGER_HEX_SIZE];
    ledger_hash_hex(&root, hex);
    /* Stored before it is published: a checkpoint that was handed out is always on record. */
    if (!rc && !(rc = store_checkpoint_add(s, (int64_t)n, hex, out->p, e)) &&
        !(rc = log_file(ddir, LOG_CHECKPOINT_NAME, path, sizeof path, e)))
        rc = file_write_atomic(path, out->p, out->len, e);
    if (!rc)
        *signed_new = true;
out:
    free(last.note);
    return rc;
}

struct cp_verify_ctx {
    struct truce_log *l;
    struct note_verifier *v;
    struct errbuf *e;
    int64_t count, newest, prev;
};

/* One stored checkpoint: signed by the log's key, for at most the tree's size, with the tree's
 * root at its size, and not smaller than the one before it. */
static int verify_cp(void *ctx, const struct store_checkpoint *c)
{
    struct cp_verify_ctx *x = ctx;
    struct note_opened opened = {0};
    struct note_checkpoint cp;
    struct ledger_hash root;
    int rc = note_open(c->note, strlen(c->note), &x->v, 1, &opened, x->e);
    if (!rc)
        rc = note_checkpoint_parse(opened.text, opened.text_len, &cp, x->e);
    if (!rc && (int64_t)cp.size != c->size)
        rc = errf(x->e, ERR_CONFLICT, "checkpoint %lld: its note says size %llu",
                  (long long)x->count + 1, (unsigned long long)cp.size);
    if (!rc && (int64_t)cp.size < x->prev)
        rc = errf(x->e, ERR_CONFLICT, "checkpoint %lld is smaller than the one before it",
                  (long long)x->count + 1);
    if (!rc && cp.size > ledger_size(x->l->tree))
        rc = errf(x->e, ERR_CONFLICT, "checkpoint for %llu leaves, but the log holds %llu",
                  (unsigned long long)cp.size, (unsigned long long)ledger_size(x->l->tree));
    if (!rc)
        rc = ledger_root(x->l->tree, cp.size, &root, x->e);
    if (!rc && memcmp(root.b, cp.hash, NOTE_HASH_BYTES))
        rc = errf(x->e, ERR_CONFLICT, "the signed checkpoint for %llu leaves does not match the "
                                      "tree's root at that size: the log was rewritten",
                  (unsigned long long)cp.size);
    note_opened_free(&opened);
    if (!rc) {
        x->count++;
        x->prev = x->newest = (int64_t)cp.size;
    }
    return rc;
}

int log_checkpoint_verify(struct truce_log *l, struct store *s, int64_t *size, struct errbuf *e)
{
    char ddir[4096], vkey[NOTE_VKEY_SIZE];
    data_dir_of(l, ddir, sizeof ddir);
    struct cp_verify_ctx x = {l, NULL, e, 0, -1, 0};
    int rc = log_verifier_key(ddir, vkey, sizeof vkey, e);
    if (!rc)
        rc = note_verifier_parse(vkey, &x.v, e);
    if (!rc)
        rc = store_checkpoints_each(s, verify_cp, &x, e);
    note_verifier_free(x.v);
    if (!rc && !x.count)
        rc = errf(e, ERR_NOTFOUND, "no checkpoint has been signed yet");
    if (!rc)
        *size = x.newest;
    return rc;
}

int log_add_cosignatures(struct truce_log *l, struct store *s, const char *vkey,
                         const char *lines, size_t lines_len, size_t *added, int64_t *size,
                         struct errbuf *e)
{
    struct note_verifier *v = NULL;
    struct store_checkpoint cp = {0};
    struct buf out;
    buf_init(&out);
    char path[4200];
    *added = 0;
    int rc = note_verifier_parse(vkey, &v, e);
    if (!rc)
        rc = store_checkpoint_last(s, &cp, e);
    if (!rc)
        rc = witness_note_add_cosignatures(cp.note, strlen(cp.note), lines, lines_len, &v, 1,
                                           &out, added, e);
    if (rc == ERR_INVAL || rc == ERR_NOTFOUND)
        errprefix(e, "the newest checkpoint (size %lld)", (long long)cp.size);
    if (!rc)
        rc = store_checkpoint_set_note(s, cp.size, out.p, e);
    if (!rc && path_join(path, sizeof path, l->dir, LOG_CHECKPOINT_NAME))
        rc = errf(e, ERR_INVAL, "%s: path too long", l->dir);
    if (!rc)
        rc = file_write_atomic(path, out.p, out.len, e);
    if (!rc)
        *size = cp.size;
    free(cp.note);
    note_verifier_free(v);
    buf_reset(&out);
    return rc;
}
