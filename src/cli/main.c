/* main.c: the `truce` command line: init, agreement, ingest, observations, findings, incidents,
 * fuse, report, place, log, witness, serve, user, audit, alerts, subscriber, deliver, webhook,
 * simulate and evaluate (the bodies of some live in their modules: auth, escalation, fusion,
 * simulate). Each subcommand has --help. The data directory comes from
 * --data DIR, else $TRUCE_DATA, else ./truce-data.
 *
 * A short-lived CLI may exit on failure; every message names what failed and why. Exit codes:
 * 0 success, 1 some input was rejected or a check failed, 2 usage error, 3 other failure. */
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agreement/agreement.h"
#include "api/api.h"
#include "auth/auth.h"
#include "escalation/escalation.h"
#include "fusion/fusion.h"
#include "ingest/ingest.h"
#include "ledger/ledger.h"
#include "log/log.h"
#include "note/note.h"
#include "tiles/tiles.h"
#include "witness/witness.h"
#include "observation/observation.h"
#include "placement/placement.h"
#include "report/report.h"
#include "review/review.h"
#include "server/server.h"
#include "simulate/simulate.h"
#include "store/store.h"
#include "util/util.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2
#define EXIT_FAIL 3

static const char *data_dir;
static bool data_dir_given; /* by --data, not the environment or the default */

static const char USAGE[] =
    "usage: truce [--data DIR] COMMAND [ARGS]\n"
    "\n"
    "Ceasefire monitoring: an agreement as data, observations in, placed observations, findings\n"
    "and daily reports out.\n"
    "\n"
    "commands:\n"
    "  init DIR --agreement FILE     create a data directory holding an agreement\n"
    "  agreement check FILE          validate an agreement file\n"
    "  agreement add FILE            store a new version of the agreement (an amendment)\n"
    "  agreement show                list the stored agreement versions\n"
    "  ingest [FILE...]              read observations (JSON, NDJSON or CSV; - for stdin)\n"
    "  observations [FILTERS]        list stored observations as NDJSON\n"
    "  findings [FILTERS]            list findings\n"
    "  report --date YYYY-MM-DD      the daily report (--format text|json)\n"
    "  fuse                          re-fuse every fire observation into incidents\n"
    "  incidents [--date D]          located, attributed incidents (--format text|ndjson)\n"
    "  place LAT LON                 zones, control area, distance to lines, nearest place\n"
    "  log verify|checkpoint|proof|export|...  the transparency log of every stored record\n"
    "  witness init|add-checkpoint|status     a witness that cosigns checkpoints\n"
    "  review FINDING --action A     confirm, dismiss, dispute or publish a finding\n"
    "  serve [--config FILE] [--listen HOST:PORT]  the HTTP API (docs/api.md) until SIGTERM\n"
    "  user add|list|revoke          API users and their tokens (roles: docs/api.md)\n"
    "  audit                         the audit trail of writes\n"
    "  simulate --agreement FILE ... a ground-truth scenario: observations and truth\n"
    "  evaluate --truth FILE --incidents FILE  score incidents against a truth\n"
    "  alerts [list|show|ack|evaluate]  escalation alerts raised by the agreement's thresholds\n"
    "  subscriber add|list|remove    webhook subscribers (guarantors, parties) of alerts\n"
    "  deliver                       send the webhooks that are due, once\n"
    "  webhook verify --key VKEY --sig HEADER  check a received webhook body (stdin)\n"
    "\n"
    "The data directory is --data DIR, else $TRUCE_DATA, else ./truce-data.\n"
    "`truce COMMAND --help` explains each command. Documentation: docs/ in the source tree.\n";

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "truce %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see `truce %s --help`)\n", cmd);
    return EXIT_USAGE;
}

static int fail(struct errbuf *e)
{
    fprintf(stderr, "truce: %s\n", e->msg);
    return EXIT_FAIL;
}

static int open_store(struct store **s, struct store_agreements *ag, struct errbuf *e)
{
    if (store_open(data_dir, false, s, e))
        return -1;
    if (store_agreements_load(*s, ag, e)) {
        store_close(*s);
        return -1;
    }
    return 0;
}


/* Signs a checkpoint for what was just stored (checkpoints are cut once per command that
 * changed the log, not per leaf), reporting but not failing the command on error: the records
 * are stored and logged either way, and `truce log checkpoint` can sign later. */
static void cut_checkpoint(struct truce_log *log, struct store *s, bool quiet)
{
    struct errbuf e;
    struct buf note;
    buf_init(&note);
    bool made;
    if (log_checkpoint(log, s, &note, &made, &e))
        fprintf(stderr, "truce: no checkpoint signed: %s\n", e.msg);
    else if (made && !quiet)
        printf("log: signed checkpoint for %llu leaves\n", (unsigned long long)log_size(log));
    buf_reset(&note);
}

/* ---- init ---- */

static const char HELP_INIT[] =
    "usage: truce init DIR --agreement FILE\n\n"
    "Creates the data directory DIR with an empty store and version 1 of the agreement in FILE\n"
    "(validated first; GeoJSON and gazetteer files it names are copied into the store).\n";

static int cmd_init(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_INIT, stdout);
        return 0;
    }
    const char *dir = NULL, *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--agreement") && i + 1 < argc)
            file = argv[++i];
        else if (argv[i][0] == '-')
            return usage_error("init", "unknown option %s", argv[i]);
        else if (!dir)
            dir = argv[i];
        else
            return usage_error("init", "unexpected argument %s", argv[i]);
    }
    if (!dir || !file)
        return usage_error("init", "%s", "needs DIR and --agreement FILE");
    struct errbuf e;
    struct agreement *a;
    if (agr_load_file(file, &a, &e))
        return fail(&e);
    struct store *s;
    if (store_open(dir, true, &s, &e)) {
        agr_free(a);
        return fail(&e);
    }
    struct truce_log *log = NULL;
    char origin[300];
    if (a->origin)
        str_copy(origin, sizeof origin, a->origin);
    else
        snprintf(origin, sizeof origin, "truce/%s", a->id);
    int rc = log_open(dir, s, &log, &e);
    if (!rc)
        rc = log_key_create(dir, origin, &e);
    if (!rc)
        rc = log_add_agreement(log, s, a, &e);
    if (!rc) {
        printf("initialised %s with agreement %s version %d (%s)\n", dir, a->id, a->version,
               a->title);
        cut_checkpoint(log, s, true);
        char vkey[512];
        if (!log_verifier_key(dir, vkey, sizeof vkey, &e))
            printf("log origin %s; verifier key %s\n", origin, vkey);
    }
    log_close(log);
    store_close(s);
    agr_free(a);
    return rc ? fail(&e) : 0;
}

/* ---- agreement ---- */

static const char HELP_AGREEMENT[] =
    "usage: truce agreement check FILE\n"
    "       truce agreement add FILE\n"
    "       truce agreement show\n\n"
    "check validates an agreement file and prints a summary; errors name the file, the JSON\n"
    "pointer of the offending value and the reason.\n"
    "add stores FILE as a new version: same agreement id, a higher version number and a later\n"
    "effective time. Observations are judged by the version in force when they happened.\n"
    "show lists the stored versions.\n"
    "The format is described in docs/agreement-format.md.\n";

static void agreement_summary(const struct agreement *a)
{
    char eff[40];
    time_format_local(a->effective_ms, a->time_zone, eff, sizeof eff);
    printf("%s version %d: %s%s\n", a->id, a->version, a->title,
           a->illustrative ? " (ILLUSTRATIVE)" : "");
    printf("  effective %s, time zone %s, report cut-off %02d:%02d\n", eff, a->time_zone,
           a->cutoff_minutes / 60, a->cutoff_minutes % 60);
    printf("  %zu parties, %zu regions, %zu lines, %zu control areas, %zu zones, %zu weapon "
           "classes, %zu rules, %zu places\n",
           a->n_parties, a->n_regions, a->n_lines, a->n_control, a->n_zones, a->n_classes,
           a->n_rules, a->n_places);
    if (a->n_thresholds)
        printf("  %zu escalation threshold%s (docs/escalation.md)\n", a->n_thresholds,
               a->n_thresholds == 1 ? "" : "s");
}

