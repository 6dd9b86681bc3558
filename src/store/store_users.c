/* store_users.c: the store's users and audit tables: add, look up by token hash, revoke and list
 * API users; append to and read the audit trail. Statements are prepared per call: these are
 * rare next to observations (one lookup and at most one audit row per HTTP request). */
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    str_copy(out, n, v ? v : "");
}

static void read_user(sqlite3_stmt *st, struct store_user *u)
{
    u->id = sqlite3_column_int64(st, 0);
    copy_col(st, 1, u->name, sizeof u->name);
    copy_col(st, 2, u->role, sizeof u->role);
    copy_col(st, 3, u->party, sizeof u->party);
    u->created_ms = sqlite3_column_int64(st, 4);
    u->revoked_ms = sqlite3_column_type(st, 5) == SQLITE_NULL ? TIME_NONE
                                                              : sqlite3_column_int64(st, 5);
}

#define USER_COLS "id, name, role, party, created_ms, revoked_ms"

int store_user_add(struct store *s, const struct store_user *u, const char *token_sha256_hex,
                   struct errbuf *e)
{
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO users(name, role, party, token_sha256, created_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(s, e, "adding a user");
    sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->role, -1, SQLITE_STATIC);
    if (u->party[0])
        sqlite3_bind_text(st, 3, u->party, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, token_sha256_hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, u->created_ms);
    int step = sqlite3_step(st);
    int rc = 0;
    if (step == SQLITE_CONSTRAINT)
        rc = errf(e, ERR_CONFLICT, "user %s: the name is taken (names are never reused, even "
                                   "after revocation)", u->name);
    else if (step != SQLITE_DONE)
        rc = store_dberr(s, e, "adding a user");
    sqlite3_finalize(st);
    return rc;
}

int store_user_by_token(struct store *s, const char *token_sha256_hex, struct store_user *out,
                        struct errbuf *e)
{
    sqlite3_stmt *st = store_cached(s, STORE_CACHED_USER_BY_TOKEN,
                                    "SELECT " USER_COLS " FROM users WHERE token_sha256 = ?1 "
                                    "AND revoked_ms IS NULL");
    if (!st)
        return store_dberr(s, e, "looking up a token");
    sqlite3_bind_text(st, 1, token_sha256_hex, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        read_user(st, out);
    else if (step == SQLITE_DONE)
        rc = errf(e, ERR_NOTFOUND, "no active user has this token");
    else
        rc = store_dberr(s, e, "looking up a token");
    sqlite3_reset(st);
    return rc;
}

int store_data_version(struct store *s, int64_t *out, struct errbuf *e)
{
    sqlite3_stmt *st = store_cached(s, STORE_CACHED_DATA_VERSION, "PRAGMA data_version");
    if (!st)
        return store_dberr(s, e, "reading the data version");
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = store_dberr(s, e, "reading the data version");
    sqlite3_reset(st);
    return rc;
}

int store_user_revoke(struct store *s, const char *name, int64_t now_ms, struct errbuf *e)
{
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT revoked_ms IS NULL FROM users WHERE name = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return store_dberr(s, e, "revoking a user");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_DONE)
        rc = errf(e, ERR_NOTFOUND, "user %s: no such user", name);
    else if (step != SQLITE_ROW)
        rc = store_dberr(s, e, "revoking a user");
    else if (!sqlite3_column_int(st, 0))
        rc = errf(e, ERR_CONFLICT, "user %s: revoked already", name);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(db, "UPDATE users SET revoked_ms = ?2 WHERE name = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return store_dberr(s, e, "revoking a user");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_dberr(s, e, "revoking a user");
    sqlite3_finalize(st);
    return rc;
}

int store_users_each(struct store *s, int (*cb)(void *ctx, const struct store_user *u), void *ctx,
                     struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT " USER_COLS " FROM users ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return store_dberr(s, e, "listing users");
    int rc = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_user u;
        read_user(st, &u);
        rc = cb(ctx, &u);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_dberr(s, e, "listing users");
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* Binds text cut at STORE_AUDIT_TEXT_MAX bytes (on a UTF-8 character boundary). */
static void bind_cut(sqlite3_stmt *st, int col, const char *v)
{
    if (!v)
        v = "";
    size_t n = strlen(v);
    if (n > STORE_AUDIT_TEXT_MAX) {
        n = STORE_AUDIT_TEXT_MAX;
        while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
            n--;
    }
    sqlite3_bind_text(st, col, v, (int)n, SQLITE_TRANSIENT);
}

int store_audit_add(struct store *s, const struct store_audit *a, struct errbuf *e)
{
    sqlite3_stmt *st = store_cached(s, STORE_CACHED_AUDIT_ADD,
                                    "INSERT INTO audit(t_ms, actor, role, action, target, "
                                    "status, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return store_dberr(s, e, "writing the audit trail");
    sqlite3_bind_int64(st, 1, a->t_ms);
    bind_cut(st, 2, a->actor);
    bind_cut(st, 3, a->role);
    bind_cut(st, 4, a->action);
    bind_cut(st, 5, a->target);
    sqlite3_bind_int(st, 6, a->status);
    bind_cut(st, 7, a->result);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_dberr(s, e, "writing the audit trail");
    sqlite3_reset(st);
    return rc;
}

int store_audit_each(struct store *s, int64_t after_id, long long limit,
                     int (*cb)(void *ctx, const struct store_audit *a), void *ctx,
                     struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s),
                           "SELECT id, t_ms, actor, role, action, target, status, result FROM audit "
                           "WHERE id > ?1 ORDER BY id LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(s, e, "reading the audit trail");
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    int rc = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_audit a = {
            .id = sqlite3_column_int64(st, 0),
            .t_ms = sqlite3_column_int64(st, 1),
            .actor = (const char *)sqlite3_column_text(st, 2),
            .role = (const char *)sqlite3_column_text(st, 3),
            .action = (const char *)sqlite3_column_text(st, 4),
            .target = (const char *)sqlite3_column_text(st, 5),
            .status = sqlite3_column_int(st, 6),
            .result = (const char *)sqlite3_column_text(st, 7),
        };
        rc = cb(ctx, &a);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_dberr(s, e, "reading the audit trail");
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}
