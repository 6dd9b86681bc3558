/* auth.h: who may use truce's API: the roles, API users with bearer tokens (only a token's
 * SHA-256 is stored; the token itself is shown once, when the user is added), parsing of the
 * Authorization header (RFC 6750 Bearer), turning a request's header into the user it stands for,
 * and the audit trail of writes (who, when, what, result). docs/api.md states the policy: which
 * role may use which route is data, in the route table of src/api/api.c.
 *
 * Depends on store (users and audit tables) and libsodium (random tokens, SHA-256, constant-time
 * comparison); knows nothing of HTTP. */
#ifndef TRUCE_AUTH_H
#define TRUCE_AUTH_H
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"
#include "util/util.h"

#define AUTH_TOKEN_PREFIX "truce_"   /* every token starts with it (easy to spot in a leak) */
#define AUTH_TOKEN_RANDOM_BYTES 32   /* random bytes in a token */
#define AUTH_TOKEN_SIZE 64           /* bytes of a token as made here, with the NUL */
#define AUTH_TOKEN_MAX 256           /* bytes of the longest bearer token accepted */
#define AUTH_HEADER_MAX 1024         /* bytes of the longest Authorization header accepted */
#define AUTH_HASH_HEX_SIZE 65        /* a SHA-256 in hex, with the NUL */
#define AUTH_NAME_MAX (STORE_USER_NAME_SIZE - 1) /* bytes of a user name */

/* The roles (docs/api.md). PUBLIC is what a request without a token is; a user may also be given
 * it (a named account with public rights). ADMIN manages users and reads metrics and the audit
 * trail. */
enum auth_role {
    AUTH_PUBLIC,
    AUTH_MONITOR,   /* submits observations */
    AUTH_ANALYST,   /* reads everything, reviews; reads the audit trail */
    AUTH_PUBLISHER, /* publishes the daily report and findings */
    AUTH_PARTY,     /* a party's liaison: bound to one party id of the agreement */
    AUTH_GUARANTOR, /* reads findings and observations, verifies the record */
    AUTH_ADMIN,     /* operates the instance */
    AUTH_N_ROLES
};
#define AUTH_BIT(role) (1u << (role))
#define AUTH_ALL_ROLES ((1u << AUTH_N_ROLES) - 1u)

/* The role's name ("monitor"), "?" for a value out of range. */
const char *auth_role_name(enum auth_role r);
/* The role called name (exact, lower case). Returns 0 or ERR_INVAL. */
int auth_role_parse(const char *name, enum auth_role *out) WUR;

/* Who a request or command acts as. */
struct auth_principal {
    bool authenticated;   /* false: no token was sent (the public) */
    enum auth_role role;
    char name[STORE_USER_NAME_SIZE];  /* "-" for the public */
    char party[STORE_USER_NAME_SIZE]; /* the party a party user is bound to, else "" */
};
/* The principal of a request without a token. */
void auth_public(struct auth_principal *p);

/* Makes a new token AUTH_TOKEN_PREFIX + base64url (no padding) of AUTH_TOKEN_RANDOM_BYTES random
 * bytes into token, and its hash into hash_hex. Returns 0 or ERR_IO (no randomness). */
int auth_token_new(char token[AUTH_TOKEN_SIZE], char hash_hex[AUTH_HASH_HEX_SIZE]) WUR;
/* The lower-case hex SHA-256 of the len bytes of token. */
void auth_token_hash(const char *token, size_t len, char hash_hex[AUTH_HASH_HEX_SIZE]);

/* Parses an Authorization header value of len bytes (RFC 6750 section 2.1: "Bearer", one or
 * more spaces, a b64token of 1..AUTH_TOKEN_MAX characters from [A-Za-z0-9-._~+/] then any '=',
 * optional trailing spaces or tabs; the scheme is case-insensitive). *token points into header.
 * Errors: ERR_TOOBIG (header above AUTH_HEADER_MAX, token above AUTH_TOKEN_MAX), ERR_INVAL
 * (another scheme), ERR_PARSE (shape); e says which. */
int auth_bearer_parse(const char *header, size_t len, const char **token, size_t *token_len,
                      struct errbuf *e) WUR;

/* The principal for a request's Authorization header (NULL: none was sent, the public).
 * Errors: the parse errors above, and ERR_NOTFOUND when no active user has the token; the
 * caller answers those with 401. ERR_DB when the store failed (500). */
int auth_authenticate(struct store *s, const char *authorization, struct auth_principal *out,
                      struct errbuf *e) WUR;

/* The principals of the tokens seen lately, so that a busy client's every request is not a
 * lookup in the users table: keyed by the token's SHA-256 (as the table is), emptied whenever
 * the store's data version says another connection changed the store (`truce user add` or
 * `revoke` beside a running server take effect at the next request). Only found users are
 * kept. One thread at a time. */
#define AUTH_CACHE_SLOTS 256
struct auth_cache {
    int64_t version;
    bool primed;
    struct {
        bool used;
        char hash_hex[AUTH_HASH_HEX_SIZE];
        struct auth_principal who;
    } slot[AUTH_CACHE_SLOTS];
};
void auth_cache_init(struct auth_cache *c);
/* auth_authenticate through cache c (same results and errors). */
int auth_authenticate_cached(struct auth_cache *c, struct store *s, const char *authorization,
                             struct auth_principal *out, struct errbuf *e) WUR;

/* Adds the user name with role (and party, required for and only for the party role, which must
 * be the id of a party in some stored agreement version of ag) and writes the new token, to be
 * shown once, into token. Names are 1..AUTH_NAME_MAX bytes of [A-Za-z0-9._@-].
 * Errors: ERR_INVAL (name, role, party), ERR_CONFLICT (name taken), ERR_IO, ERR_DB. */
int auth_user_add(struct store *s, const struct store_agreements *ag, const char *name,
                  const char *role, const char *party, char token[AUTH_TOKEN_SIZE],
                  struct errbuf *e) WUR;

/* The actor of a command-line write: "cli:" and the login name ($USER, else the uid). */
void auth_cli_actor(char *out, size_t n);
/* Appends to the audit trail an entry at the current time (store_audit_add). */
int auth_audit(struct store *s, const char *actor, const char *role, const char *action,
               const char *target, int status, const char *result, struct errbuf *e) WUR;

/* ---- commands (auth_cli.c); each returns the CLI's exit status ---- */

/* `truce user add|list|revoke ...` on the store in data_dir (argv without "user"). */
int auth_cli_user(const char *data_dir, int argc, char **argv);
/* `truce audit [--after ID] [--limit N]`. */
int auth_cli_audit(const char *data_dir, int argc, char **argv);
/* Records a command-line write (failed: 0 done, 1 failed) in the audit trail of store s, with
 * actor auth_cli_actor and role "cli". Returns 0, or 3 after printing why it could not. */
int auth_cli_record(struct store *s, const char *action, const char *target, int failed,
                    const char *result);

#endif