static int cmd_agreement(int argc, char **argv)
{
    if (argc == 0 || wants_help(argc, argv)) {
        fputs(HELP_AGREEMENT, argc ? stdout : stderr);
        return argc ? 0 : EXIT_USAGE;
    }
    struct errbuf e;
    if (!strcmp(argv[0], "check") || !strcmp(argv[0], "add")) {
        if (argc != 2)
            return usage_error("agreement", "%s needs exactly one FILE", argv[0]);
        struct agreement *a;
        if (agr_load_file(argv[1], &a, &e)) {
            fprintf(stderr, "truce: %s\n", e.msg);
            return EXIT_REJECTED;
        }
        int rc = 0;
        if (!strcmp(argv[0], "check")) {
            printf("%s: valid\n", argv[1]);
            agreement_summary(a);
        } else {
            struct store *s;
            struct truce_log *log = NULL;
            if (store_open(data_dir, false, &s, &e)) {
                rc = fail(&e);
            } else {
                char done[200];
                if (log_open(data_dir, s, &log, &e) || log_add_agreement(log, s, a, &e)) {
                    rc = fail(&e);
                    (void)auth_cli_record(s, "agreement add", argv[1], 1, e.msg);
                } else {
                    printf("stored %s version %d\n", a->id, a->version);
                    snprintf(done, sizeof done, "stored %s version %d", a->id, a->version);
                    rc = auth_cli_record(s, "agreement add", argv[1], 0, done);
                    cut_checkpoint(log, s, false);
                }
                log_close(log);
                store_close(s);
            }
        }
        agr_free(a);
        return rc;
    }
    if (!strcmp(argv[0], "show")) {
        struct store *s;
        struct store_agreements ag;
        if (open_store(&s, &ag, &e))
            return fail(&e);
        for (size_t i = 0; i < ag.n; i++)
            agreement_summary(ag.v[i]);
        store_agreements_free(&ag);
        store_close(s);
        return 0;
    }
    return usage_error("agreement", "unknown subcommand %s", argv[0]);
}

/* ---- ingest ---- */

static const char HELP_INGEST[] =
    "usage: truce ingest [--format json|ndjson|csv] [--atomic] [--batch N] [--quiet] [FILE...]\n\n"
    "Reads observations from each FILE (or - for standard input; standard input when no FILE is\n"
    "given), validates, places and judges each one and stores the good ones. Prints one result\n"
    "line per record (accepted with its id, duplicate, or rejected with the field and reason)\n"
    "and a summary. The format is guessed from the content unless --format is given.\n\n"
    "  --atomic    refuse the whole file when any record is rejected\n"
    "  --batch N   records per transaction (default 10000); results are printed after commit\n"
    "  --quiet     print only rejected records and the summary\n\n"
    "A record is reported accepted only once it is durably stored. A client id (\"client_id\",\n"
    "or the Feature's \"id\") that was stored before makes the record a no-op (duplicate).\n"
    "Exit status 1 when any record was rejected. Formats: docs/observation-format.md.\n";

struct ingest_ctx {
    bool quiet, tty;
    const char *name;
    uint64_t size;
    struct timespec t0;
};

static int on_result(void *ctx, const struct ingest_result *r)
{
    struct ingest_ctx *c = ctx;
    if (c->tty)
        fputs("\r\033[K", stderr);
    if (r->status == INGEST_ACCEPTED && !c->quiet)
        printf("%s: record %lld: accepted as observation %lld%s%s%s, %zu finding%s\n", c->name,
               r->index, (long long)r->id, r->client_id[0] ? " (client id " : "", r->client_id,
               r->client_id[0] ? ")" : "", r->n_findings, r->n_findings == 1 ? "" : "s");
    else if (r->status == INGEST_DUPLICATE && !c->quiet)
        printf("%s: record %lld: duplicate of observation %lld (client id %s), nothing changed\n",
               c->name, r->index, (long long)r->id, r->client_id);
    else if (r->status == INGEST_REJECTED)
        printf("%s: record %lld: rejected: %s\n", c->name, r->index, r->error);
    else if (r->status == INGEST_NOT_STORED)
        printf("%s: record %lld: %s\n", c->name, r->index, r->error);
    return 0;
}

static void on_progress(void *ctx, uint64_t bytes, long long records)
{
    struct ingest_ctx *c = ctx;
    fflush(stdout); /* the batch's results are acknowledgements: hand them over now */
    if (!c->tty)
        return;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double dt = (double)(t.tv_sec - c->t0.tv_sec) + (double)(t.tv_nsec - c->t0.tv_nsec) / 1e9;
    double frac = c->size ? (double)bytes / (double)c->size : 0;
    if (frac > 1)
        frac = 1;
    char bar[31];
    int filled = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = 0;
    if (c->size)
        fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %lld records, %.0f/s", c->name, bar, frac * 100,
                records, dt > 0 ? (double)records / dt : 0);
    else
        fprintf(stderr, "\r\033[K%s %lld records, %.0f/s", c->name, records,
                dt > 0 ? (double)records / dt : 0);
    fflush(stderr);
}

static int cmd_ingest(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_INGEST, stdout);
        return 0;
    }
    struct ingest_opts opts = {.format = OBS_FMT_AUTO};
    struct ingest_ctx ctx = {0};
    const char *files[256];
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            if (obs_format_parse(argv[++i], &opts.format))
                return usage_error("ingest", "unknown format %s (json, ndjson, csv)", argv[i]);
        } else if (!strcmp(argv[i], "--atomic")) {
            opts.atomic = true;
        } else if (!strcmp(argv[i], "--quiet")) {
            ctx.quiet = true;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            long long n;
            if (str_to_ll(argv[++i], &n) || n < 1 || n > 1000000)
                return usage_error("ingest", "--batch takes 1 to 1000000, not %s", argv[i]);
            opts.batch = (size_t)n;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("ingest", "unknown option %s", argv[i]);
        } else if (nfiles < 256) {
            files[nfiles++] = argv[i];
        } else {
            return usage_error("ingest", "%s", "at most 256 files at once");
        }
    }
    if (!nfiles)
        files[nfiles++] = "-";
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    struct truce_log *log = NULL;
    if (log_open(data_dir, s, &log, &e)) {
        store_agreements_free(&ag);
        store_close(s);
        return fail(&e);
    }
    opts.log = log;
    int64_t esc_cursor = -1;
    struct esc_hook hook = {s, ag.v[ag.n - 1], log, &esc_cursor, 0};
    opts.committed = esc_hook_after_batch; /* thresholds of the latest agreement version */
    opts.committed_ctx = &hook;
    struct fusion *fusion = NULL;
    if (fusion_load(s, &ag, &fusion, &e)) {
        log_close(log);
        store_agreements_free(&ag);
        store_close(s);
        return fail(&e);
    }
    opts.fusion = fusion;
    ctx.tty = isatty(2);
    opts.result = on_result;
    opts.progress = on_progress;
    opts.ctx = &ctx;
    struct ingest_stats total = {0};
    int exit_code = 0;
    for (int i = 0; i < nfiles; i++) {
        bool is_stdin = !strcmp(files[i], "-");
        FILE *f = is_stdin ? stdin : fopen(files[i], "rb");
        if (!f) {
            fprintf(stderr, "truce: %s: cannot open: %s\n", files[i], strerror(errno));
            exit_code = EXIT_FAIL;
            continue;
        }
        struct stat st;
        ctx.size = (!is_stdin && fstat(fileno(f), &st) == 0) ? (uint64_t)st.st_size : 0;
        ctx.name = is_stdin ? "stdin" : files[i];
        clock_gettime(CLOCK_MONOTONIC, &ctx.t0);
        opts.name = ctx.name;
        struct ingest_stats stats;
        int rc = ingest_stream(s, &ag, f, &opts, &stats, &e);
        if (ctx.tty)
            fputs("\r\033[K", stderr);
        if (!is_stdin)
            fclose(f);
        if (rc) {
            fprintf(stderr, "truce: %s\n", e.msg);
            exit_code = EXIT_FAIL;
        }
        printf("%s: %lld record%s: %lld accepted, %lld duplicate%s, %lld rejected%s; %lld "
               "finding%s\n",
               ctx.name, stats.records, stats.records == 1 ? "" : "s", stats.accepted,
               stats.duplicates, stats.duplicates == 1 ? "" : "s", stats.rejected,
               opts.atomic && stats.rejected ? " (file refused: --atomic)" : "", stats.findings,
               stats.findings == 1 ? "" : "s");
        char done[300];
        snprintf(done, sizeof done, "records %lld, accepted %lld, duplicates %lld, rejected %lld, "
                 "findings %lld%s%s", stats.records, stats.accepted, stats.duplicates,
                 stats.rejected, stats.findings, rc ? "; stopped: " : "", rc ? e.msg : "");
        if (auth_cli_record(s, "ingest", ctx.name, rc ? 1 : 0, done))
            exit_code = EXIT_FAIL;
        total.records += stats.records;
        total.accepted += stats.accepted;
        total.duplicates += stats.duplicates;
        total.rejected += stats.rejected;
        total.findings += stats.findings;
        if (stats.rejected && !exit_code)
            exit_code = EXIT_REJECTED;
    }
    if (hook.alerts)
        printf("escalation: %lld alert%s raised (truce alerts)\n", hook.alerts,
               hook.alerts == 1 ? "" : "s");
    if (total.accepted)
        cut_checkpoint(log, s, ctx.quiet);
    fusion_free(fusion);
    log_close(log);
    if (nfiles > 1)
        printf("total: %lld records: %lld accepted, %lld duplicates, %lld rejected; %lld "
               "findings\n",
               total.records, total.accepted, total.duplicates, total.rejected, total.findings);
    store_agreements_free(&ag);
    store_close(s);
    return exit_code;
}

/* ---- listings ---- */

