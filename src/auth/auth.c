/* auth.c: roles, bearer tokens (made from libsodium's randomness, stored as SHA-256 hashes),
 * the Authorization header parser, authentication of a request against the users table, adding
 * users, and audit entries. No token is ever logged or stored in clear. */
#include "auth/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const ROLE_NAMES[AUTH_N_ROLES] = {
    "public", "monitor", "analyst", "publisher", "party", "guarantor", "admin",
};

const char *auth_role_name(enum auth_role r)
{
    return (unsigned)r < AUTH_N_ROLES ? ROLE_NAMES[r] : "?";
}

int auth_role_parse(const char *name, enum auth_role *out)
{
    for (int i = 0; i < AUTH_N_ROLES; i++)
        if (name && !strcmp(name, ROLE_NAMES[i])) {
            *out = (enum auth_role)i;
            return 0;
        }
    return ERR_INVAL;
}

void auth_public(struct auth_principal *p)
{
    memset(p, 0, sizeof *p);
    p->role = AUTH_PUBLIC;
    str_copy(p->name, sizeof p->name, "-");
}

void auth_token_hash(const char *token, size_t len, char hash_hex[AUTH_HASH_HEX_SIZE])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, len);
    sodium_bin2hex(hash_hex, AUTH_HASH_HEX_SIZE, h, sizeof h);
}

int auth_token_new(char token[AUTH_TOKEN_SIZE], char hash_hex[AUTH_HASH_HEX_SIZE])
{
    if (sodium_init() < 0)
        return ERR_IO;
    unsigned char r[AUTH_TOKEN_RANDOM_BYTES];
    randombytes_buf(r, sizeof r);
    size_t pre = strlen(AUTH_TOKEN_PREFIX);
    _Static_assert(sizeof AUTH_TOKEN_PREFIX - 1 +
                           sodium_base64_ENCODED_LEN(AUTH_TOKEN_RANDOM_BYTES,
                                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
                       AUTH_TOKEN_SIZE,
                   "AUTH_TOKEN_SIZE holds a token");
    memcpy(token, AUTH_TOKEN_PREFIX, pre);
    sodium_bin2base64(token + pre, AUTH_TOKEN_SIZE - pre, r, sizeof r,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(r, sizeof r);
    auth_token_hash(token, strlen(token), hash_hex);
    return 0;
}

static bool b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int auth_bearer_parse(const char *header, size_t len, const char **token, size_t *token_len,
                      struct errbuf *e)
{
    static const char SCHEME[] = "Bearer";
    const size_t ns = sizeof SCHEME - 1;
    if (len > AUTH_HEADER_MAX)
        return errf(e, ERR_TOOBIG, "Authorization header: longer than %d bytes", AUTH_HEADER_MAX);
    if (len < ns || strncasecmp(header, SCHEME, ns) || (len > ns && header[ns] != ' '))
        return errf(e, len > ns && memchr(header, ' ', len) ? ERR_INVAL : ERR_PARSE,
                    "Authorization header: expected \"Bearer TOKEN\"");
    size_t i = ns;
    while (i < len && header[i] == ' ')
        i++;
    size_t start = i;
    while (i < len && b64token_char((unsigned char)header[i]))
        i++;
    if (i == start)
        return errf(e, ERR_PARSE, "Authorization header: the token is missing");
    while (i < len && header[i] == '=')
        i++;
    size_t end = i;
    while (i < len && (header[i] == ' ' || header[i] == '\t'))
        i++;
    if (i != len)
        return errf(e, ERR_PARSE, "Authorization header: character %zu of the token is not "
                                  "allowed in a bearer token", i - start + 1);
    if (end - start > AUTH_TOKEN_MAX)
        return errf(e, ERR_TOOBIG, "Authorization header: the token is longer than %d bytes",
                    AUTH_TOKEN_MAX);
    *token = header + start;
    *token_len = end - start;
    return 0;
}

void auth_cache_init(struct auth_cache *c)
{
    memset(c, 0, sizeof *c);
}

static unsigned cache_slot(const char *hex)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = hex[i];
        v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
    }
    return v % AUTH_CACHE_SLOTS;
}

