/* log.c: leaves of the logged records, and the ledger kept in step with the store (log.h).
 *
 * Leaf bytes (docs/log-format.md): a first line naming the kind and format version, one
 * "key value" line per field in a fixed order, then the body as "body <length>" followed by a
 * newline and exactly that many bytes. Values never contain a newline (they are ids, clause ids,
 * enumerations); the body is taken byte for byte, so no escaping is needed anywhere. */
#include "log/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct truce_log {
    struct ledger_tree *tree;
    struct buf leaf;
    char path[4096];
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
    static const char *const kinds[] = {"agreement version", "observation", "finding"};
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
