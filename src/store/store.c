/* store.c: SQLite schema, migrations, prepared statements and queries of the truce store.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so a transaction is on disk when COMMIT
 * returns; `truce ingest` reports a record as accepted only after its batch has committed.
 * Statements are prepared once at open and finalised at close. */
#include "store/store.h"
#include "store/store_int.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum stmt_id {
    ST_OBS_INSERT,
    ST_OBS_BY_CLIENT,
    ST_EVENT_INSERT,
    ST_ZONE_INSERT,
    ST_FINDING_INSERT,
    ST_INCIDENT_PUT,
    ST_INCIDENT_DELETE,
    ST_EVIDENCE_DELETE,
    ST_EVIDENCE_INSERT,
    ST_INCIDENT_JSON,
    ST_INCIDENT_LOG,
    ST_N
};

static const char *const STMT_SQL[ST_N] = {
    [ST_OBS_INSERT] =
        "INSERT INTO observations(client_id, kind, agreement_version, t_start_ms, t_end_ms, "
        "received_ms, means, how, lon, lat, radius_m, distance_assumed, observer_lon, "
        "observer_lat, place, region, control, control_uncertain, phrase, line_distances, party, "
        "against, count, qualifier, weapon_category, weapon_model, calibre_mm, armed, "
        "flight_from, flight_to, bearings, dist_min_m, dist_max_m, report_ref, remarks, raw, "
        "log_index) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
        "?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37) "
        "ON CONFLICT(client_id) DO NOTHING",
    [ST_OBS_BY_CLIENT] = "SELECT id, raw FROM observations WHERE client_id = ?1",
    [ST_EVENT_INSERT] = "INSERT INTO obs_events(obs_id, seq, event_type, count, qualifier, "
                        "weapon_category, weapon_model, calibre_mm) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [ST_ZONE_INSERT] = "INSERT INTO obs_zones(obs_id, zone, relation, distance_m) VALUES "
                       "(?1,?2,?3,?4)",
    [ST_FINDING_INSERT] =
        "INSERT INTO findings(obs_id, agreement_version, clause, rule_kind, result, party, "
        "severity, status, reasons, created_ms, t_end_ms, region, log_index) VALUES "
        "(?1,?2,?3,?4,?5,?6,?7,'provisional',?8,?9,?10,?11,?12)",
    [ST_INCIDENT_PUT] =
        "INSERT OR REPLACE INTO incidents(id, t_start_ms, t_end_ms, region, count, party, grade, "
        "origin_method, loc_method, lon, lat, json, counts, finding_party, clauses, "
        "semi_major_m) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
    [ST_INCIDENT_DELETE] = "DELETE FROM incidents WHERE id = ?1",
    [ST_EVIDENCE_DELETE] = "DELETE FROM incident_evidence WHERE incident_id = ?1",
    [ST_EVIDENCE_INSERT] =
        "INSERT OR REPLACE INTO incident_evidence(obs_id, incident_id) VALUES (?1,?2)",
    [ST_INCIDENT_JSON] = "SELECT json FROM incidents WHERE id = ?1",
    [ST_INCIDENT_LOG] = "INSERT INTO incident_log(log_index, incident_id, agreement_version, "
                        "party, grade, json) VALUES (?1,?2,?3,?4,?5,?6)",
};

/* Migration n brings the schema from version n-1 to n. Never edit a released migration: add. */
static const char *const MIGRATIONS[] = {
    NULL,
    /* 1: the foundation schema */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE agreements(version INTEGER PRIMARY KEY, agreement_id TEXT NOT NULL, "
    "  effective_ms INTEGER NOT NULL, added_ms INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE TABLE observations(id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, kind TEXT NOT NULL,"
    "  agreement_version INTEGER, t_start_ms INTEGER NOT NULL, t_end_ms INTEGER NOT NULL,"
    "  received_ms INTEGER NOT NULL, means TEXT NOT NULL, how TEXT NOT NULL, lon REAL, lat REAL,"
    "  radius_m REAL, distance_assumed INTEGER, observer_lon REAL, observer_lat REAL, place TEXT,"
    "  region TEXT, control TEXT, control_uncertain INTEGER, phrase TEXT, line_distances TEXT,"
    "  party TEXT, against TEXT, count INTEGER, qualifier TEXT, weapon_category TEXT,"
    "  weapon_model TEXT, calibre_mm REAL, armed INTEGER, flight_from TEXT, flight_to TEXT,"
    "  bearings TEXT, dist_min_m REAL, dist_max_m REAL, report_ref TEXT, remarks TEXT,"
    "  raw TEXT NOT NULL);"
    "CREATE INDEX observations_t_end ON observations(t_end_ms);"
    "CREATE TABLE obs_events(obs_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  event_type TEXT NOT NULL, count INTEGER, qualifier TEXT NOT NULL, weapon_category TEXT,"
    "  weapon_model TEXT, calibre_mm REAL, PRIMARY KEY(obs_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE obs_zones(obs_id INTEGER NOT NULL, zone TEXT NOT NULL, relation TEXT NOT NULL,"
    "  distance_m REAL, PRIMARY KEY(obs_id, zone)) WITHOUT ROWID;"
    "CREATE TABLE findings(id INTEGER PRIMARY KEY, obs_id INTEGER NOT NULL,"
    "  agreement_version INTEGER NOT NULL, clause TEXT NOT NULL, rule_kind TEXT NOT NULL,"
    "  result TEXT NOT NULL, party TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL,"
    "  reasons TEXT NOT NULL, created_ms INTEGER NOT NULL, t_end_ms INTEGER NOT NULL,"
    "  region TEXT);"
    "CREATE INDEX findings_t_end ON findings(t_end_ms);",
    /* 2: the transparency log: each logged record's leaf index, and the log's committed size */
    "ALTER TABLE agreements ADD COLUMN log_index INTEGER;"
    "ALTER TABLE observations ADD COLUMN log_index INTEGER;"
    "ALTER TABLE findings ADD COLUMN log_index INTEGER;"
    /* records stored before the log existed get indices in storage order: the agreement
     * versions, then each observation followed by its findings */
    "UPDATE agreements SET log_index = (SELECT count(*) FROM agreements b "
    "  WHERE b.version < agreements.version);"
    "CREATE TEMP TABLE log_order AS SELECT kind, id, (SELECT count(*) FROM agreements) - 1 + "
    "  row_number() OVER (ORDER BY obs_key, kind, id) AS idx FROM ("
    "  SELECT 0 AS kind, id, id AS obs_key FROM observations UNION ALL "
    "  SELECT 1 AS kind, id, obs_id AS obs_key FROM findings);"
    "UPDATE observations SET log_index = (SELECT idx FROM log_order WHERE kind = 0 AND "
    "  log_order.id = observations.id);"
    "UPDATE findings SET log_index = (SELECT idx FROM log_order WHERE kind = 1 AND "
    "  log_order.id = findings.id);"
    "DROP TABLE log_order;"
    "CREATE TABLE log_state(id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL);"
    "INSERT INTO log_state VALUES (1, (SELECT count(*) FROM agreements) + "
    "  (SELECT count(*) FROM observations) + (SELECT count(*) FROM findings));",
    /* 3: every checkpoint the log signed, in order (the newest is what a new one must extend) */
    "CREATE TABLE checkpoints(id INTEGER PRIMARY KEY, size INTEGER NOT NULL,"
    "  root_hex TEXT NOT NULL, note TEXT NOT NULL, signed_ms INTEGER NOT NULL);",
    /* 4: API users (only the SHA-256 of each token is kept) and the audit trail of writes */
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
    "  party TEXT, token_sha256 TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL,"
    "  revoked_ms INTEGER);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
    "  role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL,"
    "  result TEXT NOT NULL);",
    /* 5: escalation (M7): alerts (logged), subscribers, the webhook outbox, and how far the
     * findings have been evaluated */
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY, threshold TEXT NOT NULL, level TEXT NOT NULL,"
    "  region TEXT NOT NULL, party TEXT NOT NULL, window_start_ms INTEGER NOT NULL,"
    "  window_end_ms INTEGER NOT NULL, findings INTEGER NOT NULL, finding_ids TEXT NOT NULL,"
    "  agreement_version INTEGER NOT NULL, text TEXT NOT NULL, raised_ms INTEGER NOT NULL,"
    "  acknowledged_by TEXT, acknowledged_ms INTEGER, log_index INTEGER,"
    "  UNIQUE(threshold, region, party, window_start_ms));"
    "CREATE TABLE subscribers(name TEXT PRIMARY KEY, url TEXT NOT NULL, min_level TEXT NOT NULL,"
    "  party TEXT, added_ms INTEGER NOT NULL);"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, subscriber TEXT NOT "
    "  NULL, url TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL, last_error TEXT, delivered_ms INTEGER,"
    "  created_ms INTEGER NOT NULL, UNIQUE(alert_id, subscriber));"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);"
    "CREATE TABLE escalation_state(id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  last_finding_id INTEGER NOT NULL);"
    "INSERT INTO escalation_state VALUES (1, 0);",
    /* 6: paged listings (store_page.c) in (end time, id) order: a time index and a latitude
     * index (for bboxes holding few centres) that both carry every column a page filters on, so
     * a key query never reads a row it does not return; findings by observation (their bbox).
     * Two wide indexes rather than one per filter: each index costs ingest a B-tree insert */
    "DROP INDEX observations_t_end;"
    "CREATE INDEX observations_time ON observations(t_end_ms, lon, lat, kind, party, region);"
    "CREATE INDEX observations_lat ON observations(lat, lon, t_end_ms, kind, party, region);"
    "CREATE INDEX findings_obs ON findings(obs_id);",
    /* 7: incidents fused from fire observations (docs/fusion.md); derived data, rebuilt by
     * `truce fuse`; an incident's id is the smallest observation id of its evidence */
    "CREATE TABLE incidents(id INTEGER PRIMARY KEY, t_start_ms INTEGER NOT NULL,"
    "  t_end_ms INTEGER NOT NULL, region TEXT, count INTEGER NOT NULL, party TEXT NOT NULL,"
    "  grade TEXT NOT NULL, origin_method TEXT NOT NULL, loc_method TEXT NOT NULL, lon REAL,"
    "  lat REAL, json TEXT NOT NULL, counts TEXT NOT NULL, finding_party TEXT);"
    "CREATE INDEX incidents_t_end ON incidents(t_end_ms);"
    "CREATE TABLE incident_evidence(obs_id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL);"
    "CREATE INDEX incident_evidence_incident ON incident_evidence(incident_id);"
    /* every version of an incident as logged (docs/log-format.md, truce/incident/1) */
    "CREATE TABLE incident_log(log_index INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL,"
    "  agreement_version INTEGER NOT NULL, party TEXT NOT NULL, grade TEXT NOT NULL,"
    "  json TEXT NOT NULL);",
    /* 8: the review of findings (M6): every step with who, in which role, when and why; each
     * is a leaf of the log */
    "CREATE TABLE finding_reviews(id INTEGER PRIMARY KEY, finding_id INTEGER NOT NULL,"
    "  action TEXT NOT NULL, status_from TEXT NOT NULL, status_to TEXT NOT NULL,"
    "  actor TEXT NOT NULL, role TEXT NOT NULL, party TEXT, text TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, log_index INTEGER NOT NULL);"
    "CREATE INDEX finding_reviews_finding ON finding_reviews(finding_id);",
    /* 9: an incident's leaf index by its id (the newest version; store_log_index_of). Leaf
     * ranges need no index: each logged table is in leaf order by its key (store_log_range) */
    "CREATE INDEX incident_log_incident ON incident_log(incident_id);"
    /* bbox pages cell by cell (store_page.c): the placed centre's cell of 0.1 degree, then the
     * columns the latitude index had, which this replaces (one B-tree insert per row, as before);
     * both page indexes carry the id after the end time, so (end time, id) order needs no sort */
    "DROP INDEX observations_lat;"
    "CREATE INDEX observations_cell ON observations(CAST((lat + 90.0) * 10 AS INTEGER) * 3601 + "
    "  CAST((lon + 180.0) * 10 AS INTEGER), t_end_ms, id, lon, lat, kind, party, region);"
    "DROP INDEX observations_time;"
    "CREATE INDEX observations_time ON observations(t_end_ms, id, lon, lat, kind, party, region);",
    /* 10: what the dashboard's map reads of each incident besides its columns - the clauses of
     * its findings (comma-separated, NULL: none) and its ellipse's semi-major axis - as columns
     * (read from the JSON per row they cost the map's query most of its time); incidents stored
     * before get them from their JSON here */
    "ALTER TABLE incidents ADD COLUMN clauses TEXT;"
    "ALTER TABLE incidents ADD COLUMN semi_major_m REAL;"
    "UPDATE incidents SET clauses = (SELECT group_concat(DISTINCT json_extract(f.value, "
    "  '$.clause')) FROM json_each(incidents.json, '$.findings') f), "
    "  semi_major_m = json_extract(incidents.json, '$.location.semi_major_m');",
};
#define N_MIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]) - 1)
_Static_assert(N_MIGRATIONS == STORE_SCHEMA_VERSION, "add a migration with each schema version");

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    char path[4096];
    int64_t log_size;      /* leaves assigned so far, committed or in the open transaction */
    int64_t log_committed; /* leaves recorded by the last COMMIT */
    sqlite3_stmt *cached[STORE_CACHED_STMTS]; /* store_cached: prepared on first use */
    struct buf scratch; /* store_obs_insert's line distances, reused */
};