/* The principal of an Authorization header, through cache c (NULL: none). */
static int authenticate(struct auth_cache *c, struct store *s, const char *authorization,
                        struct auth_principal *out, struct errbuf *e)
{
    auth_public(out);
    if (!authorization)
        return 0;
    const char *tok;
    size_t n;
    int rc = auth_bearer_parse(authorization, strnlen(authorization, AUTH_HEADER_MAX + 1), &tok,
                               &n, e);
    if (rc)
        return rc;
    /* The lookup is by the token's SHA-256, so nothing compares the secret itself byte by
     * byte: the index search (or the cache's comparison) can at most leak how much of a hash
     * prefix matched, which says nothing usable about any token (finding a token for a chosen
     * hash prefix is a preimage search). */
    char hex[AUTH_HASH_HEX_SIZE];
    auth_token_hash(tok, n, hex);
    unsigned k = 0;
    if (c) {
        int64_t version;
        if ((rc = store_data_version(s, &version, e)))
            return rc;
        if (!c->primed || version != c->version) {
            auth_cache_init(c);
            c->version = version;
            c->primed = true;
        }
        k = cache_slot(hex);
        if (c->slot[k].used && !strcmp(c->slot[k].hash_hex, hex)) {
            *out = c->slot[k].who;
            return 0;
        }
    }
    struct store_user u;
    rc = store_user_by_token(s, hex, &u, e);
    if (rc == ERR_NOTFOUND)
        return errf(e, ERR_NOTFOUND, "the token is unknown or was revoked");
    if (rc)
        return rc;
    enum auth_role role;
    if (auth_role_parse(u.role, &role))
        return errf(e, ERR_NOTFOUND, "user %s has an unknown role %s", u.name, u.role);
    out->authenticated = true;
    out->role = role;
    str_copy(out->name, sizeof out->name, u.name);
    str_copy(out->party, sizeof out->party, u.party);
    if (c) {
        c->slot[k].used = true;
        memcpy(c->slot[k].hash_hex, hex, sizeof hex);
        c->slot[k].who = *out;
    }
    return 0;
}

int auth_authenticate(struct store *s, const char *authorization, struct auth_principal *out,
                      struct errbuf *e)
{
    return authenticate(NULL, s, authorization, out, e);
}

int auth_authenticate_cached(struct auth_cache *c, struct store *s, const char *authorization,
                             struct auth_principal *out, struct errbuf *e)
{
    return authenticate(c, s, authorization, out, e);
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > AUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

static bool party_known(const struct store_agreements *ag, const char *party)
{
    for (size_t v = 0; v < ag->n; v++)
        for (size_t i = 0; i < ag->v[v]->n_parties; i++)
            if (!strcmp(ag->v[v]->parties[i].id, party))
                return true;
    return false;
}

int auth_user_add(struct store *s, const struct store_agreements *ag, const char *name,
                  const char *role, const char *party, char token[AUTH_TOKEN_SIZE],
                  struct errbuf *e)
{
    enum auth_role r;
    if (!name_ok(name))
        return errf(e, ERR_INVAL, "user name \"%.80s\": 1 to %d characters of A-Z a-z 0-9 . _ @ -",
                    name, AUTH_NAME_MAX);
    if (auth_role_parse(role, &r))
        return errf(e, ERR_INVAL, "role \"%.40s\": one of public, monitor, analyst, publisher, "
                                  "party, guarantor, admin", role ? role : "");
    if (r == AUTH_PARTY && (!party || !*party))
        return errf(e, ERR_INVAL, "role party needs --party PARTY (a party id of the agreement)");
    if (r != AUTH_PARTY && party)
        return errf(e, ERR_INVAL, "--party is only for the role party, not %s", role);
    if (party && !party_known(ag, party))
        return errf(e, ERR_INVAL, "party \"%.80s\" is not a party of the agreement", party);
    struct store_user u = {.created_ms = time_now_ms()};
    str_copy(u.name, sizeof u.name, name);
    str_copy(u.role, sizeof u.role, role);
    str_copy(u.party, sizeof u.party, party ? party : "");
    char hex[AUTH_HASH_HEX_SIZE];
    if (auth_token_new(token, hex))
        return errf(e, ERR_IO, "no random bytes for a token");
    int rc = store_user_add(s, &u, hex, e);
    if (rc)
        sodium_memzero(token, AUTH_TOKEN_SIZE);
    return rc;
}

void auth_cli_actor(char *out, size_t n)
{
    const char *user = getenv("USER");
    char uid[24];
    if (!user || !*user) {
        snprintf(uid, sizeof uid, "uid%lu", (unsigned long)getuid());
        user = uid;
    }
    str_join(out, n, "cli:", user, NULL);
}

int auth_audit(struct store *s, const char *actor, const char *role, const char *action,
               const char *target, int status, const char *result, struct errbuf *e)
{
    struct store_audit a = {.t_ms = time_now_ms(),
                            .actor = actor,
                            .role = role,
                            .action = action,
                            .target = target,
                            .status = status,
                            .result = result};
    return store_audit_add(s, &a, e);
}