static const char HELP_LIST[] =
    "usage: truce observations [FILTERS] [--limit N]\n"
    "       truce findings [FILTERS] [--limit N] [--format ndjson|text]\n\n"
    "Lists stored observations (with their placement) or findings, one JSON object per line.\n"
    "filters:\n"
    "  --from TIME, --to TIME   RFC 3339 times (or dates, in the agreement's time zone); the\n"
    "                           observation's end time is in [from, to)\n"
    "  --party ID               whose (observations) or attributed party (findings)\n"
    "  --clause ID              findings under this clause (or observations with one)\n"
    "  --region ID              report region, e.g. donetsk\n"
    "  --kind KIND              observations of one kind (fire, sighting, ...)\n";

static int print_line(void *ctx, const char *json)
{
    (void)ctx;
    puts(json);
    return 0;
}

static int print_finding_text(void *ctx, const struct store_finding_row *r)
{
    const char *tz = ctx;
    char when[40];
    time_format_local(r->t_end_ms, tz, when, sizeof when);
    printf("#%lld  %s  %s  %s  %s  (observation %lld)\n    %s\n", (long long)r->id, when,
           r->clause, r->result, r->party, (long long)r->obs_id, r->reasons);
    return 0;
}

static int cmd_list(int argc, char **argv, bool findings)
{
    const char *name = findings ? "findings" : "observations";
    if (wants_help(argc, argv)) {
        fputs(HELP_LIST, stdout);
        return 0;
    }
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    struct store_filter f;
    store_filter_init(&f);
    bool text = false;
    const char *from = NULL, *to = NULL;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--from") && v)
            from = argv[++i];
        else if (!strcmp(argv[i], "--to") && v)
            to = argv[++i];
        else if (!strcmp(argv[i], "--party") && v)
            f.party = argv[++i];
        else if (!strcmp(argv[i], "--clause") && v)
            f.clause = argv[++i];
        else if (!strcmp(argv[i], "--region") && v)
            f.region = argv[++i];
        else if (!strcmp(argv[i], "--kind") && v && !findings)
            f.kind = argv[++i];
        else if (!strcmp(argv[i], "--format") && v && findings) {
            text = !strcmp(argv[++i], "text");
            if (!text && strcmp(argv[i], "ndjson"))
                return usage_error(name, "unknown format %s (ndjson, text)", argv[i]);
        } else if (!strcmp(argv[i], "--limit") && v) {
            if (str_to_ll(argv[++i], &f.limit) || f.limit < 1)
                return usage_error(name, "--limit takes a positive number, not %s", argv[i]);
        } else
            return usage_error(name, "unknown option or missing value: %s", argv[i]);
    }
    if (open_store(&s, &ag, &e))
        return fail(&e);
    const char *tz = ag.v[ag.n - 1]->time_zone;
    int rc = 0;
    if (from && time_parse(from, tz, &f.from_ms, &e)) {
        errprefix(&e, "--from");
        rc = -1;
    }
    if (!rc && to && time_parse(to, tz, &f.to_ms, &e)) {
        errprefix(&e, "--to");
        rc = -1;
    }
    if (!rc && findings && text)
        rc = store_findings_rows(s, &f, print_finding_text, (void *)tz, &e);
    else if (!rc)
        rc = findings ? store_findings_list(s, &f, print_line, NULL, &e)
                      : store_obs_list(s, &f, print_line, NULL, &e);
    store_agreements_free(&ag);
    store_close(s);
    return rc ? fail(&e) : 0;
}

/* ---- report ---- */

static const char HELP_REPORT[] =
    "usage: truce report --date YYYY-MM-DD [--format text|json|html|pdf] [--output FILE]\n\n"
    "The daily report for the 24 hours ending at the agreement's cut-off (19:30 for Minsk II) on\n"
    "that date in the agreement's time zone: per region \"N ceasefire violations, including M\n"
    "explosions\" against the previous period, the breakdown by event type, disengagement\n"
    "areas, weapons in violation of withdrawal lines by side, and findings by clause.\n"
    "html is one self-contained page with a map, trend charts and the annex of observations\n"
    "(docs/dashboard.md); pdf is that page printed by headless Chromium (Debian's chromium, or\n"
    "TRUCE_CHROMIUM). The report goes to stdout, or to FILE with --output.\n";

static int cmd_report(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_REPORT, stdout);
        return 0;
    }
    const char *date = NULL, *output = NULL;
    enum report_format fmt = REPORT_TEXT;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--date") && i + 1 < argc)
            date = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "json"))
                fmt = REPORT_JSON;
            else if (!strcmp(argv[i], "html"))
                fmt = REPORT_HTML;
            else if (!strcmp(argv[i], "pdf"))
                fmt = REPORT_PDF;
            else if (strcmp(argv[i], "text"))
                return usage_error("report", "unknown format %s (text, json, html, pdf)",
                                   argv[i]);
        } else if (!strcmp(argv[i], "--output") && i + 1 < argc)
            output = argv[++i];
        else
            return usage_error("report", "unknown option or missing value: %s", argv[i]);
    }
    int y, m, d;
    char extra;
    if (!date || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return usage_error("report", "%s", "needs --date YYYY-MM-DD");
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    int64_t noon;
    const struct agreement *a = ag.v[ag.n - 1];
    if (time_local_to_utc(y, m, d, 12, 0, a->time_zone, &noon) == 0)
        a = store_agreement_at(&ag, noon);
    struct buf out;
    buf_init(&out);
    int rc = report_daily(s, a, y, m, d, fmt, &out, &e);
    if (!rc && output) {
        FILE *f = fopen(output, "wb");
        if (!f || fwrite(out.p, 1, out.len, f) != out.len || fclose(f))
            rc = errf(&e, ERR_IO, "%s: cannot write the report", output);
    } else if (!rc) {
        fwrite(out.p, 1, out.len, stdout);
    }
    buf_reset(&out);
    store_agreements_free(&ag);
    store_close(s);
    return rc ? fail(&e) : 0;
}

/* ---- fusion: incidents ---- */

static const char HELP_FUSE[] =
    "usage: truce fuse\n\n"
    "Fuses every stored fire observation into incidents from scratch and replaces the stored\n"
    "incidents (ingest fuses each new observation as it arrives; this re-run gives the same\n"
    "incidents, and fills them in for a store from before fusion). See docs/fusion.md.\n";

static int cmd_fuse(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_FUSE, stdout);
        return 0;
    }
    if (argc)
        return usage_error("fuse", "unknown option %s", argv[0]);
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    struct truce_log *log = NULL;
    if (log_open(data_dir, s, &log, &e)) {
        store_agreements_free(&ag);
        store_close(s);
        return fail(&e);
    }
    long long n_obs = 0, n_inc = 0, n_changed = 0, n_skipped = 0;
    int rc = fusion_rebuild(s, &ag, log, &n_obs, &n_inc, &n_changed, &n_skipped, &e);
    if (!rc)
        printf("fused %lld fire observation%s into %lld incident%s (%lld stored or removed)\n",
               n_obs, n_obs == 1 ? "" : "s", n_inc, n_inc == 1 ? "" : "s", n_changed);
    if (!rc && n_skipped)
        printf("%lld stored fire observation%s left out: no longer valid under the newest "
               "agreement, or no usable region or time window\n",
               n_skipped, n_skipped == 1 ? "" : "s");
    if (!rc && n_changed)
        cut_checkpoint(log, s, false);
    log_close(log);
    store_agreements_free(&ag);
    store_close(s);
    return rc ? fail(&e) : 0;
}

static const char HELP_INCIDENTS[] =
    "usage: truce incidents [--date YYYY-MM-DD] [--party ID] [--region ID] [--limit N]\n"
    "                       [--format text|ndjson]\n\n"
    "The incidents fused from the fire observations: reconciled counts per event type, the\n"
    "location with its 95 % error ellipse and how it was obtained, the estimated origin, the\n"
    "attributed party with its grade (confirmed, probable, possible, undetermined) and reasons,\n"
    "and the client ids of the evidence. --date limits them to that day's report window (the 24\n"
    "hours ending at the agreement's cut-off). ndjson: one object per line in id order\n"
    "(docs/fusion.md).\n";

struct incidents_text_ctx {
    const struct store_filter *f;
    const struct agreement *a;
    struct buf out;
};