static int read_log_size(struct store *s, int64_t *n, struct errbuf *e);

const char *store_path_(const struct store *s) { return s->path; }

static int dberr(struct store *s, struct errbuf *e, const char *what)
{
    return errf(e, ERR_DB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, struct errbuf *e)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = errf(e, ERR_DB, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int user_version(struct store *s, int *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return ERR_DB;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : ERR_DB;
    if (!rc)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int migrate(struct store *s, struct errbuf *e)
{
    int v;
    if (user_version(s, &v))
        return dberr(s, e, "reading the schema version");
    if (v > N_MIGRATIONS)
        return errf(e, ERR_DB, "%s: schema version %d is newer than this truce (%d); upgrade truce",
                    s->path, v, N_MIGRATIONS);
    for (int i = v + 1; i <= N_MIGRATIONS; i++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d;", i);
        int rc = exec(s, "BEGIN IMMEDIATE", e);
        if (!rc)
            rc = exec(s, MIGRATIONS[i], e);
        if (!rc)
            rc = exec(s, pragma, e);
        if (!rc)
            rc = exec(s, "COMMIT", e);
        if (rc) {
            exec(s, "ROLLBACK", NULL);
            errprefix(e, "migration %d", i);
            return rc;
        }
    }
    return 0;
}

int store_open(const char *dir, bool create, struct store **out, struct errbuf *e)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return errf(e, ERR_NOMEM, "out of memory");
    int rc = 0;
    if (path_join(s->path, sizeof s->path, dir, STORE_DB_NAME)) {
        rc = errf(e, ERR_INVAL, "%s: path too long", dir);
        goto fail;
    }
    struct stat st;
    if (create) {
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            rc = errf(e, ERR_IO, "%s: cannot create the data directory: %s", dir, strerror(errno));
            goto fail;
        }
        if (stat(s->path, &st) == 0) {
            rc = errf(e, ERR_CONFLICT, "%s: a truce store already exists here", dir);
            goto fail;
        }
    } else if (stat(s->path, &st) != 0) {
        rc = errf(e, ERR_NOTFOUND,
                  "%s: no truce store here (run `truce init %s --agreement FILE` first, or set "
                  "--data / TRUCE_DATA)",
                  dir, dir);
        goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(s->path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = dberr(s, e, "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* Larger pages and rarer checkpoints: ingest writes many small rows, and each checkpoint
     * copies the B-tree pages it touched back into the database file. */
    if ((create && (rc = exec(s, "PRAGMA page_size=8192;", e))) ||
        (rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                      "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;"
                      "PRAGMA mmap_size=1073741824;", e)) ||
        (rc = migrate(s, e)))
        goto fail;
    for (int i = 0; i < ST_N; i++)
        if (sqlite3_prepare_v3(s->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            rc = dberr(s, e, "preparing statements");
            goto fail;
        }
    if ((rc = read_log_size(s, &s->log_size, e)))
        goto fail;
    s->log_committed = s->log_size;
    *out = s;
    return 0;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < STORE_CACHED_STMTS; i++)
        sqlite3_finalize(s->cached[i]);
    sqlite3_close(s->db);
    buf_reset(&s->scratch);
    free(s);
}

static int read_log_size(struct store *s, int64_t *n, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT size FROM log_state WHERE id = 1", -1, &q, NULL) !=
        SQLITE_OK)
        return dberr(s, e, "reading the log size");
    int rc = sqlite3_step(q) == SQLITE_ROW ? 0 : dberr(s, e, "reading the log size");
    if (!rc)
        *n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc;
}

int store_begin(struct store *s, struct errbuf *e) { return exec(s, "BEGIN IMMEDIATE", e); }

int store_commit(struct store *s, struct errbuf *e)
{
    if (s->log_size != s->log_committed) {
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE log_state SET size = %lld WHERE id = 1",
                 (long long)s->log_size);
        int rc = exec(s, sql, e);
        if (rc)
            return rc;
    }
    int rc = exec(s, "COMMIT", e);
    if (!rc)
        s->log_committed = s->log_size;
    return rc;
}

void store_rollback(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        exec(s, "ROLLBACK", NULL);
    s->log_size = s->log_committed;
}

int64_t store_log_size(const struct store *s) { return s->log_size; }
int64_t store_log_committed(const struct store *s) { return s->log_committed; }

/* ---- agreements ---- */

int store_agreement_add(struct store *s, const struct agreement *a, struct errbuf *e)
{
    sqlite3_stmt *q = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT version, agreement_id, effective_ms FROM agreements ORDER BY "
                           "version DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading agreements");
    if (sqlite3_step(q) == SQLITE_ROW) {
        int v = sqlite3_column_int(q, 0);
        const char *id = (const char *)sqlite3_column_text(q, 1);
        int64_t eff = sqlite3_column_int64(q, 2);
        if (strcmp(id, a->id))
            rc = errf(e, ERR_CONFLICT, "this store holds agreement \"%s\", not \"%s\"", id, a->id);
        else if (a->version <= v)
            rc = errf(e, ERR_CONFLICT, "version %d is not above the stored version %d", a->version,
                      v);
        else if (a->effective_ms <= eff)
            rc = errf(e, ERR_CONFLICT, "version %d must take effect after version %d does",
                      a->version, v);
    }
    sqlite3_finalize(q);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO agreements(version, agreement_id, effective_ms, added_ms, "
                           "json, log_index) VALUES (?1,?2,?3,?4,?5,?6)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "adding agreement");
    sqlite3_bind_int64(q, 6, s->log_size);
    sqlite3_bind_int(q, 1, a->version);
    sqlite3_bind_text(q, 2, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, a->effective_ms);
    sqlite3_bind_int64(q, 4, time_now_ms());
    sqlite3_bind_text(q, 5, a->resolved_json, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = dberr(s, e, "adding agreement");
    else
        s->log_size++;
    sqlite3_finalize(q);
    return rc;
}

int store_agreements_load(struct store *s, struct store_agreements *out, struct errbuf *e)
{
    out->v = NULL;
    out->n = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT version, json FROM agreements ORDER BY version", -1, &q,
                           NULL) != SQLITE_OK)
        return dberr(s, e, "reading agreements");
    int rc = 0, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        char src[64];
        snprintf(src, sizeof src, "stored agreement version %d", sqlite3_column_int(q, 0));
        struct agreement *a;
        const char *json = (const char *)sqlite3_column_text(q, 1);
        if ((rc = agr_load_json(json, (size_t)sqlite3_column_bytes(q, 1), src, &a, e)))
            break;
        out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n++] = a;
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading agreements");
    sqlite3_finalize(q);
    if (!rc && out->n == 0)
        rc = errf(e, ERR_NOTFOUND, "%s: the store holds no agreement", s->path);
    if (rc)
        store_agreements_free(out);
    return rc;
}

void store_agreements_free(struct store_agreements *l)
{
    for (size_t i = 0; i < l->n; i++)
        agr_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

const struct agreement *store_agreement_at(const struct store_agreements *l, int64_t t_ms)
{
    const struct agreement *best = l->v[0];
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i]->effective_ms <= t_ms)
            best = l->v[i];
    return best;
}

/* ---- observations ---- */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC); /* lives until the step */
    else
        sqlite3_bind_null(st, i);
}

static void bind_double_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* Writes v with up to 3 decimals, trailing zeros dropped ("22.5", "11.25", "90"), by integer
 * arithmetic: printf's floating-point path costs more than the rest of the row. */
static void fmt_decimal(char *out, size_t n, double v)
{
    long long milli = llround(v * 1000.0);
    if (n < 32 || fabs(v) > 1e12 || fabs((double)milli / 1000.0 - v) > 1e-9) {
        snprintf(out, n, "%.17g", v);
        return;
    }
    char *p = out;
    if (milli < 0) {
        *p++ = '-';
        milli = -milli;
    }
    p += str_utoa(p, (unsigned long long)(milli / 1000));
    int frac = (int)(milli % 1000);
    if (frac) {
        *p++ = '.';
        *p++ = (char)('0' + frac / 100);
        if (frac % 100) {
            *p++ = (char)('0' + frac / 10 % 10);
            if (frac % 10)
                *p++ = (char)('0' + frac % 10);
        }
    }
    *p = 0;
}

static const char *const RULE_KIND_NAMES[] = {"fire_prohibited", "weapon_withdrawal",
                                              "armed_presence"};

