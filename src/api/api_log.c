/* api_log.c: the transparency log over HTTP: the signed checkpoint, C2SP tlog-tiles read paths
 * (hash tiles and entry bundles computed live from the ledger and the store with the tiles
 * module's encoders, so they are byte for byte what `truce log export` writes), inclusion and
 * consistency proofs as JSON, and the C2SP tlog-witness add-checkpoint endpoint when the data
 * directory holds a witness. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "api/api_int.h"
#include "tiles/tiles.h"

#define API_WITNESS_DIR "witness"       /* DIR/witness: the witness's state directory */
#define API_WITNESS_LOGS "logs"         /* DIR/witness/logs: ORIGIN=VKEY lines */
#define API_WITNESS_LOGS_BYTES (1u << 20) /* size of the logs file, at most */
#define API_WITNESS_MAX_LOGS 64         /* logs one serving witness is configured with */

/* The tree size the API serves: what the store committed (every leaf of it is durable). */
static uint64_t served_size(struct api *a)
{
    return (uint64_t)store_log_committed(a->s);
}

static bool no_log(struct api *a, struct http_response *resp)
{
    if (a->log)
        return false;
    api_problem(resp, 404, "this instance has no transparency log");
    return true;
}

void api_h_log_checkpoint(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)req;
    (void)p;
    struct store_checkpoint cp = {0};
    struct errbuf e;
    int rc = store_checkpoint_last(a->s, &cp, &e);
    if (rc == ERR_NOTFOUND) {
        api_problem(resp, 404, "no checkpoint has been signed yet");
        return;
    }
    if (rc) {
        api_problem(resp, 500, e.msg);
        return;
    }
    resp->content_type = "text/plain; charset=utf-8";
    if (buf_append(&resp->body, cp.note, strlen(cp.note)))
        api_oom(resp);
    free(cp.note);
}

/* Entry callback for tiles_bundle: the leaf bytes of each record, read one bundle at a time. */
struct entry_cache {
    struct store *s;
    uint64_t first; /* leaf index of leaf[0] */
    size_t n;
    struct buf leaf[TILES_WIDTH];
};

static int collect(void *ctx, const struct store_log_record *r)
{
    struct entry_cache *c = ctx;
    if ((uint64_t)r->log_index != c->first + c->n)
        return 1; /* a gap (a removed record): the leaves before it are all this range holds */
    c->leaf[c->n].len = 0;
    if (log_leaf_bytes(r, &c->leaf[c->n]))
        return ERR_NOMEM;
    return ++c->n == TILES_WIDTH ? 1 : 0;
}

static int entry(void *ctx, uint64_t index, struct buf *out, struct errbuf *e)
{
    struct entry_cache *c = ctx;
    if (index < c->first || index >= c->first + c->n) {
        /* the whole bundle around index (tiles_bundle asks for its leaves in order) */
        c->first = index - index % TILES_WIDTH;
        c->n = 0;
        int rc = store_log_range(c->s, (int64_t)c->first, TILES_WIDTH, collect, c, e);
        if (rc < 0)
            return rc;
    }
    if (index >= c->first + c->n)
        return errf(e, ERR_NOTFOUND, "leaf %llu: no stored record", (unsigned long long)index);
    const struct buf *b = &c->leaf[index - c->first];
    return buf_append(out, b->p ? b->p : "", b->len) ? ERR_NOMEM : 0;
}

/* GET /log/tile/{L}/{N}[.p/{W}], /log/tile/entries/..., /log/truce/entries/...: the route
 * pattern captured the path after /log/. */
void api_h_log_tile(struct api *a, const struct http_request *req, const struct api_params *p,
                    struct http_response *resp)
{
    if (no_log(a, resp))
        return;
    char rel[TILES_PATH_MAX + 16];
    int level;
    uint64_t index;
    unsigned width;
    snprintf(rel, sizeof rel, "%s%s", strncmp(req->path, "/log/truce/", 11) ? "tile/" : "truce/entries/",
             p->v[0]);
    if (tiles_path_parse(rel, &level, &index, &width)) {
        api_problem(resp, 404, "not a tile path (c2sp.org/tlog-tiles: tile/<L>/<N>[.p/<W>] or "
                               "tile/entries/<N>[.p/<W>], N in x-prefixed groups of 3 digits)");
        return;
    }
    struct errbuf e;
    int rc;
    uint64_t size = served_size(a);
    if (level >= 0) {
        rc = tiles_tile(log_tree(a->log), size, level, index, width, &resp->body, &e);
    } else {
        struct entry_cache *c = calloc(1, sizeof *c);
        if (!c) {
            api_oom(resp);
            return;
        }
        c->s = a->s;
        bool large = false;
        rc = tiles_bundle(log_tree(a->log), size, index, width, entry, c, &resp->body, &large,
                          &e);
        for (size_t i = 0; i < TILES_WIDTH; i++)
            buf_reset(&c->leaf[i]);
        free(c);
        /* a bundle lives in exactly one of the two places, as in an export */
        if (!rc && large != (level == TILES_LEVEL_LARGE_ENTRIES))
            rc = errf(&e, ERR_NOTFOUND, "this bundle is served at %s",
                      large ? "/log/truce/entries/..." : "/log/tile/entries/...");
    }
    if (rc) {
        api_problem(resp, rc == ERR_NOTFOUND ? 404 : rc == ERR_INVAL ? 400 : 500, e.msg);
        return;
    }
    resp->content_type = "application/octet-stream";
}