static int cmd_incidents(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_INCIDENTS, stdout);
        return 0;
    }
    bool text = true;
    const char *date = NULL;
    struct store_filter f;
    store_filter_init(&f);
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--format") && v) {
            i++;
            text = !strcmp(argv[i], "text");
            if (!text && strcmp(argv[i], "ndjson"))
                return usage_error("incidents", "unknown format %s (text, ndjson)", argv[i]);
        } else if (!strcmp(argv[i], "--date") && v) {
            date = argv[++i];
        } else if (!strcmp(argv[i], "--party") && v) {
            f.party = argv[++i];
        } else if (!strcmp(argv[i], "--region") && v) {
            f.region = argv[++i];
        } else if (!strcmp(argv[i], "--limit") && v) {
            if (str_to_ll(argv[++i], &f.limit) || f.limit < 1)
                return usage_error("incidents", "--limit takes a positive number, not %s", argv[i]);
        } else {
            return usage_error("incidents", "unknown option or missing value: %s", argv[i]);
        }
    }
    int y = 0, m = 0, d = 0;
    char extra;
    if (date && (sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 ||
                 d < 1 || d > 31))
        return usage_error("incidents", "--date takes YYYY-MM-DD, not %s", date);
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    const struct agreement *a = ag.v[ag.n - 1];
    int rc = 0;
    if (date && agr_report_window(a, y, m, d, &f.from_ms, &f.to_ms))
        rc = errf(&e, ERR_INVAL, "--date %s: no such day in the agreement's time zone", date);
    if (!rc && !text) {
        rc = store_incidents_list(s, &f, -1, print_line, NULL, &e);
    } else if (!rc) {
        /* the text form is made from the engine, which gives the same incidents as stored */
        struct fusion *fu = NULL;
        rc = fusion_load(s, &ag, &fu, &e);
        const int64_t *ids;
        size_t n = rc ? 0 : fusion_incident_ids(fu, &ids);
        int64_t *copy = n ? malloc(n * sizeof *copy) : NULL;
        if (n && !copy)
            rc = errf(&e, ERR_NOMEM, "out of memory");
        if (copy)
            memcpy(copy, ids, n * sizeof *copy);
        struct fusion_incident *inc = malloc(sizeof *inc);
        struct buf out;
        buf_init(&out);
        long long shown = 0;
        for (size_t i = 0; i < n && !rc && inc; i++) {
            if ((rc = fusion_incident_get(fu, copy[i], inc, &e)))
                break;
            if ((f.from_ms != TIME_NONE && inc->t_end_ms < f.from_ms) ||
                (f.to_ms != TIME_NONE && inc->t_end_ms >= f.to_ms) ||
                (f.party && strcmp(f.party, inc->party)))
                continue;
            if (f.region) {
                int r = agr_region_at(a, inc->location);
                if (r < 0 || strcmp(a->regions[r].id, f.region))
                    continue;
            }
            if (f.limit > 0 && shown >= f.limit)
                break;
            shown++;
            out.len = 0;
            if (fusion_incident_text(inc, a, &out))
                rc = errf(&e, ERR_NOMEM, "out of memory");
            else
                fwrite(out.p, 1, out.len, stdout);
        }
        buf_reset(&out);
        free(inc);
        free(copy);
        if (fu && !rc)
            printf("%lld incident%s\n", shown, shown == 1 ? "" : "s");
        fusion_free(fu);
    }
    store_agreements_free(&ag);
    store_close(s);
    return rc ? fail(&e) : 0;
}

/* ---- place ---- */

static const char HELP_PLACE[] =
    "usage: truce place LAT LON [--radius-km R] [--json]\n\n"
    "Where a point is under the stored agreement (latest version): report region, control area,\n"
    "zones it lies in or near, signed geodesic distance to each reference line (positive on the\n"
    "right of the line as drawn), and the nearest settlement as \"3 km SE of Avdiivka\".\n"
    "Latitude first, as people say it; decimal degrees WGS84.\n";

static int cmd_place(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_PLACE, stdout);
        return 0;
    }
    double lat = NAN, lon = NAN, radius_km = 0;
    bool json = false;
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--radius-km") && i + 1 < argc) {
            if (str_to_double(argv[++i], &radius_km) || radius_km < 0 || radius_km > 100)
                return usage_error("place", "--radius-km takes 0 to 100, not %s", argv[i]);
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (npos < 2 && !str_to_double(argv[i], npos ? &lon : &lat)) {
            npos++;
        } else {
            return usage_error("place", "unexpected argument %s", argv[i]);
        }
    }
    if (npos != 2)
        return usage_error("place", "%s", "needs LAT and LON in decimal degrees");
    struct geo_point pt = {lon, lat};
    if (!geo_point_valid(pt))
        return usage_error("place", "%s", "latitude must be -90..90 and longitude -180..180");
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    const struct agreement *a = ag.v[ag.n - 1];
    struct placement p;
    place_point(a, pt, radius_km * 1000, &p);
    if (json) {
        printf("{\"lat\":%.6f,\"lon\":%.6f,\"region\":%s%s%s,\"control\":%s%s%s,"
               "\"control_uncertain\":%s,\"where\":\"%s\",\"lines\":{",
               lat, lon, p.region >= 0 ? "\"" : "", p.region >= 0 ? a->regions[p.region].id : "null",
               p.region >= 0 ? "\"" : "", p.control ? "\"" : "", p.control ? p.control : "null",
               p.control ? "\"" : "", p.control_uncertain ? "true" : "false", p.phrase);
        for (size_t i = 0; i < p.n_lines; i++)
            printf("%s\"%s\":%.0f", i ? "," : "", a->lines[i].id, p.line_distance_m[i]);
        printf("},\"zones\":[");
        for (size_t i = 0; i < p.n_zones; i++)
            printf("%s{\"zone\":\"%s\",\"relation\":\"%s\",\"distance_m\":%.0f}", i ? "," : "",
                   a->zones[p.zones[i].zone].id, PLACE_REL_NAMES[p.zones[i].rel],
                   p.zones[i].distance_m);
        printf("]}\n");
    } else {
        printf("%.5f N %.5f E: %s\n", lat, lon, p.phrase);
        printf("  region: %s\n", p.region >= 0 ? a->regions[p.region].name : "outside the report "
                                                                             "regions");
        int pi = p.control ? agr_party_index(a, p.control) : -1;
        printf("  control: %s%s\n", pi >= 0 ? a->parties[pi].name : "not in a control area",
               p.control_uncertain ? " (uncertain within the radius)" : "");
        for (size_t i = 0; i < p.n_lines; i++) {
            const struct agr_line *l = &a->lines[i];
            double d = p.line_distance_m[i];
            const char *side = d >= 0 ? l->right_party : l->left_party;
            printf("  %s: %.2f km%s%s%s\n", l->name, fabs(d) / 1000, side ? " on the side of " : "",
                   side ? side : "", "");
        }
        if (!p.n_zones)
            printf("  zones: none\n");
        for (size_t i = 0; i < p.n_zones; i++) {
            const struct agr_zone *z = &a->zones[p.zones[i].zone];
            if (p.zones[i].rel == PLACE_NEAR)
                printf("  zone: %.1f km from %s\n", p.zones[i].distance_m / 1000, z->name);
            else
                printf("  zone: %s %s\n", p.zones[i].rel == PLACE_IN ? "inside" : "possibly inside",
                       z->name);
        }
    }
    store_agreements_free(&ag);
    store_close(s);
    return 0;
}

/* ---- log export, witnesses ---- */

/* Entry callback of tiles_export: fetches one bundle's leaf bytes at a time from the store. */
struct export_ctx {
    struct store *s;
    uint64_t first;     /* leaf index of cache[0] */
    size_t n;           /* cached leaves */
    struct buf leaf[256];
};

static int export_collect(void *ctx, const struct store_log_record *r)
{
    struct export_ctx *c = ctx;
    c->leaf[c->n].len = 0;
    if (log_leaf_bytes(r, &c->leaf[c->n]))
        return ERR_NOMEM;
    return ++c->n == 256 ? 1 : 0;
}

static int export_entry(void *ctx, uint64_t index, struct buf *out, struct errbuf *e)
{
    struct export_ctx *c = ctx;
    if (index < c->first || index >= c->first + c->n) {
        c->first = index;
        c->n = 0;
        int rc = store_log_records(c->s, (int64_t)index, export_collect, c, e);
        if (rc < 0)
            return rc;
    }
    if (index >= c->first + c->n)
        return errf(e, ERR_NOTFOUND, "leaf %llu: no stored record", (unsigned long long)index);
    const struct buf *b = &c->leaf[index - c->first];
    return buf_append(out, b->p, b->len) ? ERR_NOMEM : 0;
}

static int log_export(struct truce_log *log, struct store *s, const char *dir, bool check)
{
    struct errbuf e;
    struct buf cp;
    buf_init(&cp);
    bool made;
    struct export_ctx *c = xcalloc(1, sizeof *c);
    c->s = s;
    struct tiles_stats st = {0};
    int rc = log_checkpoint(log, s, &cp, &made, &e);
    if (!rc)
        rc = tiles_export(log_tree(log), log_size(log), export_entry, c, cp.p, cp.len, dir,
                          check ? TILES_EXPORT_CHECK : 0, &st, &e);
    if (rc)
        fprintf(stderr, "truce: log export: %s\n", e.msg);
    else
        printf("exported %llu leaves to %s: %llu tiles and %llu entry bundles written, %llu "
               "tiles and %llu bundles already there\n",
               (unsigned long long)log_size(log), dir, (unsigned long long)st.tiles_written,
               (unsigned long long)st.bundles_written, (unsigned long long)st.tiles_kept,
               (unsigned long long)st.bundles_kept);
    for (size_t i = 0; i < 256; i++)
        buf_reset(&c->leaf[i]);
    free(c);
    buf_reset(&cp);
    return rc ? EXIT_FAIL : 0;
}