int store_obs_insert(struct store *s, const struct agreement *a, const struct obs *o,
                     const struct placement *p, const struct finding *f, size_t nf, int64_t *id,
                     bool *duplicate, struct store_insert_ids *ids, struct errbuf *e)
{
    sqlite3_stmt *st = s->st[ST_OBS_INSERT];
    struct buf *lines = &s->scratch; /* kept between calls: no allocation per record */
    char bearings[16 * 70] = "";
    lines->len = 0;
    int brc = buf_append(lines, "{", 1);
    for (size_t i = 0; i < p->n_lines && !brc; i++) {
        long long d = llround(p->line_distance_m[i]);
        char num[24];
        num[0] = ':';
        size_t k = 1;
        if (d < 0) {
            num[k++] = '-';
            d = -d;
        }
        k += str_utoa(num + k, (unsigned long long)d);
        brc = (i && buf_append(lines, ",", 1)) || buf_json_str(lines, a->lines[i].id) ||
              buf_append(lines, num, k);
    }
    if (brc || buf_append(lines, "}", 1))
        return errf(e, ERR_NOMEM, "out of memory");
    /* "135+-11.25;157.5+-11.25": at most 16 bearings of 2 x 32 bytes fit the 512 */
    char *bp = bearings;
    for (size_t i = 0; i < o->n_bearings; i++) {
        if (i)
            *bp++ = ';';
        fmt_decimal(bp, 32, o->bearing_deg[i]);
        bp += strlen(bp);
        *bp++ = '+';
        *bp++ = '-';
        fmt_decimal(bp, 32, o->bearing_half_width_deg[i]);
        bp += strlen(bp);
    }
    *bp = 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    bind_text_or_null(st, 1, o->client_id);
    sqlite3_bind_text(st, 2, OBS_KIND_NAMES[o->kind], -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, a->version);
    sqlite3_bind_int64(st, 4, o->t_start_ms);
    sqlite3_bind_int64(st, 5, o->t_end_ms);
    sqlite3_bind_int64(st, 6, time_now_ms());
    sqlite3_bind_text(st, 7, OBS_MEANS_NAMES[o->means], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, PLACE_HOW_NAMES[p->how], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 9, p->centre.lon_deg);
    sqlite3_bind_double(st, 10, p->centre.lat_deg);
    sqlite3_bind_double(st, 11, p->radius_m);
    sqlite3_bind_int(st, 12, p->distance_assumed);
    if (o->has_observer) {
        sqlite3_bind_double(st, 13, o->observer.lon_deg);
        sqlite3_bind_double(st, 14, o->observer.lat_deg);
    }
    bind_text_or_null(st, 15, o->place);
    bind_text_or_null(st, 16, p->region >= 0 ? a->regions[p->region].id : NULL);
    bind_text_or_null(st, 17, p->control);
    sqlite3_bind_int(st, 18, p->control_uncertain);
    sqlite3_bind_text(st, 19, p->phrase, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 20, lines->p, (int)lines->len, SQLITE_STATIC);
    bind_text_or_null(st, 21, o->party);
    bind_text_or_null(st, 22, o->against);
    if (o->count >= 0)
        sqlite3_bind_int64(st, 23, o->count);
    if (o->kind == OBS_SIGHTING || o->kind == OBS_PRESENCE)
        sqlite3_bind_text(st, 24, OBS_QUALIFIER_NAMES[o->count_qualifier], -1, SQLITE_STATIC);
    bind_text_or_null(st, 25, o->weapon.category);
    bind_text_or_null(st, 26, o->weapon.model);
    bind_double_or_null(st, 27, o->weapon.calibre_mm);
    if (o->kind == OBS_PRESENCE || o->kind == OBS_SIGHTING)
        sqlite3_bind_int(st, 28, o->armed);
    bind_text_or_null(st, 29, o->flight_from);
    bind_text_or_null(st, 30, o->flight_to);
    bind_text_or_null(st, 31, bearings);
    bind_double_or_null(st, 32, o->dist_min_m);
    bind_double_or_null(st, 33, o->dist_max_m);
    bind_text_or_null(st, 34, o->report_ref);
    bind_text_or_null(st, 35, o->remarks);
    sqlite3_bind_text(st, 36, o->raw, (int)o->raw_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 37, s->log_size);
    if (sqlite3_step(st) != SQLITE_DONE) {
        int rc = dberr(s, e, "storing an observation");
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    if (sqlite3_changes(s->db) == 0) {
        sqlite3_stmt *q = s->st[ST_OBS_BY_CLIENT];
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, o->client_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q) == SQLITE_ROW ? 0 : dberr(s, e, "looking up a client id");
        if (!rc) {
            *id = sqlite3_column_int64(q, 0);
            const void *raw = sqlite3_column_blob(q, 1);
            size_t n = (size_t)sqlite3_column_bytes(q, 1);
            /* The same client id with other content is not a resubmission but a second
             * record: refuse it rather than silently keep the first. */
            if (n != o->raw_len || (n && memcmp(raw, o->raw, n)))
                rc = errf(e, ERR_CONFLICT,
                          "client_id: \"%s\" was stored before with different content (observation "
                          "%lld); a correction needs a new client id",
                          o->client_id, (long long)*id);
        }
        sqlite3_reset(q);
        *duplicate = true;
        return rc;
    }
    *duplicate = false;
    int64_t oid = sqlite3_last_insert_rowid(s->db);
    if (ids) {
        ids->obs_id = oid;
        ids->obs_log_index = s->log_size;
        ids->n_findings = 0;
    }
    s->log_size++;
    for (size_t i = 0; i < o->n_events; i++) {
        const struct obs_event *ev = &o->events[i];
        st = s->st[ST_EVENT_INSERT];
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_int64(st, 1, oid);
        sqlite3_bind_int(st, 2, (int)i);
        sqlite3_bind_text(st, 3, AGR_EVENT_TYPES[ev->type], -1, SQLITE_STATIC);
        if (ev->count >= 0)
            sqlite3_bind_int64(st, 4, ev->count);
        sqlite3_bind_text(st, 5, OBS_QUALIFIER_NAMES[ev->qualifier], -1, SQLITE_STATIC);
        bind_text_or_null(st, 6, ev->weapon.category);
        bind_text_or_null(st, 7, ev->weapon.model);
        bind_double_or_null(st, 8, ev->weapon.calibre_mm);
        if (sqlite3_step(st) != SQLITE_DONE)
            return dberr(s, e, "storing an event");
    }
    for (size_t i = 0; i < p->n_zones; i++) {
        st = s->st[ST_ZONE_INSERT];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, oid);
        sqlite3_bind_text(st, 2, a->zones[p->zones[i].zone].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, PLACE_REL_NAMES[p->zones[i].rel], -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 4, p->zones[i].distance_m);
        if (sqlite3_step(st) != SQLITE_DONE)
            return dberr(s, e, "storing a zone relation");
    }
    int64_t now = time_now_ms();
    for (size_t i = 0; i < nf; i++) {
        const struct agr_rule *r = &a->rules[f[i].rule];
        st = s->st[ST_FINDING_INSERT];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, oid);
        sqlite3_bind_int(st, 2, a->version);
        sqlite3_bind_text(st, 3, r->clause, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, RULE_KIND_NAMES[r->kind], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, RULE_RESULT_NAMES[f[i].result], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, f[i].party, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r->severity, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, f[i].reasons, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, now);
        sqlite3_bind_int64(st, 10, o->t_end_ms);
        bind_text_or_null(st, 11, p->region >= 0 ? a->regions[p->region].id : NULL);
        sqlite3_bind_int64(st, 12, s->log_size);
        if (sqlite3_step(st) != SQLITE_DONE)
            return dberr(s, e, "storing a finding");
        if (ids) {
            ids->finding_ids[ids->n_findings] = sqlite3_last_insert_rowid(s->db);
            ids->finding_log_index[ids->n_findings++] = s->log_size;
        }
        s->log_size++;
    }
    *id = oid;
    return 0;
}

void store_filter_init(struct store_filter *f)
{
    memset(f, 0, sizeof *f);
    f->from_ms = f->to_ms = TIME_NONE;
}

/* Appends the filter's WHERE clause (tables aliased o for observations, f for findings) and
 * binds its values in order after the statement is prepared. */
struct where {
    char sql[1024];
    const char *texts[8];
    int64_t ints[4];
    int n_texts, n_ints;
    int order[12]; /* 0 text, 1 int */
    int n;
};

static void where_add(struct where *w, const char *cond, int is_int, const char *t, int64_t i)
{
    size_t len = strlen(w->sql);
    snprintf(w->sql + len, sizeof w->sql - len, "%s%s", w->n ? " AND " : " WHERE ", cond);
    w->order[w->n++] = is_int;
    if (is_int)
        w->ints[w->n_ints++] = i;
    else
        w->texts[w->n_texts++] = t;
}

static void where_build(struct where *w, const struct store_filter *f, bool findings)
{
    memset(w, 0, sizeof *w);
    const char *t = findings ? "f.t_end_ms" : "o.t_end_ms";
    char cond[128];
    if (f->from_ms != TIME_NONE) {
        snprintf(cond, sizeof cond, "%s >= ?", t);
        where_add(w, cond, 1, NULL, f->from_ms);
    }
    if (f->to_ms != TIME_NONE) {
        snprintf(cond, sizeof cond, "%s < ?", t);
        where_add(w, cond, 1, NULL, f->to_ms);
    }
    if (f->region)
        where_add(w, findings ? "f.region = ?" : "o.region = ?", 0, f->region, 0);
    if (f->kind && !findings)
        where_add(w, "o.kind = ?", 0, f->kind, 0);
    if (f->party)
        where_add(w, findings ? "f.party = ?" : "o.party = ?", 0, f->party, 0);
    if (f->ids_json && findings)
        where_add(w, "f.id IN (SELECT value FROM json_each(?))", 0, f->ids_json, 0);
    if (f->clause)
        where_add(w, findings ? "f.clause = ?"
                              : "o.id IN (SELECT obs_id FROM findings WHERE clause = ?)",
                  0, f->clause, 0);
}

static void where_bind(const struct where *w, sqlite3_stmt *st)
{
    int ti = 0, ii = 0;
    for (int k = 0; k < w->n; k++) {
        if (w->order[k])
            sqlite3_bind_int64(st, k + 1, w->ints[ii++]);
        else
            sqlite3_bind_text(st, k + 1, w->texts[ti++], -1, SQLITE_STATIC);
    }
}