/* A query parameter that must be a whole number in [0, max]; -1 with a 400 otherwise (absent:
 * *out = dflt, or 400 when dflt is UINT64_MAX). */
static int param_u64(const struct http_request *req, const char *name, uint64_t dflt,
                     uint64_t max, uint64_t *out, struct http_response *resp)
{
    const char *v = http_query(req, name);
    long long n;
    char msg[160];
    if (!v && dflt != UINT64_MAX) {
        *out = dflt;
        return 0;
    }
    if (!v || str_to_ll(v, &n) || n < 0 || (uint64_t)n > max) {
        snprintf(msg, sizeof msg, "query parameter %s: %s a whole number from 0 to %llu", name,
                 v ? "must be" : "is required:", (unsigned long long)max);
        api_problem(resp, 400, msg);
        return -1;
    }
    *out = (uint64_t)n;
    return 0;
}

static int b64_field(struct buf *b, const char *name, const struct ledger_hash *h)
{
    char s[LEDGER_B64_SIZE];
    ledger_hash_b64(h, s);
    return buf_printf(b, ",\"%s\":\"%s\"", name, s);
}

static int proof_array(struct buf *b, const struct ledger_hash *proof, size_t n)
{
    int rc = buf_printf(b, ",\"proof\":[");
    for (size_t i = 0; !rc && i < n; i++) {
        char s[LEDGER_B64_SIZE];
        ledger_hash_b64(&proof[i], s);
        rc = buf_printf(b, "%s\"%s\"", i ? "," : "", s);
    }
    if (!rc)
        rc = buf_append(b, "]}\n", 3);
    return rc;
}

/* GET /api/v1/log/proof/inclusion?leaf=I&size=N (or observation=ID instead of leaf). */
void api_h_proof_inclusion(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp)
{
    (void)p;
    if (no_log(a, resp))
        return;
    uint64_t max = served_size(a), size, leaf;
    struct errbuf e;
    if (param_u64(req, "size", max, max, &size, resp))
        return;
    if (http_query(req, "observation")) {
        uint64_t obs;
        int64_t li;
        if (param_u64(req, "observation", UINT64_MAX, INT64_MAX, &obs, resp))
            return;
        int rc = store_obs_log_index(a->s, (int64_t)obs, &li, &e);
        if (rc) {
            api_problem(resp, rc == ERR_NOTFOUND ? 404 : 500, e.msg);
            return;
        }
        leaf = (uint64_t)li;
    } else if (param_u64(req, "leaf", UINT64_MAX, max ? max - 1 : 0, &leaf, resp)) {
        return;
    }
    if (leaf >= size) {
        char msg[128];
        snprintf(msg, sizeof msg, "leaf %llu is not in the tree of %llu leaves",
                 (unsigned long long)leaf, (unsigned long long)size);
        api_problem(resp, 400, msg);
        return;
    }
    struct ledger_hash proof[LEDGER_MAX_PROOF], lh, root;
    size_t np = 0;
    struct ledger_tree *t = log_tree(a->log);
    if (ledger_inclusion_proof(t, leaf, size, proof, &np, &e) || ledger_leaf(t, leaf, &lh, &e) ||
        ledger_root(t, size, &root, &e)) {
        api_problem(resp, 500, e.msg);
        return;
    }
    struct buf *b = &resp->body;
    int rc = buf_printf(b, "{\"leaf_index\":%llu,\"tree_size\":%llu", (unsigned long long)leaf,
                        (unsigned long long)size);
    if (!rc)
        rc = b64_field(b, "leaf_hash", &lh);
    if (!rc)
        rc = b64_field(b, "root", &root);
    if (!rc)
        rc = proof_array(b, proof, np);
    if (rc)
        api_oom(resp);
}