/* A verifier key given as a string or as a file holding one. */
static int read_vkey(const char *arg, char *out, size_t n, struct errbuf *e)
{
    struct stat st;
    if (stat(arg, &st) != 0) { /* not a file: the key itself */
        str_copy(out, n, arg);
        return 0;
    }
    return file_read_line(arg, 4096, out, n, e);
}

static const char HELP_WITNESS[] =
    "usage: truce witness init STATE_DIR --name NAME\n"
    "       truce witness add-checkpoint STATE_DIR --log ORIGIN=VKEY [--log ...] < REQUEST\n"
    "       truce witness status STATE_DIR --log ORIGIN=VKEY\n\n"
    "A witness (C2SP tlog-witness) keeps, per log, the last checkpoint it cosigned, and cosigns a\n"
    "new one only when a consistency proof shows it extends that one: it refuses a smaller tree\n"
    "and a different root at the same size (a split view). add-checkpoint reads the request body\n"
    "(\"old N\", proof lines, blank line, signed checkpoint; `truce log witness-request` makes\n"
    "one) and prints the status code, then the answer (a cosignature/v1 line on success).\n";

static int cmd_witness(int argc, char **argv)
{
    if (argc < 2 || wants_help(argc, argv)) {
        fputs(HELP_WITNESS, argc ? stdout : stderr);
        return argc ? 0 : EXIT_USAGE;
    }
    const char *sub = argv[0], *dir = argv[1], *name = NULL;
    struct witness_log logs[64];
    size_t nlogs = 0;
    char origins[64][300], keys[64][600];
    struct errbuf e;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(argv[i], "--log") && i + 1 < argc && nlogs < 64) {
            const char *eq = strchr(argv[++i], '=');
            if (!eq || (size_t)(eq - argv[i]) >= sizeof origins[0])
                return usage_error("witness", "--log takes ORIGIN=VKEY, not %s", argv[i]);
            memcpy(origins[nlogs], argv[i], (size_t)(eq - argv[i]));
            origins[nlogs][eq - argv[i]] = 0;
            if (read_vkey(eq + 1, keys[nlogs], sizeof keys[0], &e))
                return fail(&e);
            logs[nlogs] = (struct witness_log){origins[nlogs], keys[nlogs]};
            nlogs++;
        } else {
            return usage_error("witness", "unknown option or missing value: %s", argv[i]);
        }
    }
    if (!strcmp(sub, "init")) {
        if (!name)
            return usage_error("witness", "%s", "init needs --name NAME");
        char vkey[NOTE_VKEY_SIZE];
        if (witness_key_create(dir, name, vkey, sizeof vkey, &e))
            return fail(&e);
        printf("witness %s ready in %s; verifier key %s\n", name, dir, vkey);
        return 0;
    }
    struct witness *w;
    if (witness_open(dir, NULL, logs, nlogs, &w, &e))
        return fail(&e);
    int rc = 0;
    if (!strcmp(sub, "add-checkpoint")) {
        struct buf req, resp;
        buf_init(&req);
        buf_init(&resp);
        char chunk[4096];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, stdin)) > 0 && req.len <= WITNESS_MAX_REQUEST_BYTES)
            if (buf_append(&req, chunk, k))
                break;
        int status = 0;
        int arc = witness_add_checkpoint(w, req.p ? req.p : "", req.len, &resp, &status, &e);
        printf("%d\n", status);
        if (resp.len)
            fwrite(resp.p, 1, resp.len, stdout);
        if (arc) {
            fprintf(stderr, "truce: witness refused (%d): %s\n", status, e.msg);
            rc = EXIT_REJECTED;
        }
        buf_reset(&req);
        buf_reset(&resp);
    } else if (!strcmp(sub, "status")) {
        for (size_t i = 0; i < nlogs; i++) {
            uint64_t size;
            struct ledger_hash root;
            char hex[LEDGER_HEX_SIZE];
            if (witness_latest(w, logs[i].origin, &size, &root, &e)) {
                rc = fail(&e);
                break;
            }
            ledger_hash_hex(&root, hex);
            printf("%s: cosigned size %llu root %s\n", logs[i].origin, (unsigned long long)size,
                   hex);
        }
    } else {
        rc = usage_error("witness", "unknown subcommand %s", sub);
    }
    witness_close(w);
    return rc;
}

/* truce log witness-request --old N: the add-checkpoint body for the newest checkpoint. */
static int log_witness_request(struct truce_log *log, struct store *s, uint64_t old)
{
    struct errbuf e;
    struct buf note, req;
    buf_init(&note);
    buf_init(&req);
    bool made;
    struct ledger_hash proof[LEDGER_MAX_PROOF];
    size_t np = 0;
    int rc = log_checkpoint(log, s, &note, &made, &e);
    if (!rc && old > 0)
        rc = ledger_consistency_proof(log_tree(log), old, log_size(log), proof, &np, &e);
    if (!rc)
        rc = witness_request_build(old, proof, np, note.p, note.len, &req, &e);
    if (!rc)
        fwrite(req.p, 1, req.len, stdout);
    else
        fprintf(stderr, "truce: %s\n", e.msg);
    buf_reset(&note);
    buf_reset(&req);
    return rc ? EXIT_FAIL : 0;
}

/* truce log cosign --witness VKEY RESPONSE_FILE: adds a witness's cosignature to the newest
 * checkpoint, after checking it. */
static int log_cosign(struct truce_log *log, struct store *s, const char *vkey_arg,
                      const char *file)
{
    struct errbuf e;
    char vkey[NOTE_VKEY_SIZE];
    char *resp = NULL;
    size_t resp_len = 0, added = 0;
    int64_t size = 0;
    int rc = read_vkey(vkey_arg, vkey, sizeof vkey, &e);
    if (!rc)
        rc = file_read(file, WITNESS_MAX_REQUEST_BYTES, &resp, &resp_len, &e);
    /* a response saved from `truce witness add-checkpoint` starts with its status line */
    const char *lines = resp;
    if (!rc && !strncmp(resp, "200\n", 4)) {
        lines += 4;
        resp_len -= 4;
    }
    if (!rc)
        rc = log_add_cosignatures(log, s, vkey, lines, resp_len, &added, &size, &e);
    if (rc)
        fprintf(stderr, "truce: log cosign: %s\n", e.msg);
    else
        printf("added %zu cosignature%s to the checkpoint for %llu leaves\n", added,
               added == 1 ? "" : "s", (unsigned long long)size);
    free(resp);
    return rc ? EXIT_FAIL : 0;
}

/* ---- log ---- */

static const char HELP_LOG[] =
    "usage: truce log verify\n"
    "       truce log key\n"
    "       truce log checkpoint\n"
    "       truce log root [--size N]\n"
    "       truce log proof inclusion (--index I | --observation ID) [--size N]\n"
    "       truce log proof consistency --old M --new N\n"
    "       truce log export DIR [--check]\n"
    "       truce log verify --export DIR --key VKEY\n"
    "       truce log witness-request --old N\n"
    "       truce log cosign --witness VKEY RESPONSE_FILE\n\n"
    "The transparency log holds one leaf per stored agreement version, observation, finding,\n"
    "incident version and escalation alert (RFC 6962 Merkle tree; docs/log-format.md).\n"
    "  verify       recomputes every leaf from the stored records and checks the tree and the\n"
    "               newest signed checkpoint; names the first leaf that does not match\n"
    "  key          the log's verifier key (name+keyid+base64), for parties and witnesses\n"
    "  checkpoint   signs a checkpoint (C2SP signed note) for the current size if there is\n"
    "               none yet, and prints the newest; one is also cut after every ingest\n"
    "  root         the tree's size and root hash (hex), or those of its first N leaves\n"
    "  proof        an inclusion proof for a leaf, or a consistency proof between two sizes,\n"
    "               one hex hash per line after a header line\n"
    "  export       writes the log as C2SP tlog-tiles (hash tiles, entry bundles, the signed\n"
    "               checkpoint) for any static web server; incremental\n"
    "  verify --export  checks such a copy offline with only its checkpoint and the key\n"
    "  witness-request  the C2SP tlog-witness add-checkpoint body for a witness that holds N\n"
    "  cosign       adds a witness's cosignature (its answer) to the newest checkpoint\n";