/* Appends s (listings write a few thousand keys a page: printf was half their CPU time). */
static int put(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

static int put_int(struct buf *b, long long v)
{
    char d[24], *p = d + sizeof d;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return buf_append(b, p, (size_t)(d + sizeof d - p));
}

static int col_json(struct buf *b, sqlite3_stmt *st, int i, const char *name, bool *first)
{
    int rc = put(b, *first ? "\"" : ",\"") || put(b, name) || put(b, "\":");
    *first = false;
    if (rc)
        return rc;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return buf_append(b, "null", 4);
    case SQLITE_INTEGER:
        return put_int(b, (long long)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return buf_printf(b, "%.10g", sqlite3_column_double(st, i));
    default:
        return buf_json_str(b, (const char *)sqlite3_column_text(st, i));
    }
}

static int time_json(struct buf *b, sqlite3_stmt *st, int i, const char *name)
{
    char t[40];
    time_format_utc(sqlite3_column_int64(st, i), t, sizeof t);
    return put(b, ",\"") || put(b, name) || put(b, "\":\"") || put(b, t) || put(b, "\"");
}

/* The columns store_obs_row_json reads, after "SELECT " (table aliased o). */
const char STORE_OBS_COLUMNS[] =
    "o.id, o.client_id, o.kind, o.t_start_ms, o.t_end_ms, o.means, o.how, o.lon, "
    "o.lat, o.radius_m, o.region, o.control, o.control_uncertain, o.phrase, "
    "o.line_distances, o.place, o.party, o.against, o.count, o.qualifier, "
    "o.weapon_category, o.weapon_model, o.calibre_mm, o.bearings, o.dist_min_m, "
    "o.dist_max_m, o.remarks, o.agreement_version, "
    "(SELECT json_group_array(json_object('type', event_type, 'count', count, "
    "'qualifier', qualifier)) FROM obs_events WHERE obs_id = o.id), "
    "(SELECT json_group_array(json_object('zone', zone, 'relation', relation, "
    "'distance_m', round(distance_m))) FROM obs_zones WHERE obs_id = o.id) ";

int store_obs_row_json(sqlite3_stmt *st, struct buf *b)
{
    static const char *const names[] = {
        "id", "client_id", "kind", NULL, NULL, "means", "placed_by", "lon", "lat", "radius_m",
        "region", "control", "control_uncertain", "where", "line_distances_m", "place", "party",
        "against", "count", "qualifier", "weapon_category", "weapon_model", "calibre_mm",
        "bearings", "dist_min_m", "dist_max_m", "remarks", "agreement_version"};
    b->len = 0;
    bool first = true;
    int rc = buf_append(b, "{", 1);
    for (int i = 0; i < 28 && !rc; i++) {
        if (!names[i])
            continue;
        if (i == 14) { /* line distances are stored as JSON text */
            const char *ld = (const char *)sqlite3_column_text(st, i);
            rc = put(b, ",\"line_distances_m\":") || put(b, ld ? ld : "null");
            continue;
        }
        if (i == 12) {
            rc = put(b, sqlite3_column_int(st, i) ? ",\"control_uncertain\":true"
                                                   : ",\"control_uncertain\":false");
            continue;
        }
        rc = col_json(b, st, i, names[i], &first);
    }
    rc = rc || time_json(b, st, 3, "time_start") || time_json(b, st, 4, "time_end");
    const char *events = (const char *)sqlite3_column_text(st, 28),
               *zones = (const char *)sqlite3_column_text(st, 29);
    rc = rc || put(b, ",\"events\":") || put(b, events ? events : "null") ||
         put(b, ",\"zones\":") || put(b, zones ? zones : "null") || put(b, "}");
    return rc;
}

int store_obs_list(struct store *s, const struct store_filter *f,
                   int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e)
{
    struct where w;
    where_build(&w, f, false);
    char sql[4096];
    snprintf(sql, sizeof sql, "SELECT %sFROM observations o%s ORDER BY o.id%s", STORE_OBS_COLUMNS,
             w.sql, f->limit > 0 ? " LIMIT ?" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "listing observations");
    where_bind(&w, st);
    if (f->limit > 0)
        sqlite3_bind_int64(st, w.n + 1, f->limit);
    struct buf b;
    buf_init(&b);
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && !rc) {
        rc = store_obs_row_json(st, &b);
        if (!rc)
            rc = cb(ctx, b.p);
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = dberr(s, e, "listing observations");
    buf_reset(&b);
    sqlite3_finalize(st);
    return rc;
}

/* The columns store_finding_row_json reads (findings f joined with observations o). */
const char STORE_FINDING_COLUMNS[] =
    "f.id, f.obs_id, f.clause, f.rule_kind, f.result, f.party, f.severity, "
    "f.status, f.region, f.agreement_version, f.reasons, f.t_end_ms, o.client_id, "
    "o.phrase, o.lon, o.lat ";

int store_finding_row_json(sqlite3_stmt *st, struct buf *b)
{
    static const char *const names[] = {"id", "observation", "clause", "rule_kind", "result",
                                        "party", "severity", "status", "region",
                                        "agreement_version", "reasons"};
    b->len = 0;
    bool first = true;
    int rc = buf_append(b, "{", 1);
    for (int i = 0; i < 11 && !rc; i++)
        rc = col_json(b, st, i, names[i], &first);
    rc = rc || time_json(b, st, 11, "time");
    rc = rc || col_json(b, st, 12, "observation_client_id", &first);
    rc = rc || col_json(b, st, 13, "where", &first);
    rc = rc || buf_append(b, "}", 1);
    return rc;
}

int store_findings_list(struct store *s, const struct store_filter *f,
                        int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e)
{
    struct where w;
    where_build(&w, f, true);
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT %sFROM findings f JOIN observations o ON o.id = f.obs_id%s ORDER BY f.id%s",
             STORE_FINDING_COLUMNS, w.sql, f->limit > 0 ? " LIMIT ?" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "listing findings");
    where_bind(&w, st);
    if (f->limit > 0)
        sqlite3_bind_int64(st, w.n + 1, f->limit);
    struct buf b;
    buf_init(&b);
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && !rc) {
        rc = store_finding_row_json(st, &b);
        if (!rc)
            rc = cb(ctx, b.p);
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = dberr(s, e, "listing findings");
    buf_reset(&b);
    sqlite3_finalize(st);
    return rc;
}

int store_report_events(struct store *s, int64_t from_ms, int64_t to_ms,
                        int (*cb)(void *ctx, const struct store_event_row *r), void *ctx,
                        struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT o.id, o.t_end_ms, o.region, ev.event_type, ev.count, "
                           "ev.qualifier, o.phrase FROM observations o JOIN obs_events ev ON "
                           "ev.obs_id = o.id WHERE o.t_end_ms >= ?1 AND o.t_end_ms < ?2 AND "
                           "o.kind IN ('fire', 'detection') ORDER BY o.id, ev.seq",
                           -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading events");
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_event_row r = {
            sqlite3_column_int64(st, 0),
            sqlite3_column_int64(st, 1),
            (const char *)sqlite3_column_text(st, 2),
            (const char *)sqlite3_column_text(st, 3),
            sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4),
            (const char *)sqlite3_column_text(st, 5),
            (const char *)sqlite3_column_text(st, 6),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading events");
    sqlite3_finalize(st);
    return rc;
}

