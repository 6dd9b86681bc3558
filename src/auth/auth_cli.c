/* auth_cli.c: the `truce user` and `truce audit` commands (their bodies live here so the CLI's
 * dispatch stays small): add a user and print its token once, list users, revoke one, print the
 * audit trail. Every user change is itself audited. */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2
#define EXIT_FAIL 3

static const char HELP_USER[] =
    "usage: truce user add NAME --role ROLE [--party PARTY]\n"
    "       truce user list\n"
    "       truce user revoke NAME\n\n"
    "API users (docs/api.md). add prints the user's bearer token once: it is not stored, only\n"
    "its SHA-256 is, so a lost token is replaced by revoking the user and adding another.\n"
    "Roles: public, monitor, analyst, publisher, party (needs --party, a party id of the\n"
    "agreement), guarantor, admin. revoke stops the user's token at once, also on a running\n"
    "server. Names are never reused.\n";

static const char HELP_AUDIT[] =
    "usage: truce audit [--after ID] [--limit N]\n\n"
    "Prints the audit trail, oldest first, one entry per line: id, time (UTC), actor, role,\n"
    "action, target, status, result. Writes through the API (status: the HTTP status) and\n"
    "`truce user`, `truce agreement add` and `truce ingest` (status 0: done, 1: failed) are\n"
    "recorded.\n";

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

static int cli_audit(struct store *s, const char *action, const char *target, int failed,
                     const char *result)
{
    char actor[STORE_USER_NAME_SIZE];
    auth_cli_actor(actor, sizeof actor);
    struct errbuf e;
    if (auth_audit(s, actor, "cli", action, target, failed, result, &e)) {
        fprintf(stderr, "truce: the audit trail was not written: %s\n", e.msg);
        return EXIT_FAIL;
    }
    return 0;
}

int auth_cli_record(struct store *s, const char *action, const char *target, int failed,
                    const char *result)
{
    return cli_audit(s, action, target, failed, result);
}

static int print_user(void *ctx, const struct store_user *u)
{
    (void)ctx;
    char created[40], revoked[40] = "";
    time_format_utc(u->created_ms, created, sizeof created);
    if (u->revoked_ms != TIME_NONE)
        time_format_utc(u->revoked_ms, revoked, sizeof revoked);
    printf("%-20s %-10s %-8s added %s%s%s\n", u->name, u->role, u->party[0] ? u->party : "-",
           created, revoked[0] ? ", revoked " : "", revoked);
    return 0;
}

static int user_add(struct store *s, int argc, char **argv)
{
    const char *role = NULL, *party = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--role") && i + 1 < argc)
            role = argv[++i];
        else if (!strcmp(argv[i], "--party") && i + 1 < argc)
            party = argv[++i];
        else {
            fprintf(stderr, "truce user: unknown option or missing value: %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!role) {
        fputs("truce user: add needs --role ROLE\n(see `truce user --help`)\n", stderr);
        return EXIT_USAGE;
    }
    struct store_agreements ag;
    struct errbuf e;
    if (store_agreements_load(s, &ag, &e)) {
        fprintf(stderr, "truce: %s\n", e.msg);
        return EXIT_FAIL;
    }
    char token[AUTH_TOKEN_SIZE], result[200];
    int rc = auth_user_add(s, &ag, argv[1], role, party, token, &e);
    store_agreements_free(&ag);
    if (rc) {
        fprintf(stderr, "truce: %s\n", e.msg);
        (void)cli_audit(s, "user add", argv[1], 1, e.msg);
        return rc == ERR_INVAL || rc == ERR_CONFLICT ? EXIT_REJECTED : EXIT_FAIL;
    }
    snprintf(result, sizeof result, "role %s%s%s", role, party ? ", party " : "",
             party ? party : "");
    int arc = cli_audit(s, "user add", argv[1], 0, result);
    printf("%s\n", token);
    fprintf(stderr, "user %s added (%s). The token above is shown only now: keep it secret.\n",
            argv[1], result);
    memset(token, 0, sizeof token);
    return arc;
}

int auth_cli_user(const char *data_dir, int argc, char **argv)
{
    if (argc == 0 || wants_help(argc, argv)) {
        fputs(HELP_USER, argc ? stdout : stderr);
        return argc ? 0 : EXIT_USAGE;
    }
    const char *sub = argv[0];
    bool add = !strcmp(sub, "add"), list = !strcmp(sub, "list"), revoke = !strcmp(sub, "revoke");
    if (!add && !list && !revoke) {
        fprintf(stderr, "truce user: unknown subcommand %s\n(see `truce user --help`)\n", sub);
        return EXIT_USAGE;
    }
    if ((add && argc < 2) || (revoke && argc != 2) || (list && argc != 1)) {
        fputs("truce user: wrong arguments\n(see `truce user --help`)\n", stderr);
        return EXIT_USAGE;
    }
    struct store *s;
    struct errbuf e;
    if (store_open(data_dir, false, &s, &e)) {
        fprintf(stderr, "truce: %s\n", e.msg);
        return EXIT_FAIL;
    }
    int rc = 0;
    if (add) {
        rc = user_add(s, argc, argv);
    } else if (list) {
        if (store_users_each(s, print_user, NULL, &e)) {
            fprintf(stderr, "truce: %s\n", e.msg);
            rc = EXIT_FAIL;
        }
    } else {
        int rrc = store_user_revoke(s, argv[1], time_now_ms(), &e);
        if (rrc) {
            fprintf(stderr, "truce: %s\n", e.msg);
            rc = rrc == ERR_NOTFOUND || rrc == ERR_CONFLICT ? EXIT_REJECTED : EXIT_FAIL;
        } else {
            printf("user %s revoked: its token no longer works\n", argv[1]);
        }
        int arc = cli_audit(s, "user revoke", argv[1], rrc ? 1 : 0, rrc ? e.msg : "revoked");
        if (!rc)
            rc = arc;
    }
    store_close(s);
    return rc;
}

static int print_audit(void *ctx, const struct store_audit *a)
{
    (void)ctx;
    char t[40];
    time_format_utc(a->t_ms, t, sizeof t);
    printf("%lld %s %s %s \"%s\" %s %d %s\n", (long long)a->id, t, a->actor, a->role, a->action,
           a->target, a->status, a->result);
    return 0;
}

int auth_cli_audit(const char *data_dir, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(HELP_AUDIT, stdout);
        return 0;
    }
    long long after = 0, limit = 0;
    for (int i = 0; i < argc; i++) {
        long long *dst = !strcmp(argv[i], "--after") ? &after
                         : !strcmp(argv[i], "--limit") ? &limit
                                                       : NULL;
        if (!dst || i + 1 >= argc || str_to_ll(argv[i + 1], dst) || *dst < 0) {
            fprintf(stderr, "truce audit: unknown option or bad value: %s\n", argv[i]);
            return EXIT_USAGE;
        }
        i++;
    }
    struct store *s;
    struct errbuf e;
    if (store_open(data_dir, false, &s, &e)) {
        fprintf(stderr, "truce: %s\n", e.msg);
        return EXIT_FAIL;
    }
    int rc = 0;
    if (store_audit_each(s, after, limit, print_audit, NULL, &e)) {
        fprintf(stderr, "truce: %s\n", e.msg);
        rc = EXIT_FAIL;
    }
    store_close(s);
    return rc;
}