static int parse_u64(const char *s, uint64_t *out)
{
    long long v;
    if (str_to_ll(s, &v) || v < 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int cmd_log(int argc, char **argv)
{
    if (argc == 0 || wants_help(argc, argv)) {
        fputs(HELP_LOG, argc ? stdout : stderr);
        return argc ? 0 : EXIT_USAGE;
    }
    struct errbuf e;
    if (!strcmp(argv[0], "verify") && argc >= 2) {
        /* offline: an exported copy, its checkpoint and the verifier key, no store */
        const char *exp = NULL, *key = NULL;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "--export") && i + 1 < argc)
                exp = argv[++i];
            else if (!strcmp(argv[i], "--key") && i + 1 < argc)
                key = argv[++i];
            else
                return usage_error("log", "unknown option or missing value: %s", argv[i]);
        }
        if (!exp || !key)
            return usage_error("log", "%s", "verify of a copy needs --export DIR and --key VKEY");
        char vkey[NOTE_VKEY_SIZE];
        uint64_t size;
        struct ledger_hash root;
        int64_t bad;
        if (read_vkey(key, vkey, sizeof vkey, &e))
            return fail(&e);
        if (tiles_verify(exp, vkey, &size, &root, &bad, &e)) {
            fprintf(stderr, "truce: verification of %s FAILED%s: %s\n", exp,
                    bad >= 0 ? "" : " (checkpoint or root)", e.msg);
            return EXIT_REJECTED;
        }
        char hex[LEDGER_HEX_SIZE];
        ledger_hash_hex(&root, hex);
        printf("%s verified offline: %llu entries, the signed checkpoint's root %s\n", exp,
               (unsigned long long)size, hex);
        return 0;
    }
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    store_agreements_free(&ag);
    struct truce_log *log = NULL;
    int rc = 0;
    if (log_open(data_dir, s, &log, &e)) {
        store_close(s);
        return fail(&e);
    }
    struct ledger_tree *t = log_tree(log);
    uint64_t size = ledger_size(t);
    const char *sub = argv[0];
    if (!strcmp(sub, "export")) {
        bool check = argc > 2 && !strcmp(argv[2], "--check");
        if (argc < 2 || argv[1][0] == '-')
            rc = usage_error("log", "%s", "export needs a directory");
        else
            rc = log_export(log, s, argv[1], check);
    } else if (!strcmp(sub, "witness-request")) {
        uint64_t old = 0;
        if (argc == 3 && !strcmp(argv[1], "--old") && !parse_u64(argv[2], &old))
            rc = log_witness_request(log, s, old);
        else
            rc = usage_error("log", "%s", "witness-request needs --old N (0 the first time)");
    } else if (!strcmp(sub, "cosign")) {
        if (argc == 4 && !strcmp(argv[1], "--witness"))
            rc = log_cosign(log, s, argv[2], argv[3]);
        else
            rc = usage_error("log", "%s", "cosign needs --witness VKEY RESPONSE_FILE");
    } else if (!strcmp(sub, "key")) {
        char vkey[512];
        if (log_verifier_key(data_dir, vkey, sizeof vkey, &e))
            rc = fail(&e);
        else
            puts(vkey);
    } else if (!strcmp(sub, "checkpoint")) {
        struct buf note;
        buf_init(&note);
        bool made;
        if (log_checkpoint(log, s, &note, &made, &e))
            rc = fail(&e);
        else
            fwrite(note.p, 1, note.len, stdout);
        buf_reset(&note);
    } else if (!strcmp(sub, "verify")) {
        uint64_t checked;
        int64_t bad, cp_size = -1;
        int crc = 0;
        if (log_verify(log, s, &checked, &bad, &e)) {
            fprintf(stderr, "truce: log verification FAILED: %s\n", e.msg);
            rc = EXIT_REJECTED;
        } else if ((crc = log_checkpoint_verify(log, s, &cp_size, &e)) && crc != ERR_NOTFOUND) {
            fprintf(stderr, "truce: log verification FAILED: checkpoint: %s\n", e.msg);
            rc = EXIT_REJECTED;
        } else {
            if (cp_size >= 0)
                printf("every signed checkpoint verifies with the log's key and matches the tree "
                       "(newest: size %lld)\n",
                       (long long)cp_size);
            struct ledger_hash root;
            char hex[LEDGER_HEX_SIZE];
            if (ledger_root(t, size, &root, &e)) {
                rc = fail(&e);
            } else {
                ledger_hash_hex(&root, hex);
                printf("log verified: %llu leaves recomputed from the stored records match; "
                       "tree size %llu, root %s\n",
                       (unsigned long long)checked, (unsigned long long)size, hex);
            }
        }
    } else if (!strcmp(sub, "root")) {
        uint64_t n = size;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "--size") && i + 1 < argc && !parse_u64(argv[i + 1], &n))
                i++;
            else {
                rc = usage_error("log", "unknown option or bad value: %s", argv[i]);
                goto out;
            }
        }
        struct ledger_hash root;
        char hex[LEDGER_HEX_SIZE];
        if (ledger_root(t, n, &root, &e)) {
            rc = fail(&e);
        } else {
            ledger_hash_hex(&root, hex);
            printf("%llu %s\n", (unsigned long long)n, hex);
        }
    } else if (!strcmp(sub, "proof") && argc >= 2) {
        uint64_t index = UINT64_MAX, n = size, m = UINT64_MAX, obs = UINT64_MAX;
        bool incl = !strcmp(argv[1], "inclusion"), cons = !strcmp(argv[1], "consistency");
        for (int i = 2; i < argc; i++) {
            uint64_t *dst = !strcmp(argv[i], "--index")         ? &index
                            : !strcmp(argv[i], "--size")        ? &n
                            : !strcmp(argv[i], "--new")         ? &n
                            : !strcmp(argv[i], "--old")         ? &m
                            : !strcmp(argv[i], "--observation") ? &obs
                                                                : NULL;
            if (!dst || i + 1 >= argc || parse_u64(argv[i + 1], dst)) {
                rc = usage_error("log", "unknown option or bad value: %s", argv[i]);
                goto out;
            }
            i++;
        }
        struct ledger_hash proof[LEDGER_MAX_PROOF], root;
        size_t np = 0;
        char hex[LEDGER_HEX_SIZE];
        if (incl) {
            if (obs != UINT64_MAX) {
                int64_t li = -1;
                if (store_obs_log_index(s, (int64_t)obs, &li, &e)) {
                    rc = fail(&e);
                    goto out;
                }
                index = (uint64_t)li;
            }
            if (index == UINT64_MAX) {
                rc = usage_error("log", "%s", "proof inclusion needs --index or --observation");
                goto out;
            }
            struct ledger_hash leaf;
            if (ledger_inclusion_proof(t, index, n, proof, &np, &e) ||
                ledger_leaf(t, index, &leaf, &e) || ledger_root(t, n, &root, &e)) {
                rc = fail(&e);
                goto out;
            }
            ledger_hash_hex(&leaf, hex);
            printf("inclusion index %llu size %llu leaf %s", (unsigned long long)index,
                   (unsigned long long)n, hex);
        } else if (cons) {
            if (m == UINT64_MAX) {
                rc = usage_error("log", "%s", "proof consistency needs --old M and --new N");
                goto out;
            }
            struct ledger_hash old_root;
            if (ledger_consistency_proof(t, m, n, proof, &np, &e) ||
                ledger_root(t, m, &old_root, &e) || ledger_root(t, n, &root, &e)) {
                rc = fail(&e);
                goto out;
            }
            ledger_hash_hex(&old_root, hex);
            printf("consistency old %llu new %llu old_root %s", (unsigned long long)m,
                   (unsigned long long)n, hex);
        } else {
            rc = usage_error("log", "unknown proof kind %s (inclusion, consistency)", argv[1]);
            goto out;
        }
        ledger_hash_hex(&root, hex);
        printf(" root %s\n", hex);
        for (size_t i = 0; i < np; i++) {
            ledger_hash_hex(&proof[i], hex);
            puts(hex);
        }
    } else {
        rc = usage_error("log", "unknown subcommand %s", sub);
    }
out:
    log_close(log);
    store_close(s);
    return rc;
}

/* ---- escalation: alerts, subscribers, delivery, webhook verification ---- */

static const char HELP_ALERTS[] =
    "usage: truce alerts [list] [--level LEVEL] [--state open|acknowledged] [--limit N]\n"
    "                    [--format ndjson|text]\n"
    "       truce alerts show ID [--format ndjson|text]\n"
    "       truce alerts ack ID --by NAME\n"
    "       truce alerts evaluate [--all]\n\n"
    "Alerts are raised by the escalation thresholds of the agreement (docs/escalation.md) after\n"
    "every ingest batch: at most once per threshold, group and window. `list` prints them as\n"
    "NDJSON with their state and webhook deliveries (--level: at or above LEVEL, one of notice,\n"
    "warning, serious, guarantee_trigger); `ack` records the first acknowledgement;\n"
    "`evaluate` evaluates the findings stored since the last evaluation (--all: every finding;\n"
    "alerts already raised are not raised again) and signs a checkpoint when alerts were added.\n";

struct alert_print {
    struct store *s;
    struct buf b;
    int rc;
    struct errbuf *e;
};

static int on_alert_text(void *ctx, const struct store_alert *al)
{
    (void)ctx;
    char from[40], to[40];
    time_format_utc(al->window_start_ms, from, sizeof from);
    time_format_utc(al->window_end_ms, to, sizeof to);
    printf("#%lld  %-17s  %s  %s%s%s%s  %s to %s  %lld finding%s  %s\n    %s\n",
           (long long)al->id, al->level, al->threshold, al->region[0] ? "region " : "",
           al->region, al->party[0] ? (al->region[0] ? ", party " : "party ") : "", al->party,
           from, to, al->n_findings, al->n_findings == 1 ? "" : "s",
           al->ack_by ? "acknowledged" : "open", al->text);
    return 0;
}