int store_report_zones(struct store *s, int64_t from_ms, int64_t to_ms,
                       int (*cb)(void *ctx, const struct store_zone_row *r), void *ctx,
                       struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT o.id, o.t_end_ms, z.zone, z.relation, z.distance_m, o.kind, "
                           "o.phrase, (SELECT coalesce(sum(max(count, 0)), 0) FROM obs_events "
                           "WHERE obs_id = o.id) FROM observations o JOIN obs_zones z ON "
                           "z.obs_id = o.id WHERE o.t_end_ms >= ?1 AND o.t_end_ms < ?2 ORDER BY "
                           "z.zone, o.id",
                           -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading zone events");
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_zone_row r = {
            sqlite3_column_int64(st, 0),          sqlite3_column_int64(st, 1),
            (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
            sqlite3_column_double(st, 4),         (const char *)sqlite3_column_text(st, 5),
            (const char *)sqlite3_column_text(st, 6), sqlite3_column_int64(st, 7),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading zone events");
    sqlite3_finalize(st);
    return rc;
}

int store_findings_rows(struct store *s, const struct store_filter *f,
                        int (*cb)(void *ctx, const struct store_finding_row *r), void *ctx,
                        struct errbuf *e)
{
    struct where w;
    where_build(&w, f, true);
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT f.id, f.obs_id, f.t_end_ms, f.clause, f.rule_kind, f.result, f.party, "
             "f.severity, f.status, f.reasons, f.region FROM findings f%s ORDER BY f.id%s",
             w.sql, f->limit > 0 ? " LIMIT ?" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading findings");
    where_bind(&w, st);
    if (f->limit > 0)
        sqlite3_bind_int64(st, w.n + 1, f->limit);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_finding_row r = {
            sqlite3_column_int64(st, 0),
            sqlite3_column_int64(st, 1),
            sqlite3_column_int64(st, 2),
            (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4),
            (const char *)sqlite3_column_text(st, 5),
            (const char *)sqlite3_column_text(st, 6),
            (const char *)sqlite3_column_text(st, 7),
            (const char *)sqlite3_column_text(st, 8),
            (const char *)sqlite3_column_text(st, 9),
            (const char *)sqlite3_column_text(st, 10),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading findings");
    sqlite3_finalize(st);
    return rc;
}

int store_report_findings(struct store *s, int64_t from_ms, int64_t to_ms,
                          int (*cb)(void *ctx, const struct store_finding_row *r), void *ctx,
                          struct errbuf *e)
{
    struct store_filter f;
    store_filter_init(&f);
    f.from_ms = from_ms;
    f.to_ms = to_ms;
    return store_findings_rows(s, &f, cb, ctx, e);
}

int store_obs_count(struct store *s, long long *n, struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM observations", -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "counting");
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : dberr(s, e, "counting");
    if (!rc)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* ---- the records of the transparency log ---- */

/* The tables of logged records in enum store_log_kind order: each row's key (its rowid) and
 * its leaf index grow together, since both are assigned at insert and no logged row is ever
 * deleted or re-keyed (migration 2 numbered older rows in the same order). So a table is in leaf
 * order by its key, and the first row at or after a leaf index is found by bisecting the keys:
 * O(log² n) B-tree steps, no index on log_index (which would cost ingest a B-tree insert per
 * record). incident_log is keyed by the leaf index itself. */
enum { N_LOG_KINDS = 6 };
static const char *const LOG_READ_SQL[N_LOG_KINDS] = {
    "SELECT log_index, version, agreement_id, json, NULL, NULL, NULL, NULL, NULL, NULL "
    "FROM agreements WHERE version >= ?1 AND log_index >= ?2 ORDER BY version",
    "SELECT log_index, id, client_id, raw, agreement_version, NULL, NULL, NULL, NULL, NULL "
    "FROM observations WHERE id >= ?1 AND log_index >= ?2 ORDER BY id",
    "SELECT log_index, id, obs_id, reasons, agreement_version, clause, result, party, "
    "severity, rule_kind FROM findings WHERE id >= ?1 AND log_index >= ?2 ORDER BY id",
    "SELECT log_index, id, threshold, finding_ids, agreement_version, level, region, party, "
    "window_start_ms, window_end_ms, findings FROM alerts WHERE id >= ?1 AND log_index >= ?2 "
    "ORDER BY id",
    "SELECT log_index, incident_id, NULL, json, agreement_version, NULL, NULL, party, "
    "grade, NULL FROM incident_log WHERE log_index >= ?1 AND log_index >= ?2 ORDER BY log_index",
    "SELECT log_index, id, finding_id, text, created_ms, action, status_to, party, actor, "
    "role, status_from FROM finding_reviews WHERE id >= ?1 AND log_index >= ?2 ORDER BY id"};
/* The first row at or after key ?1: its key and leaf index. */
static const char *const LOG_PROBE_SQL[N_LOG_KINDS] = {
    "SELECT version, log_index FROM agreements WHERE version >= ?1 ORDER BY version LIMIT 1",
    "SELECT id, log_index FROM observations WHERE id >= ?1 ORDER BY id LIMIT 1",
    "SELECT id, log_index FROM findings WHERE id >= ?1 ORDER BY id LIMIT 1",
    "SELECT id, log_index FROM alerts WHERE id >= ?1 ORDER BY id LIMIT 1",
    NULL, /* incident_log: the key is the leaf index */
    "SELECT id, log_index FROM finding_reviews WHERE id >= ?1 ORDER BY id LIMIT 1"};
/* The smallest and largest key (two subqueries: each is one B-tree step; min and max in one
 * SELECT would scan). */
static const char *const LOG_BOUNDS_SQL[N_LOG_KINDS] = {
    "SELECT (SELECT min(version) FROM agreements), (SELECT max(version) FROM agreements)",
    "SELECT (SELECT min(id) FROM observations), (SELECT max(id) FROM observations)",
    "SELECT (SELECT min(id) FROM findings), (SELECT max(id) FROM findings)",
    "SELECT (SELECT min(id) FROM alerts), (SELECT max(id) FROM alerts)",
    NULL,
    "SELECT (SELECT min(id) FROM finding_reviews), (SELECT max(id) FROM finding_reviews)"};
/* The leaf index of the record of each kind with key ?1 (incidents: the newest version). */
static const char *const LOG_INDEX_OF_SQL[N_LOG_KINDS] = {
    "SELECT log_index FROM agreements WHERE version = ?1",
    "SELECT log_index FROM observations WHERE id = ?1",
    "SELECT log_index FROM findings WHERE id = ?1",
    "SELECT log_index FROM alerts WHERE id = ?1",
    "SELECT max(log_index) FROM incident_log WHERE incident_id = ?1",
    "SELECT log_index FROM finding_reviews WHERE id = ?1"};

/* The smallest key of table k whose row's leaf index is from or more (the largest key + 1 when
 * there is none) in *start. */
static int log_seek(struct store *s, int k, int64_t from, int64_t *start, struct errbuf *e)
{
    if (k == STORE_LOG_INCIDENT || from <= 0) {
        *start = k == STORE_LOG_INCIDENT ? from : INT64_MIN;
        return 0;
    }
    sqlite3_stmt *q = store_cached(s, STORE_CACHED_LOG_BOUNDS + k, LOG_BOUNDS_SQL[k]);
    if (!q || sqlite3_step(q) != SQLITE_ROW)
        return dberr(s, e, "finding a leaf's record");
    if (sqlite3_column_type(q, 0) == SQLITE_NULL) { /* an empty table */
        sqlite3_reset(q);
        *start = INT64_MAX;
        return 0;
    }
    int64_t lo = sqlite3_column_int64(q, 0), hi = sqlite3_column_int64(q, 1);
    sqlite3_reset(q);
    if (hi == INT64_MAX) /* keys are rowids: never, but keep hi + 1 defined */
        return errf(e, ERR_DB, "%s: a logged table holds rowid %lld", s->path, (long long)hi);
    hi++;
    /* Invariant: every key below lo has a leaf index below from; the answer is at most hi. */
    q = store_cached(s, STORE_CACHED_LOG_PROBE + k, LOG_PROBE_SQL[k]);
    if (!q)
        return dberr(s, e, "finding a leaf's record");
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, mid);
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE) { /* no key from mid on (hi was the largest + 1) */
            hi = mid;
            continue;
        }
        if (step != SQLITE_ROW) {
            sqlite3_reset(q);
            return dberr(s, e, "finding a leaf's record");
        }
        int64_t key = sqlite3_column_int64(q, 0);
        bool before = sqlite3_column_type(q, 1) == SQLITE_NULL ||
                      sqlite3_column_int64(q, 1) < from;
        if (before)
            lo = key + 1; /* no key in [mid, key) */
        else
            hi = mid;
    }
    sqlite3_reset(q);
    *start = lo;
    return 0;
}

int store_log_range(struct store *s, int64_t from_index, int64_t count,
                    int (*cb)(void *ctx, const struct store_log_record *r), void *ctx,
                    struct errbuf *e)
{
    if (from_index < 0)
        from_index = 0;
    int64_t end = count <= 0 || count > INT64_MAX - from_index ? INT64_MAX : from_index + count;
    sqlite3_stmt *q[N_LOG_KINDS] = {NULL, NULL, NULL, NULL, NULL, NULL};
    bool live[N_LOG_KINDS] = {false, false, false, false, false, false};
    int rc = 0;
    for (int k = 0; k < N_LOG_KINDS && !rc; k++) {
        int64_t start = 0;
        if ((rc = log_seek(s, k, from_index, &start, e)))
            break;
        if (!(q[k] = store_cached(s, STORE_CACHED_LOG_READ + k, LOG_READ_SQL[k]))) {
            rc = dberr(s, e, "reading the log's records");
            break;
        }
        sqlite3_bind_int64(q[k], 1, start);
        sqlite3_bind_int64(q[k], 2, from_index);
        int step = sqlite3_step(q[k]);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = dberr(s, e, "reading the log's records");
        live[k] = step == SQLITE_ROW;
    }
    /* Each table is in log order by its own key; merge them by log_index. */
    while (!rc) {
        int best = -1;
        for (int k = 0; k < N_LOG_KINDS; k++)
            if (live[k] && (best < 0 || sqlite3_column_int64(q[k], 0) <
                                            sqlite3_column_int64(q[best], 0)))
                best = k;
        if (best < 0)
            break;
        sqlite3_stmt *st = q[best];
        struct store_log_record r = {
            .kind = (enum store_log_kind)best,
            .log_index = sqlite3_column_int64(st, 0),
            .id = sqlite3_column_int64(st, 1),
        };
        if (r.log_index >= end)
            break;
        if (best == STORE_LOG_AGREEMENT) {
            r.text1 = (const char *)sqlite3_column_text(st, 2); /* agreement id */
        } else if (best == STORE_LOG_OBSERVATION) {
            r.text1 = (const char *)sqlite3_column_text(st, 2); /* client id, may be NULL */
            r.agreement_version = sqlite3_column_int(st, 4);
        } else if (best == STORE_LOG_REVIEW) {
            r.finding_id = sqlite3_column_int64(st, 2);
            r.time_ms = sqlite3_column_int64(st, 4);
            r.action = (const char *)sqlite3_column_text(st, 5);
            r.status_to = (const char *)sqlite3_column_text(st, 6);
            r.party = (const char *)sqlite3_column_text(st, 7);
            r.actor = (const char *)sqlite3_column_text(st, 8);
            r.role = (const char *)sqlite3_column_text(st, 9);
            r.status_from = (const char *)sqlite3_column_text(st, 10);
        } else if (best == STORE_LOG_INCIDENT) {
            r.agreement_version = sqlite3_column_int(st, 4);
            r.party = (const char *)sqlite3_column_text(st, 7);
            r.grade = (const char *)sqlite3_column_text(st, 8);
        } else if (best == STORE_LOG_ALERT) {
            r.threshold = (const char *)sqlite3_column_text(st, 2);
            r.agreement_version = sqlite3_column_int(st, 4);
            r.level = (const char *)sqlite3_column_text(st, 5);
            r.region = (const char *)sqlite3_column_text(st, 6);
            r.party = (const char *)sqlite3_column_text(st, 7);
            r.window_start_ms = sqlite3_column_int64(st, 8);
            r.window_end_ms = sqlite3_column_int64(st, 9);
            r.n_findings = sqlite3_column_int64(st, 10);
        } else {
            r.obs_id = sqlite3_column_int64(st, 2);
            r.agreement_version = sqlite3_column_int(st, 4);
            r.clause = (const char *)sqlite3_column_text(st, 5);
            r.result = (const char *)sqlite3_column_text(st, 6);
            r.party = (const char *)sqlite3_column_text(st, 7);
            r.severity = (const char *)sqlite3_column_text(st, 8);
            r.rule_kind = (const char *)sqlite3_column_text(st, 9);
        }
        r.body = (const char *)sqlite3_column_blob(st, 3);
        r.body_len = (size_t)sqlite3_column_bytes(st, 3);
        if ((rc = cb(ctx, &r)))
            break;
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = dberr(s, e, "reading the log's records");
        live[best] = step == SQLITE_ROW;
    }
    for (int k = 0; k < N_LOG_KINDS; k++)
        if (q[k])
            sqlite3_reset(q[k]); /* holds no read lock between calls */
    return rc;
}

int store_log_records(struct store *s, int64_t from_index,
                      int (*cb)(void *ctx, const struct store_log_record *r), void *ctx,
                      struct errbuf *e)
{
    return store_log_range(s, from_index, 0, cb, ctx, e);
}

int store_log_index_of(struct store *s, enum store_log_kind kind, int64_t id,
                       int64_t *log_index, struct errbuf *e)
{
    static const char *const names[N_LOG_KINDS] = {"agreement version", "observation", "finding",
                                                   "alert", "incident", "finding review"};
    if ((int)kind < 0 || (int)kind >= N_LOG_KINDS)
        return errf(e, ERR_INVAL, "no such kind of logged record (%d)", (int)kind);
    sqlite3_stmt *q = store_cached(s, STORE_CACHED_LOG_INDEX_OF + (int)kind,
                                   LOG_INDEX_OF_SQL[kind]);
    if (!q)
        return dberr(s, e, "looking up a leaf index");
    sqlite3_bind_int64(q, 1, id);
    int rc = 0, step = sqlite3_step(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = dberr(s, e, "looking up a leaf index");
    else if (step != SQLITE_ROW || sqlite3_column_type(q, 0) == SQLITE_NULL)
        rc = errf(e, ERR_NOTFOUND, "%s %lld is not stored (or not logged)", names[kind],
                  (long long)id);
    else
        *log_index = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc;
}

int store_obs_id_by_client(struct store *s, const char *client_id, int64_t *obs_id,
                           struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM observations WHERE client_id = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return dberr(s, e, "looking up an observation");
    sqlite3_bind_text(q, 1, client_id, -1, SQLITE_STATIC);
    int rc = 0;
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = errf(e, ERR_NOTFOUND, "no observation has client id \"%.80s\"", client_id);
    else
        *obs_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc;
}

int store_obs_log_index(struct store *s, int64_t obs_id, int64_t *log_index, struct errbuf *e)
{
    return store_log_index_of(s, STORE_LOG_OBSERVATION, obs_id, log_index, e);
}

int store_checkpoint_last(struct store *s, struct store_checkpoint *out, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT size, root_hex, note, signed_ms FROM checkpoints ORDER BY id "
                           "DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading checkpoints");
    int rc = 0, step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        out->size = sqlite3_column_int64(q, 0);
        str_copy(out->root_hex, sizeof out->root_hex, (const char *)sqlite3_column_text(q, 1));
        out->signed_ms = sqlite3_column_int64(q, 3);
        out->note = xstrdup((const char *)sqlite3_column_text(q, 2));
    } else if (step == SQLITE_DONE) {
        rc = ERR_NOTFOUND;
        errf(e, ERR_NOTFOUND, "no checkpoint has been signed yet");
    } else {
        rc = dberr(s, e, "reading checkpoints");
    }
    sqlite3_finalize(q);
    return rc;
}

int store_checkpoint_add(struct store *s, int64_t size, const char *root_hex, const char *note,
                         struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO checkpoints(size, root_hex, note, signed_ms) VALUES "
                           "(?1,?2,?3,?4)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "storing a checkpoint");
    sqlite3_bind_int64(q, 1, size);
    sqlite3_bind_text(q, 2, root_hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, time_now_ms());
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "storing a checkpoint");
    sqlite3_finalize(q);
    return rc;
}