/* GET /api/v1/log/proof/consistency?old=M&size=N */
void api_h_proof_consistency(struct api *a, const struct http_request *req,
                             const struct api_params *p, struct http_response *resp)
{
    (void)p;
    if (no_log(a, resp))
        return;
    uint64_t max = served_size(a), size, old;
    if (param_u64(req, "size", max, max, &size, resp) ||
        param_u64(req, "old", UINT64_MAX, size, &old, resp))
        return;
    struct ledger_hash proof[LEDGER_MAX_PROOF], old_root, root;
    size_t np = 0;
    struct errbuf e;
    struct ledger_tree *t = log_tree(a->log);
    if (ledger_consistency_proof(t, old, size, proof, &np, &e) ||
        ledger_root(t, old, &old_root, &e) || ledger_root(t, size, &root, &e)) {
        api_problem(resp, 500, e.msg);
        return;
    }
    struct buf *b = &resp->body;
    int rc = buf_printf(b, "{\"old_size\":%llu,\"tree_size\":%llu", (unsigned long long)old,
                        (unsigned long long)size);
    if (!rc)
        rc = b64_field(b, "old_root", &old_root);
    if (!rc)
        rc = b64_field(b, "root", &root);
    if (!rc)
        rc = proof_array(b, proof, np);
    if (rc)
        api_oom(resp);
}

/* POST /add-checkpoint (c2sp.org/tlog-witness). */
void api_h_add_checkpoint(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)p;
    if (!a->witness) {
        api_problem(resp, 404, "this instance is not a witness (truce witness init DIR/witness)");
        return;
    }
    struct errbuf e;
    int status = 500;
    int rc = witness_add_checkpoint(a->witness, req->body, req->body_len, &resp->body, &status,
                                    &e);
    resp->status = status;
    resp->content_type = witness_content_type(status, resp->body.p, resp->body.len);
    snprintf(a->audit_result, sizeof a->audit_result, "%s", rc ? e.msg : "cosigned");
}

/* POST /api/v1/log/cosignatures: the body is the witness's verifier key on its first line, then
 * its add-checkpoint answer (cosignature lines); they are added to the newest checkpoint. */
void api_h_log_cosignatures(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp)
{
    (void)p;
    if (no_log(a, resp))
        return;
    const char *nl = memchr(req->body, '\n', req->body_len);
    char vkey[NOTE_VKEY_SIZE];
    size_t klen = nl ? (size_t)(nl - req->body) : 0;
    if (!nl || klen == 0 || klen >= sizeof vkey) {
        api_problem(resp, 400, "the body is the witness's verifier key on one line, then its "
                               "add-checkpoint answer (cosignature lines)");
        return;
    }
    memcpy(vkey, req->body, klen);
    vkey[klen] = 0;
    size_t added = 0;
    int64_t size = 0;
    struct errbuf e;
    const char *lines = nl + 1;
    int rc = log_add_cosignatures(a->log, a->s, vkey, lines,
                                  req->body_len - (size_t)(lines - req->body), &added, &size, &e);
    snprintf(a->audit_result, sizeof a->audit_result, "%s", rc ? e.msg : "added");
    if (rc) {
        api_problem(resp, rc == ERR_NOMEM || rc == ERR_IO || rc == ERR_DB ? 500
                          : rc == ERR_INVAL || rc == ERR_NOTFOUND  ? 422
                                                                   : 400,
                    e.msg);
        return;
    }
    snprintf(a->audit_result, sizeof a->audit_result, "%zu cosignature(s) added to the "
             "checkpoint of size %lld", added, (long long)size);
    if (buf_printf(&resp->body, "{\"added\":%zu,\"size\":%lld}\n", added, (long long)size))
        api_oom(resp);
}

int api_open_witness(struct api *a, const char *dir, struct errbuf *e)
{
    char state[4096], path[4200];
    if (path_join(state, sizeof state, dir, API_WITNESS_DIR) ||
        path_join(path, sizeof path, state, API_WITNESS_LOGS))
        return errf(e, ERR_INVAL, "%s: path too long", dir);
    struct stat st;
    if (stat(state, &st) != 0)
        return 0; /* no witness here */
    char *text = NULL;
    size_t len = 0;
    int rc = file_read(path, API_WITNESS_LOGS_BYTES, &text, &len, e);
    if (rc) {
        errprefix(e, "witness in %s needs its logs file (ORIGIN=VKEY lines)", state);
        return rc;
    }
    struct witness_log logs[API_WITNESS_MAX_LOGS];
    size_t n = 0;
    int line = 0;
    for (char *s = text, *next; s && *s && !rc; s = next) {
        line++;
        next = strchr(s, '\n');
        if (next)
            *next++ = 0;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq || eq == s || n == API_WITNESS_MAX_LOGS) {
            rc = errf(e, eq ? ERR_TOOBIG : ERR_PARSE, "%s line %d: %s", path, line,
                      eq ? "too many logs" : "expected ORIGIN=VKEY");
            break;
        }
        *eq = 0;
        logs[n++] = (struct witness_log){s, eq + 1};
    }
    if (!rc)
        rc = witness_open(state, NULL, logs, n, &a->witness, e);
    free(text);
    return rc;
}