static int on_alert_print(void *ctx, const struct store_alert *al)
{
    struct alert_print *p = ctx;
    p->b.len = 0;
    int rc = esc_alert_json(p->s, al, true, &p->b, p->e);
    if (!rc)
        printf("%s\n", p->b.p);
    return rc;
}

static int cmd_alerts(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_ALERTS, stdout);
        return 0;
    }
    bool named = argc > 0 && argv[0][0] != '-';
    const char *sub = named ? argv[0] : "list";
    int first = named ? 1 : 0;
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    int rc = 0;
    if (!strcmp(sub, "list") || !strcmp(sub, "show")) {
        long long limit = 0, id = 0;
        bool text = false;
        struct store_alert_filter f = {0, 0, -1, NULL, false, 0, 0, NULL};
        if (!strcmp(sub, "show") && (argc < 2 || str_to_ll(argv[first++], &id) || id < 1))
            rc = usage_error("alerts", "%s", "show needs an alert id");
        for (int i = first; !rc && i < argc; i++) {
            if (!strcmp(argv[i], "--limit") && i + 1 < argc && !str_to_ll(argv[i + 1], &limit) &&
                limit > 0)
                i++;
            else if (!strcmp(argv[i], "--level") && i + 1 < argc &&
                     (f.min_level = agr_esc_level_parse(argv[i + 1])) >= 0)
                i++;
            else if (!strcmp(argv[i], "--state") && i + 1 < argc &&
                     (!strcmp(argv[i + 1], "open") || !strcmp(argv[i + 1], "acknowledged")))
                f.state = argv[++i];
            else if (!strcmp(argv[i], "--format") && i + 1 < argc &&
                     (!strcmp(argv[i + 1], "text") || !strcmp(argv[i + 1], "ndjson")))
                text = !strcmp(argv[++i], "text");
            else
                rc = usage_error("alerts", "unknown option %s", argv[i]);
        }
        struct alert_print p = {s, {0}, 0, &e};
        buf_init(&p.b);
        f.id = id;
        f.limit = limit;
        if (!rc && store_alerts_select(s, &f, text ? on_alert_text : on_alert_print, &p, &e))
            rc = fail(&e);
        buf_reset(&p.b);
    } else if (!strcmp(sub, "ack")) {
        long long id;
        const char *by = NULL;
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], "--by") && i + 1 < argc)
                by = argv[++i];
        bool already;
        if (argc < 2 || str_to_ll(argv[1], &id) || !by || !*by || strlen(by) > 64)
            rc = usage_error("alerts", "%s", "ack needs an alert id and --by NAME (1-64 bytes)");
        else if (store_alert_ack(s, id, by, &already, &e))
            rc = fail(&e);
        else
            printf("alert %lld %s\n", id, already ? "was already acknowledged" : "acknowledged");
    } else if (!strcmp(sub, "evaluate")) {
        bool all = argc > 1 && !strcmp(argv[1], "--all");
        struct truce_log *log = NULL;
        struct esc_stats st;
        if (log_open(data_dir, s, &log, &e) ||
            esc_evaluate(s, ag.v[ag.n - 1], log, all, NULL, &st, &e)) {
            rc = fail(&e);
        } else {
            printf("escalation: %lld finding%s evaluated, %lld window%s counted, %lld alert%s "
                   "raised, %lld webhook%s queued\n",
                   st.findings_seen, st.findings_seen == 1 ? "" : "s", st.candidates,
                   st.candidates == 1 ? "" : "s", st.alerts_raised,
                   st.alerts_raised == 1 ? "" : "s", st.deliveries_queued,
                   st.deliveries_queued == 1 ? "" : "s");
            if (st.alerts_raised)
                cut_checkpoint(log, s, false);
        }
        log_close(log);
    } else {
        rc = usage_error("alerts", "unknown subcommand %s", sub);
    }
    store_agreements_free(&ag);
    store_close(s);
    return rc;
}

static const char HELP_SUBSCRIBER[] =
    "usage: truce subscriber add NAME --url URL [--min-level LEVEL] [--party PARTY]\n"
    "       truce subscriber list\n"
    "       truce subscriber remove NAME\n\n"
    "Subscribers (guarantors, parties) receive every alert at or above LEVEL (notice, warning,\n"
    "serious, guarantee_trigger; default notice) as a signed webhook POST to URL. With --party,\n"
    "only alerts about that party or about no particular party. Removing a subscriber drops its\n"
    "pending deliveries. Webhooks are sent by `truce serve` or `truce deliver`.\n";

static int on_sub_print(void *ctx, const struct store_subscriber *sub)
{
    (void)ctx;
    char t[40];
    time_format_utc(sub->added_ms, t, sizeof t);
    printf("%s\t%s\tmin-level %s\tparty %s\tadded %s\n", sub->name, sub->url, sub->min_level,
           sub->party ? sub->party : "-", t);
    return 0;
}

static int cmd_subscriber(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc < 1) {
        fputs(HELP_SUBSCRIBER, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : 0;
    }
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    int rc = 0;
    if (!strcmp(argv[0], "add")) {
        const char *url = NULL, *level = NULL, *party = NULL, *name = argc > 1 ? argv[1] : NULL;
        for (int i = 2; i < argc && !rc; i++) {
            if (!strcmp(argv[i], "--url") && i + 1 < argc)
                url = argv[++i];
            else if (!strcmp(argv[i], "--min-level") && i + 1 < argc)
                level = argv[++i];
            else if (!strcmp(argv[i], "--party") && i + 1 < argc)
                party = argv[++i];
            else
                rc = usage_error("subscriber", "unknown option or missing value: %s", argv[i]);
        }
        if (!rc && (!name || !url))
            rc = usage_error("subscriber", "%s", "add needs NAME and --url URL");
        if (!rc && esc_subscriber_add(s, ag.v[ag.n - 1], name, url, level, party, &e)) {
            errprefix(&e, "subscriber %s", name);
            rc = fail(&e);
        }
        if (!rc)
            printf("subscriber %s added: alerts at or above %s go to %s\n", name,
                   level ? level : "notice", url);
    } else if (!strcmp(argv[0], "list")) {
        if (store_subscribers_list(s, on_sub_print, NULL, &e))
            rc = fail(&e);
    } else if (!strcmp(argv[0], "remove") && argc == 2) {
        if (store_subscriber_remove(s, argv[1], &e))
            rc = fail(&e);
        else
            printf("subscriber %s removed\n", argv[1]);
    } else {
        rc = usage_error("subscriber", "unknown subcommand or arguments: %s", argv[0]);
    }
    store_agreements_free(&ag);
    store_close(s);
    return rc;
}

static const char HELP_DELIVER[] =
    "usage: truce deliver\n\n"
    "Sends every webhook that is due now, once each, and records the outcome: delivered, or the\n"
    "error and the time of the next attempt (exponential backoff with jitter, first after about\n"
    "5 s, TRUCE_WEBHOOK_RETRY_BASE_MS to change it). For installations without `truce serve`,\n"
    "which delivers continuously; run it from cron or a timer.\n";

static int cmd_deliver(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_DELIVER, stdout);
        return 0;
    }
    if (argc)
        return usage_error("deliver", "unknown argument %s", argv[0]);
    struct errbuf e;
    struct store *s;
    if (store_open(data_dir, false, &s, &e))
        return fail(&e);
    struct esc_delivery_stats st;
    int rc = esc_deliver_due(data_dir, s, NULL, &st, &e);
    store_close(s);
    if (rc)
        return fail(&e);
    printf("webhooks: %lld attempted, %lld delivered, %lld to retry, %lld failed\n", st.attempted,
           st.delivered, st.retried, st.failed);
    return st.retried || st.failed ? EXIT_REJECTED : 0;
}

static const char HELP_WEBHOOK[] =
    "usage: truce webhook verify --key VKEY --sig HEADER [FILE]\n\n"
    "Checks a received webhook: HEADER is the value of its Truce-Signature header, VKEY the\n"
    "instance's verifier key (`truce log key` on the instance), FILE (or standard input) the\n"
    "exact body bytes. Exit 0 and \"valid\" when the body was signed by that key, else 1.\n";

static int cmd_webhook(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_WEBHOOK, stdout);
        return 0;
    }
    const char *key = NULL, *sig = NULL, *file = NULL;
    if (argc < 1 || strcmp(argv[0], "verify"))
        return usage_error("webhook", "%s", "the subcommand is verify");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--sig") && i + 1 < argc)
            sig = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage_error("webhook", "unknown option %s", argv[i]);
    }
    if (!key || !sig)
        return usage_error("webhook", "%s", "verify needs --key VKEY and --sig HEADER");
    struct errbuf e;
    char *body = NULL;
    size_t len = 0;
    if (file) {
        if (file_read(file, LIMIT_FILE_BYTES, &body, &len, &e))
            return fail(&e);
    } else {
        struct buf b;
        buf_init(&b);
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            if (b.len + n > LIMIT_FILE_BYTES || buf_append(&b, chunk, n)) {
                buf_reset(&b);
                fprintf(stderr, "truce: the body is over %u bytes\n", LIMIT_FILE_BYTES);
                return EXIT_FAIL;
            }
        body = b.p;
        len = b.len;
    }
    int rc = esc_webhook_verify(key, sig, body ? body : "", len, &e);
    free(body);
    if (rc) {
        printf("invalid: %s\n", e.msg);
        return EXIT_REJECTED;
    }
    puts("valid");
    return 0;
}