int store_checkpoint_set_note(struct store *s, int64_t size, const char *note, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE checkpoints SET note = ?2 WHERE id = (SELECT max(id) FROM "
                           "checkpoints) AND size = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "updating a checkpoint");
    sqlite3_bind_int64(q, 1, size);
    sqlite3_bind_text(q, 2, note, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "updating a checkpoint");
    if (!rc && sqlite3_changes(s->db) != 1)
        rc = errf(e, ERR_CONFLICT, "the newest checkpoint is not for %lld leaves", (long long)size);
    sqlite3_finalize(q);
    return rc;
}

int store_checkpoints_each(struct store *s, int (*cb)(void *ctx, const struct store_checkpoint *c),
                           void *ctx, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT size, root_hex, note, signed_ms FROM checkpoints ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading checkpoints");
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_checkpoint c = {.size = sqlite3_column_int64(q, 0),
                                     .signed_ms = sqlite3_column_int64(q, 3),
                                     .note = (char *)sqlite3_column_text(q, 2)};
        str_copy(c.root_hex, sizeof c.root_hex, (const char *)sqlite3_column_text(q, 1));
        rc = cb(ctx, &c);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading checkpoints");
    sqlite3_finalize(q);
    return rc;
}

/* ---- for the module's other files (store_int.h) ---- */

sqlite3 *store_db(struct store *s)
{
    return s->db;
}

sqlite3_stmt *store_cached(struct store *s, int slot, const char *sql)
{
    if (slot < 0 || slot >= STORE_CACHED_STMTS)
        return NULL;
    sqlite3_stmt *st = s->cached[slot];
    if (!st) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
            return NULL;
        s->cached[slot] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int store_dberr(struct store *s, struct errbuf *e, const char *what)
{
    return dberr(s, e, what);
}

/* ---- escalation (M7): alerts, subscribers and the webhook outbox ---- */

int store_esc_findings(struct store *s, int64_t after_id, int64_t from_ms, int64_t to_ms,
                       bool details, int (*cb)(void *ctx, const struct store_esc_finding *f),
                       void *ctx, struct errbuf *e)
{
    static const char *const sql[2] = {
        "SELECT f.id, f.obs_id, f.t_end_ms, f.clause, f.rule_kind, f.result, f.party, "
        "f.region, NULL, NULL FROM findings f WHERE f.id > ?1 AND f.t_end_ms >= ?2 AND "
        "f.t_end_ms < ?3 ORDER BY f.id",
        "SELECT f.id, f.obs_id, f.t_end_ms, f.clause, f.rule_kind, f.result, f.party, "
        "f.region, (SELECT group_concat(w, char(30)) FROM ("
        "  SELECT coalesce(o.weapon_category, '') || char(31) || coalesce(o.weapon_model, '') "
        "  || char(31) || coalesce(o.calibre_mm, '') AS w FROM observations o "
        "  WHERE o.id = f.obs_id AND (o.weapon_category IS NOT NULL OR o.weapon_model IS NOT "
        "  NULL) UNION ALL "
        "  SELECT coalesce(ev.weapon_category, '') || char(31) || coalesce(ev.weapon_model, '') "
        "  || char(31) || coalesce(ev.calibre_mm, '') FROM obs_events ev "
        "  WHERE ev.obs_id = f.obs_id AND (ev.weapon_category IS NOT NULL OR ev.weapon_model "
        "  IS NOT NULL))), "
        "(SELECT group_concat(z.zone || char(31) || z.relation, char(30)) FROM obs_zones z "
        "  WHERE z.obs_id = f.obs_id) "
        "FROM findings f WHERE f.id > ?1 AND f.t_end_ms >= ?2 AND f.t_end_ms < ?3 "
        "ORDER BY f.id"};
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql[details], -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading findings for escalation");
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, from_ms == TIME_NONE ? INT64_MIN : from_ms);
    sqlite3_bind_int64(st, 3, to_ms == TIME_NONE ? INT64_MAX : to_ms);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_esc_finding f = {
            .id = sqlite3_column_int64(st, 0),
            .obs_id = sqlite3_column_int64(st, 1),
            .t_end_ms = sqlite3_column_int64(st, 2),
            .clause = (const char *)sqlite3_column_text(st, 3),
            .rule_kind = (const char *)sqlite3_column_text(st, 4),
            .result = (const char *)sqlite3_column_text(st, 5),
            .party = (const char *)sqlite3_column_text(st, 6),
            .region = (const char *)sqlite3_column_text(st, 7),
            .weapons = (const char *)sqlite3_column_text(st, 8),
            .zones = (const char *)sqlite3_column_text(st, 9),
        };
        rc = cb(ctx, &f);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading findings for escalation");
    sqlite3_finalize(st);
    return rc;
}

/* Runs sql with up to three int64 parameters and reads one int64 column into *out (when the
 * statement returns a row; *found says whether it did). */
static int one_int(struct store *s, const char *sql, int n, const int64_t *args, int64_t *out,
                   bool *found, const char *what, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, what);
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(q, i + 1, args[i]);
    int step = sqlite3_step(q), rc = 0;
    if (step == SQLITE_ROW) {
        if (out)
            *out = sqlite3_column_int64(q, 0);
    } else if (step != SQLITE_DONE) {
        rc = dberr(s, e, what);
    }
    if (found)
        *found = step == SQLITE_ROW;
    sqlite3_finalize(q);
    return rc;
}

int store_esc_last_finding(struct store *s, int64_t *id, struct errbuf *e)
{
    *id = 0;
    return one_int(s, "SELECT last_finding_id FROM escalation_state WHERE id = 1", 0, NULL, id,
                   NULL, "reading the escalation state", e);
}

int store_esc_set_last_finding(struct store *s, int64_t id, struct errbuf *e)
{
    return one_int(s, "UPDATE escalation_state SET last_finding_id = ?1 WHERE id = 1", 1, &id,
                   NULL, NULL, "recording the escalation state", e);
}

int store_alert_overlaps(struct store *s, const char *threshold, const char *region,
                         const char *party, int64_t from_ms, int64_t to_ms, bool *found,
                         struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM alerts WHERE threshold = ?1 AND region = ?2 AND "
                           "party = ?3 AND window_start_ms < ?5 AND window_end_ms > ?4 LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading alerts");
    sqlite3_bind_text(q, 1, threshold, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, party, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, from_ms);
    sqlite3_bind_int64(q, 5, to_ms);
    int step = sqlite3_step(q), rc = 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = dberr(s, e, "reading alerts");
    *found = step == SQLITE_ROW;
    sqlite3_finalize(q);
    return rc;
}

int store_alert_add(struct store *s, struct store_alert *a, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO alerts(threshold, level, region, party, window_start_ms, "
                           "window_end_ms, findings, finding_ids, agreement_version, text, "
                           "raised_ms, log_index) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "storing an alert");
    sqlite3_bind_text(q, 1, a->threshold, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, a->level, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, a->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, a->party, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, a->window_start_ms);
    sqlite3_bind_int64(q, 6, a->window_end_ms);
    sqlite3_bind_int64(q, 7, a->n_findings);
    sqlite3_bind_text(q, 8, a->finding_ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 9, a->agreement_version);
    sqlite3_bind_text(q, 10, a->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 11, a->raised_ms);
    sqlite3_bind_int64(q, 12, s->log_size);
    int step = sqlite3_step(q), rc = 0;
    if (step == SQLITE_CONSTRAINT)
        rc = errf(e, ERR_CONFLICT, "alert %s for this group and window exists", a->threshold);
    else if (step != SQLITE_DONE)
        rc = dberr(s, e, "storing an alert");
    sqlite3_finalize(q);
    if (rc)
        return rc;
    a->id = sqlite3_last_insert_rowid(s->db);
    a->log_index = s->log_size++;
    return 0;
}

int store_alerts_list(struct store *s, int64_t id, long long limit,
                      int (*cb)(void *ctx, const struct store_alert *a), void *ctx,
                      struct errbuf *e)
{
    struct store_alert_filter f = {id, limit, -1, NULL, false, 0, 0, NULL};
    return store_alerts_select(s, &f, cb, ctx, e);
}

int store_alerts_select(struct store *s, const struct store_alert_filter *f,
                        int (*cb)(void *ctx, const struct store_alert *a), void *ctx,
                        struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, threshold, level, region, party, window_start_ms, "
                           "window_end_ms, findings, finding_ids, agreement_version, text, "
                           "raised_ms, acknowledged_by, acknowledged_ms, log_index FROM alerts "
                           "WHERE (?1 <= 0 OR id = ?1) AND (?3 < 0 OR (CASE level WHEN 'notice' "
                           "THEN 0 WHEN 'warning' THEN 1 WHEN 'serious' THEN 2 ELSE 3 END) >= ?3) "
                           "AND (?4 IS NULL OR (?4 = 'open') = (acknowledged_by IS NULL)) "
                           "AND (?5 = 0 OR (window_end_ms > ?6 AND window_end_ms <= ?7)) "
                           "AND (?8 IS NULL OR party = ?8 OR party = '') "
                           "ORDER BY id LIMIT ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading alerts");
    sqlite3_bind_int64(q, 1, f->id);
    sqlite3_bind_int64(q, 2, f->limit > 0 ? f->limit : -1);
    sqlite3_bind_int(q, 3, f->min_level);
    bind_text_or_null(q, 4, f->state);
    sqlite3_bind_int(q, 5, f->by_end);
    sqlite3_bind_int64(q, 6, f->end_after);
    sqlite3_bind_int64(q, 7, f->end_until);
    bind_text_or_null(q, 8, f->party);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_alert a = {
            .id = sqlite3_column_int64(q, 0),
            .threshold = (const char *)sqlite3_column_text(q, 1),
            .level = (const char *)sqlite3_column_text(q, 2),
            .region = (const char *)sqlite3_column_text(q, 3),
            .party = (const char *)sqlite3_column_text(q, 4),
            .window_start_ms = sqlite3_column_int64(q, 5),
            .window_end_ms = sqlite3_column_int64(q, 6),
            .n_findings = sqlite3_column_int64(q, 7),
            .finding_ids = (const char *)sqlite3_column_text(q, 8),
            .agreement_version = sqlite3_column_int(q, 9),
            .text = (const char *)sqlite3_column_text(q, 10),
            .raised_ms = sqlite3_column_int64(q, 11),
            .ack_by = (const char *)sqlite3_column_text(q, 12),
            .ack_ms = sqlite3_column_type(q, 13) == SQLITE_NULL ? TIME_NONE
                                                                : sqlite3_column_int64(q, 13),
            .log_index = sqlite3_column_int64(q, 14),
        };
        rc = cb(ctx, &a);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading alerts");
    sqlite3_finalize(q);
    return rc;
}

int store_alert_ack(struct store *s, int64_t id, const char *by, bool *already, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE alerts SET acknowledged_by = ?2, acknowledged_ms = ?3 WHERE "
                           "id = ?1 AND acknowledged_by IS NULL",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "acknowledging an alert");
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, time_now_ms());
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "acknowledging an alert");
    sqlite3_finalize(q);
    if (rc)
        return rc;
    *already = sqlite3_changes(s->db) == 0;
    if (*already) {
        bool found;
        if ((rc = one_int(s, "SELECT id FROM alerts WHERE id = ?1", 1, &id, NULL, &found,
                          "reading alerts", e)))
            return rc;
        if (!found)
            return errf(e, ERR_NOTFOUND, "no alert %lld", (long long)id);
    }
    return 0;
}

int store_subscriber_add(struct store *s, const struct store_subscriber *sub, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO subscribers(name, url, min_level, party, added_ms) "
                           "VALUES (?1,?2,?3,?4,?5)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "adding a subscriber");
    sqlite3_bind_text(q, 1, sub->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, sub->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, sub->min_level, -1, SQLITE_STATIC);
    bind_text_or_null(q, 4, sub->party);
    sqlite3_bind_int64(q, 5, time_now_ms());
    int step = sqlite3_step(q), rc = 0;
    if (step == SQLITE_CONSTRAINT)
        rc = errf(e, ERR_CONFLICT, "a subscriber named \"%s\" exists", sub->name);
    else if (step != SQLITE_DONE)
        rc = dberr(s, e, "adding a subscriber");
    sqlite3_finalize(q);
    return rc;
}

int store_subscriber_remove(struct store *s, const char *name, struct errbuf *e)
{
    int rc = exec(s, "BEGIN IMMEDIATE", e);
    if (rc)
        return rc;
    static const char *const sql[2] = {
        "DELETE FROM subscribers WHERE name = ?1",
        "DELETE FROM outbox WHERE subscriber = ?1 AND state = 'pending'"};
    for (int i = 0; i < 2 && !rc; i++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &q, NULL) != SQLITE_OK) {
            rc = dberr(s, e, "removing a subscriber");
            break;
        }
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = dberr(s, e, "removing a subscriber");
        else if (i == 0 && sqlite3_changes(s->db) == 0)
            rc = errf(e, ERR_NOTFOUND, "no subscriber named \"%s\"", name);
        sqlite3_finalize(q);
    }
    if (!rc)
        rc = exec(s, "COMMIT", e);
    if (rc)
        exec(s, "ROLLBACK", NULL);
    return rc;
}

int store_subscribers_list(struct store *s,
                           int (*cb)(void *ctx, const struct store_subscriber *sub), void *ctx,
                           struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT name, url, min_level, party, added_ms FROM subscribers "
                           "ORDER BY name",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading subscribers");
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_subscriber sub = {
            (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
            (const char *)sqlite3_column_text(q, 2), (const char *)sqlite3_column_text(q, 3),
            sqlite3_column_int64(q, 4)};
        rc = cb(ctx, &sub);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading subscribers");
    sqlite3_finalize(q);
    return rc;
}

int store_outbox_add(struct store *s, int64_t alert_id, const char *subscriber, const char *url,
                     int64_t now_ms, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO outbox(alert_id, subscriber, url, state, "
                           "next_attempt_ms, created_ms) VALUES (?1,?2,?3,'pending',?4,?4) "
                           "ON CONFLICT(alert_id, subscriber) DO NOTHING",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "queueing a webhook");
    sqlite3_bind_int64(q, 1, alert_id);
    sqlite3_bind_text(q, 2, subscriber, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, now_ms);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "queueing a webhook");
    sqlite3_finalize(q);
    return rc;
}

static int outbox_rows(struct store *s, sqlite3_stmt *q,
                       int (*cb)(void *ctx, const struct store_outbox_row *r), void *ctx,
                       struct errbuf *e)
{
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_outbox_row r = {
            .id = sqlite3_column_int64(q, 0),
            .alert_id = sqlite3_column_int64(q, 1),
            .subscriber = (const char *)sqlite3_column_text(q, 2),
            .url = (const char *)sqlite3_column_text(q, 3),
            .state = (const char *)sqlite3_column_text(q, 4),
            .attempts = sqlite3_column_int64(q, 5),
            .next_attempt_ms = sqlite3_column_int64(q, 6),
            .last_error = (const char *)sqlite3_column_text(q, 7),
            .delivered_ms = sqlite3_column_type(q, 8) == SQLITE_NULL ? TIME_NONE
                                                                     : sqlite3_column_int64(q, 8),
            .created_ms = sqlite3_column_int64(q, 9),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading the outbox");
    sqlite3_finalize(q);
    return rc;
}

#define OUTBOX_COLUMNS                                                                         \
    "SELECT id, alert_id, subscriber, url, state, attempts, next_attempt_ms, last_error, "     \
    "delivered_ms, created_ms FROM outbox "

int store_outbox_due(struct store *s, int64_t now_ms, long long limit,
                     int (*cb)(void *ctx, const struct store_outbox_row *r), void *ctx,
                     struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           OUTBOX_COLUMNS "WHERE state = 'pending' AND next_attempt_ms <= ?1 "
                                          "ORDER BY next_attempt_ms, id LIMIT ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading the outbox");
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_int64(q, 2, limit > 0 ? limit : -1);
    return outbox_rows(s, q, cb, ctx, e);
}

int store_outbox_list(struct store *s, int64_t alert_id,
                      int (*cb)(void *ctx, const struct store_outbox_row *r), void *ctx,
                      struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, OUTBOX_COLUMNS "WHERE (?1 <= 0 OR alert_id = ?1) ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading the outbox");
    sqlite3_bind_int64(q, 1, alert_id);
    return outbox_rows(s, q, cb, ctx, e);
}

int store_outbox_attempt(struct store *s, int64_t id, bool delivered, const char *last_error,
                         int64_t next_attempt_ms, bool give_up, int64_t now_ms, struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE outbox SET attempts = attempts + 1, state = ?2, "
                           "last_error = ?3, next_attempt_ms = ?4, delivered_ms = ?5 "
                           "WHERE id = ?1 AND state = 'pending'",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "recording a webhook attempt");
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, delivered ? "delivered" : give_up ? "failed" : "pending", -1,
                      SQLITE_STATIC);
    bind_text_or_null(q, 3, delivered ? NULL : last_error);
    sqlite3_bind_int64(q, 4, next_attempt_ms);
    if (delivered)
        sqlite3_bind_int64(q, 5, now_ms);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "recording a webhook attempt");
    sqlite3_finalize(q);
    return rc;
}

int store_outbox_next_due(struct store *s, int64_t *when_ms, struct errbuf *e)
{
    bool found;
    int64_t v = 0;
    int rc = one_int(s, "SELECT min(next_attempt_ms) FROM outbox WHERE state = 'pending' "
                        "HAVING count(*) > 0",
                     0, NULL, &v, &found, "reading the outbox", e);
    *when_ms = !rc && found ? v : TIME_NONE;
    return rc;
}

int store_esc_counts(struct store *s, struct store_esc_counts *out, struct errbuf *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 'alert', acknowledged_by IS NULL, count(*) FROM alerts "
                           "GROUP BY 2 UNION ALL SELECT 'outbox', state, count(*) FROM outbox "
                           "GROUP BY 2",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "counting alerts");
    int rc = 0, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *what = (const char *)sqlite3_column_text(q, 0);
        long long n = sqlite3_column_int64(q, 2);
        if (!strcmp(what, "alert")) {
            if (sqlite3_column_int(q, 1))
                out->alerts_open = n;
            else
                out->alerts_acknowledged = n;
        } else {
            const char *state = (const char *)sqlite3_column_text(q, 1);
            if (!strcmp(state, "pending"))
                out->deliveries_pending = n;
            else if (!strcmp(state, "delivered"))
                out->deliveries_delivered = n;
            else
                out->deliveries_failed = n;
        }
    }
    if (step != SQLITE_DONE)
        rc = dberr(s, e, "counting alerts");
    sqlite3_finalize(q);
    return rc;
}

/* ---- incidents (fusion) ---- */

int store_fire_obs_each(struct store *s, int (*cb)(void *ctx, int64_t id, const char *raw,
                                                   size_t len),
                        void *ctx, struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, raw FROM observations WHERE kind IN ('fire', 'detection') "
                           "ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading fire observations");
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                (size_t)sqlite3_column_bytes(st, 1));
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading fire observations");
    sqlite3_finalize(st);
    return rc;
}

int store_incidents_clear(struct store *s, struct errbuf *e)
{
    return exec(s, "DELETE FROM incident_evidence; DELETE FROM incidents;", e);
}

static int run(struct store *s, sqlite3_stmt *st, struct errbuf *e, const char *what)
{
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return step == SQLITE_DONE ? 0 : dberr(s, e, what);
}

/* Appends a version of incident id to incident_log under the next leaf index. */
static int incident_log(struct store *s, int64_t id, int agreement_version, const char *party,
                        const char *grade, const char *json, struct store_log_record *out,
                        struct errbuf *e)
{
    sqlite3_stmt *st = s->st[ST_INCIDENT_LOG];
    int64_t index = s->log_size;
    sqlite3_bind_int64(st, 1, index);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int(st, 3, agreement_version);
    sqlite3_bind_text(st, 4, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, grade, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC);
    int rc = run(s, st, e, "logging an incident");
    if (rc)
        return rc;
    s->log_size++;
    *out = (struct store_log_record){.kind = STORE_LOG_INCIDENT, .log_index = index, .id = id,
                                     .agreement_version = agreement_version, .party = party,
                                     .grade = grade, .body = json, .body_len = strlen(json)};
    return 0;
}

int store_incident_put(struct store *s, const struct store_incident *inc, bool *logged,
                       struct store_log_record *out, struct errbuf *e)
{
    *logged = false;
    sqlite3_stmt *q = s->st[ST_INCIDENT_JSON];
    sqlite3_bind_int64(q, 1, inc->id);
    int step = sqlite3_step(q);
    bool same = step == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), inc->json);
    sqlite3_reset(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return dberr(s, e, "reading an incident");
    if (same)
        return 0;
    sqlite3_stmt *st = s->st[ST_INCIDENT_PUT];
    sqlite3_bind_int64(st, 1, inc->id);
    sqlite3_bind_int64(st, 2, inc->t_start_ms);
    sqlite3_bind_int64(st, 3, inc->t_end_ms);
    if (inc->region)
        sqlite3_bind_text(st, 4, inc->region, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, inc->count);
    sqlite3_bind_text(st, 6, inc->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, inc->grade, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, inc->origin_method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, inc->loc_method, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 10, inc->lon);
    sqlite3_bind_double(st, 11, inc->lat);
    sqlite3_bind_text(st, 12, inc->json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, inc->counts, -1, SQLITE_STATIC);
    if (inc->finding_party)
        sqlite3_bind_text(st, 14, inc->finding_party, -1, SQLITE_STATIC);
    if (inc->clauses && *inc->clauses)
        sqlite3_bind_text(st, 15, inc->clauses, -1, SQLITE_STATIC);
    if (isfinite(inc->semi_major_m))
        sqlite3_bind_double(st, 16, inc->semi_major_m);
    int rc = run(s, st, e, "storing an incident");
    if (!rc && !inc->evidence_unchanged) {
        sqlite3_bind_int64(s->st[ST_EVIDENCE_DELETE], 1, inc->id);
        rc = run(s, s->st[ST_EVIDENCE_DELETE], e, "storing an incident's evidence");
        for (size_t i = 0; i < inc->n_evidence && !rc; i++) {
            sqlite3_bind_int64(s->st[ST_EVIDENCE_INSERT], 1, inc->evidence[i]);
            sqlite3_bind_int64(s->st[ST_EVIDENCE_INSERT], 2, inc->id);
            rc = run(s, s->st[ST_EVIDENCE_INSERT], e, "storing an incident's evidence");
        }
    }
    if (!rc)
        rc = incident_log(s, inc->id, inc->agreement_version, inc->party, inc->grade, inc->json,
                          out, e);
    if (!rc)
        *logged = true;
    return rc;
}