/* ---- review ---- */

static const char HELP_REVIEW[] =
    "usage: truce review FINDING_ID --action confirm|dismiss|dispute|publish --role ROLE\n"
    "                    --reason TEXT [--as NAME] [--party PARTY]\n\n"
    "One step of the review of a finding (docs/dashboard.md): an analyst confirms or dismisses a\n"
    "provisional finding (or revisits one) with a reason; a publisher publishes a confirmed one;\n"
    "a party disputes a finding about its own side (--party) with a statement (--reason). Each\n"
    "step is allowed only to its role, recorded with who (--as, default $USER), the role, when\n"
    "and why, and appended to the transparency log. The command line acts for the local\n"
    "operator, who names the role; over HTTP the role is the authenticated user's.\n";

static int cmd_review(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_REVIEW, stdout);
        return 0;
    }
    struct review_request r = {0};
    const char *id = NULL;
    r.actor = getenv("USER");
    if (!r.actor || !*r.actor)
        r.actor = "operator";
    for (int i = 0; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--action")   ? &r.action
                           : !strcmp(argv[i], "--role")   ? &r.role
                           : !strcmp(argv[i], "--reason") ? &r.text
                           : !strcmp(argv[i], "--as")     ? &r.actor
                           : !strcmp(argv[i], "--party")  ? &r.party
                                                          : NULL;
        if (dst && i + 1 < argc)
            *dst = argv[++i];
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else
            return usage_error("review", "unknown option or missing value: %s", argv[i]);
    }
    long long fid;
    if (!id || str_to_ll(id, &fid) || fid < 1)
        return usage_error("review", "%s", "needs a finding id (a positive number)");
    if (!r.action || !r.role)
        return usage_error("review", "%s", "needs --action and --role");
    r.finding_id = fid;
    struct errbuf e;
    struct store *s;
    struct store_agreements ag;
    if (open_store(&s, &ag, &e))
        return fail(&e);
    struct truce_log *log = NULL;
    int rc = log_open(data_dir, s, &log, &e);
    int64_t rid = 0;
    char to[16];
    if (!rc)
        rc = review_apply(log, s, &r, &rid, to, sizeof to, &e);
    if (!rc) {
        printf("finding %lld: %s by %s (%s): now %s (review %lld, log leaf %lld)\n", fid,
               r.action, r.actor, r.role, to, (long long)rid, (long long)store_log_size(s) - 1);
        cut_checkpoint(log, s, false);
    }
    log_close(log);
    store_agreements_free(&ag);
    store_close(s);
    return rc ? fail(&e) : 0;
}

/* ---- serve ---- */

static const char HELP_SERVE[] =
    "usage: truce serve [--config FILE] [--listen HOST:PORT] [--log-level LEVEL]\n"
    "                   [--max-connections N] [--timeout-s N] [--header-bytes N]\n"
    "                   [--body-bytes N] [--threads N] [--drain-ms N] [--print-routes]\n"
    "                   [--web DIR]\n\n"
    "Serves the HTTP API (docs/api.md) over the data directory until SIGINT or SIGTERM, then\n"
    "lets requests in flight finish and exits 0. Settings come from the flags, else the\n"
    "key = value file given with --config (keys: data, listen, log_level, max_connections,\n"
    "timeout_s, header_bytes, body_bytes, threads, drain_ms; docs/operations.md), else the\n"
    "defaults (--listen 127.0.0.1:8080). The data directory: --data, else the file's data, else\n"
    "$TRUCE_DATA, else ./truce-data. Logs: one JSON line per request and event on stderr.\n"
    "--print-routes prints the route table (method, path, the roles each route admits).\n"
    "The dashboard (docs/dashboard.md) is served at / from --web DIR, by default the web build\n"
    "next to the program (web/dist, made by `make web`); the public page is at /public.\n";

/* The route table: "METHOD PATTERN role,role,..." (every role the route admits; "public"
 * means no token is needed), one route a line. Tests walk it. */
static int print_routes(void)
{
    for (size_t i = 0; i < api_route_count(); i++) {
        const char *method, *pattern;
        unsigned roles;
        api_route_get(i, &method, &pattern, &roles);
        printf("%s %s ", method, pattern);
        for (int r = 0, k = 0; r < AUTH_N_ROLES; r++)
            if (api_route_allows(roles, (enum auth_role)r))
                printf("%s%s", k++ ? "," : "", auth_role_name((enum auth_role)r));
        putchar('\n');
    }
    return 0;
}

static volatile sig_atomic_t serve_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    serve_stop = 1;
}

static int cmd_serve(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_SERVE, stdout);
        return 0;
    }
    struct server_config cfg;
    server_config_default(&cfg);
    struct errbuf e;
    /* the file first, then the flags over it */
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc)
                return usage_error("serve", "%s", "--config needs a file");
            if (server_config_load(argv[i + 1], &cfg, &e)) {
                fprintf(stderr, "truce serve: %s\n", e.msg);
                return EXIT_USAGE;
            }
        }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--web") && i + 1 < argc) {
            server_set_web_dir(argv[++i]);
            continue;
        }
        if (!strcmp(argv[i], "--print-routes"))
            return print_routes();
        if (!strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) || i + 1 >= argc || !strcmp(argv[i], "--data"))
            return usage_error("serve", "unknown option or missing value: %s", argv[i]);
        if (server_config_set(&cfg, argv[i] + 2, argv[i + 1], &e)) {
            fprintf(stderr, "truce serve: --%s\n(see `truce serve --help`)\n", e.msg);
            return EXIT_USAGE;
        }
        i++;
    }
    if (data_dir_given || !cfg.data[0])
        str_copy(cfg.data, sizeof cfg.data, data_dir);
    /* no SA_RESTART: the signal must interrupt the server's wait so it sees the stop flag */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is an error return, not a signal */
    return server_run(&cfg, &serve_stop) ? EXIT_FAIL : 0;
}

int main(int argc, char **argv)
{
    data_dir = getenv("TRUCE_DATA");
    if (!data_dir || !*data_dir)
        data_dir = "./truce-data";
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data_dir = argv[++i], data_dir_given = true;
        else if (!strncmp(argv[i], "--data=", 7))
            data_dir = argv[i] + 7, data_dir_given = true;
        else
            break;
    }
    if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
        !strcmp(argv[i], "help")) {
        fputs(USAGE, i >= argc ? stderr : stdout);
        return i >= argc ? EXIT_USAGE : 0;
    }
    /* --data may also follow the command */
    int n = 0;
    char **rest = argv + i + 1;
    int nrest = argc - i - 1;
    for (int k = 0; k < nrest; k++) {
        if (!strcmp(rest[k], "--data") && k + 1 < nrest) {
            data_dir = rest[++k];
            data_dir_given = true;
            continue;
        }
        rest[n++] = rest[k];
    }
    const char *cmd = argv[i];
    if (!strcmp(cmd, "init"))
        return cmd_init(n, rest);
    if (!strcmp(cmd, "agreement"))
        return cmd_agreement(n, rest);
    if (!strcmp(cmd, "ingest"))
        return cmd_ingest(n, rest);
    if (!strcmp(cmd, "observations"))
        return cmd_list(n, rest, false);
    if (!strcmp(cmd, "findings"))
        return cmd_list(n, rest, true);
    if (!strcmp(cmd, "report"))
        return cmd_report(n, rest);
    if (!strcmp(cmd, "place"))
        return cmd_place(n, rest);
    if (!strcmp(cmd, "fuse"))
        return cmd_fuse(n, rest);
    if (!strcmp(cmd, "incidents"))
        return cmd_incidents(n, rest);
    if (!strcmp(cmd, "log"))
        return cmd_log(n, rest);
    if (!strcmp(cmd, "witness"))
        return cmd_witness(n, rest);
    if (!strcmp(cmd, "user"))
        return auth_cli_user(data_dir, n, rest);
    if (!strcmp(cmd, "audit"))
        return auth_cli_audit(data_dir, n, rest);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(n, rest);
    if (!strcmp(cmd, "simulate"))
        return sim_cmd_simulate(n, rest);
    if (!strcmp(cmd, "evaluate"))
        return sim_cmd_evaluate(n, rest);
    if (!strcmp(cmd, "alerts"))
        return cmd_alerts(n, rest);
    if (!strcmp(cmd, "subscriber"))
        return cmd_subscriber(n, rest);
    if (!strcmp(cmd, "deliver"))
        return cmd_deliver(n, rest);
    if (!strcmp(cmd, "webhook"))
        return cmd_webhook(n, rest);
    if (!strcmp(cmd, "review"))
        return cmd_review(n, rest);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        puts("truce 0.1.0");
        return 0;
    }
    fprintf(stderr, "truce: unknown command \"%s\"\n\n%s", cmd, USAGE);
    return EXIT_USAGE;
}