int store_incident_delete(struct store *s, int64_t id, const char *tombstone_json,
                          int agreement_version, bool *logged, struct store_log_record *out,
                          struct errbuf *e)
{
    *logged = false;
    sqlite3_bind_int64(s->st[ST_INCIDENT_DELETE], 1, id);
    int rc = run(s, s->st[ST_INCIDENT_DELETE], e, "deleting a merged incident");
    if (!rc && sqlite3_changes(s->db) == 0)
        return 0; /* never stored: nothing to tombstone */
    if (!rc) {
        sqlite3_bind_int64(s->st[ST_EVIDENCE_DELETE], 1, id);
        rc = run(s, s->st[ST_EVIDENCE_DELETE], e, "deleting a merged incident");
    }
    if (!rc)
        rc = incident_log(s, id, agreement_version, "undetermined", "merged", tombstone_json, out,
                          e);
    if (!rc)
        *logged = true;
    return rc;
}

int store_incident_ids(struct store *s, int (*cb)(void *ctx, int64_t id), void *ctx,
                       struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM incidents ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        return dberr(s, e, "listing incidents");
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ctx, sqlite3_column_int64(st, 0));
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "listing incidents");
    sqlite3_finalize(st);
    return rc;
}

int store_incidents_list(struct store *s, const struct store_filter *f, int64_t id,
                         int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e)
{
    char sql[512];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT json FROM incidents WHERE 1");
    if (id >= 0)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND id = ?1");
    if (f && f->from_ms != TIME_NONE)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND t_end_ms >= ?2");
    if (f && f->to_ms != TIME_NONE)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND t_end_ms < ?3");
    if (f && f->party)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND party = ?4");
    if (f && f->region)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND region = ?5");
    snprintf(sql + n, sizeof sql - n, " ORDER BY id%s", f && f->limit > 0 ? " LIMIT ?6" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "listing incidents");
    if (id >= 0)
        sqlite3_bind_int64(st, 1, id);
    if (f && f->from_ms != TIME_NONE)
        sqlite3_bind_int64(st, 2, f->from_ms);
    if (f && f->to_ms != TIME_NONE)
        sqlite3_bind_int64(st, 3, f->to_ms);
    if (f && f->party)
        sqlite3_bind_text(st, 4, f->party, -1, SQLITE_STATIC);
    if (f && f->region)
        sqlite3_bind_text(st, 5, f->region, -1, SQLITE_STATIC);
    if (f && f->limit > 0)
        sqlite3_bind_int64(st, 6, f->limit);
    int rc = 0, step;
    long long found = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        found++;
        rc = cb(ctx, (const char *)sqlite3_column_text(st, 0));
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "listing incidents");
    sqlite3_finalize(st);
    if (!rc && id >= 0 && !found)
        rc = errf(e, ERR_NOTFOUND, "incident %lld: not found", (long long)id);
    return rc;
}

int store_report_incidents(struct store *s, int64_t from_ms, int64_t to_ms,
                           int (*cb)(void *ctx, const struct store_incident_row *r), void *ctx,
                           struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, t_end_ms, region, count, party, grade, json, counts, "
                           "finding_party FROM incidents "
                           "WHERE t_end_ms >= ?1 AND t_end_ms < ?2 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading incidents for the report");
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_incident_row r = {
            .id = sqlite3_column_int64(st, 0),
            .t_end_ms = sqlite3_column_int64(st, 1),
            .region = (const char *)sqlite3_column_text(st, 2),
            .count = sqlite3_column_int64(st, 3),
            .party = (const char *)sqlite3_column_text(st, 4),
            .grade = (const char *)sqlite3_column_text(st, 5),
            .json = (const char *)sqlite3_column_text(st, 6),
            .counts = (const char *)sqlite3_column_text(st, 7),
            .finding_party = (const char *)sqlite3_column_text(st, 8),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading incidents for the report");
    sqlite3_finalize(st);
    return rc;
}

/* ---- points for the dashboard's map ---- */

int store_map_points(struct store *s, int (*cb)(void *ctx, const struct store_map_row *r),
                     void *ctx, struct errbuf *e)
{
    /* The dominant event type (largest count; uncountable below any count) and the summed counts
     * come from obs_events through its primary key (obs_id, seq); the findings are grouped once
     * by observation (no index on findings.obs_id is needed). */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT o.id, o.lon, o.lat, o.kind, o.t_end_ms, o.region, o.party, "
            "(SELECT ev.event_type FROM obs_events ev WHERE ev.obs_id = o.id "
            "  ORDER BY coalesce(ev.count, -1) DESC, ev.seq LIMIT 1), "
            "(SELECT sum(ev.count) FROM obs_events ev WHERE ev.obs_id = o.id AND ev.count > 0), "
            "o.count, f.clauses, f.party, o.radius_m FROM observations o LEFT JOIN "
            "(SELECT obs_id, group_concat(DISTINCT clause) AS clauses, "
            "  min(CASE WHEN party <> 'undetermined' THEN party END) AS party "
            "  FROM findings GROUP BY obs_id) f ON f.obs_id = o.id "
            "WHERE o.lon IS NOT NULL AND o.lat IS NOT NULL ORDER BY o.id",
            -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading map points");
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_map_row r = {
            .id = sqlite3_column_int64(st, 0),
            .lon = sqlite3_column_double(st, 1),
            .lat = sqlite3_column_double(st, 2),
            .kind = (const char *)sqlite3_column_text(st, 3),
            .t_end_ms = sqlite3_column_int64(st, 4),
            .region = (const char *)sqlite3_column_text(st, 5),
            .party = (const char *)sqlite3_column_text(st, 6),
            .event_type = (const char *)sqlite3_column_text(st, 7),
            .count = sqlite3_column_type(st, 8) != SQLITE_NULL ? sqlite3_column_int64(st, 8)
                     : sqlite3_column_type(st, 9) != SQLITE_NULL ? sqlite3_column_int64(st, 9)
                                                                 : 0,
            .clauses = (const char *)sqlite3_column_text(st, 10),
            .finding_party = (const char *)sqlite3_column_text(st, 11),
            .radius_m = sqlite3_column_double(st, 12),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading map points");
    sqlite3_finalize(st);
    return rc;
}

int store_map_incidents(struct store *s, const char *party,
                        int (*cb)(void *ctx, const struct store_map_incident_row *r), void *ctx,
                        struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT i.id, i.lon, i.lat, i.t_end_ms, i.region, i.count, i.party, i.grade, "
            "i.counts, i.clauses, coalesce(i.semi_major_m, 0) FROM incidents i WHERE i.lon IS NOT NULL AND i.lat IS NOT NULL AND (?1 IS NULL OR i.party = ?1) "
            "ORDER BY i.id",
            -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading map incidents");
    if (party)
        sqlite3_bind_text(st, 1, party, -1, SQLITE_STATIC);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_map_incident_row r = {
            .id = sqlite3_column_int64(st, 0),
            .lon = sqlite3_column_double(st, 1),
            .lat = sqlite3_column_double(st, 2),
            .t_end_ms = sqlite3_column_int64(st, 3),
            .region = (const char *)sqlite3_column_text(st, 4),
            .count = sqlite3_column_int64(st, 5),
            .party = (const char *)sqlite3_column_text(st, 6),
            .grade = (const char *)sqlite3_column_text(st, 7),
            .counts = (const char *)sqlite3_column_text(st, 8),
            .clauses = (const char *)sqlite3_column_text(st, 9),
            .semi_major_m = sqlite3_column_double(st, 10),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading map incidents");
    sqlite3_finalize(st);
    return rc;
}

/* ---- the review of findings ---- */

int store_finding_get(struct store *s, int64_t id, char status[16], char party[32],
                      struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT status, party FROM findings WHERE id = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return dberr(s, e, "reading a finding");
    sqlite3_bind_int64(q, 1, id);
    int rc = 0, step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        str_copy(status, 16, (const char *)sqlite3_column_text(q, 0));
        str_copy(party, 32, (const char *)sqlite3_column_text(q, 1));
    } else if (step == SQLITE_DONE) {
        rc = errf(e, ERR_NOTFOUND, "finding %lld: no such finding", (long long)id);
    } else {
        rc = dberr(s, e, "reading a finding");
    }
    sqlite3_finalize(q);
    return rc;
}

int store_finding_review_add(struct store *s, const struct store_review *r, int64_t *id,
                             struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO finding_reviews(finding_id, action, status_from, "
                           "status_to, actor, role, party, text, created_ms, log_index) VALUES "
                           "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "recording a review");
    sqlite3_bind_int64(q, 1, r->finding_id);
    sqlite3_bind_text(q, 2, r->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, r->status_from, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, r->status_to, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, r->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, r->role, -1, SQLITE_STATIC);
    if (r->party && *r->party)
        sqlite3_bind_text(q, 7, r->party, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 7);
    sqlite3_bind_text(q, 8, r->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, r->time_ms);
    sqlite3_bind_int64(q, 10, s->log_size);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "recording a review");
    sqlite3_finalize(q);
    if (!rc) {
        *id = sqlite3_last_insert_rowid(s->db);
        s->log_size++;
        if (strcmp(r->status_from, r->status_to) &&
            sqlite3_prepare_v2(s->db, "UPDATE findings SET status = ?1 WHERE id = ?2", -1, &q,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_text(q, 1, r->status_to, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, r->finding_id);
            rc = sqlite3_step(q) == SQLITE_DONE ? 0 : dberr(s, e, "changing a finding's status");
            sqlite3_finalize(q);
        } else if (strcmp(r->status_from, r->status_to)) {
            rc = dberr(s, e, "changing a finding's status");
        }
    }
    return rc;
}

int store_finding_reviews(struct store *s, int64_t finding_id,
                          int (*cb)(void *ctx, const struct store_review *r), void *ctx,
                          struct errbuf *e)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, finding_id, action, status_from, status_to, actor, role, "
                           "party, text, created_ms, log_index FROM finding_reviews "
                           "WHERE finding_id = ?1 ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(s, e, "reading reviews");
    sqlite3_bind_int64(q, 1, finding_id);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_review r = {
            .id = sqlite3_column_int64(q, 0),
            .finding_id = sqlite3_column_int64(q, 1),
            .action = (const char *)sqlite3_column_text(q, 2),
            .status_from = (const char *)sqlite3_column_text(q, 3),
            .status_to = (const char *)sqlite3_column_text(q, 4),
            .actor = (const char *)sqlite3_column_text(q, 5),
            .role = (const char *)sqlite3_column_text(q, 6),
            .party = (const char *)sqlite3_column_text(q, 7),
            .text = (const char *)sqlite3_column_text(q, 8),
            .time_ms = sqlite3_column_int64(q, 9),
            .log_index = sqlite3_column_int64(q, 10),
        };
        rc = cb(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "reading reviews");
    sqlite3_finalize(q);
    return rc;
}
