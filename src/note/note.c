/* note.c: signed notes, checkpoints and cosignatures (see note.h): key strings, key IDs,
 * signing and opening notes, the checkpoint body, Ed25519 cosignature/v1 lines, key files.
 *
 * Every parser works on (pointer, length) input that may hold any bytes; nothing assumes NUL
 * termination of the input. libsodium provides Ed25519, SHA-256, base64 (strict: padding
 * required, non-zero trailing bits rejected) and memory wiping. */
#include "note/note.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PK_BYTES crypto_sign_PUBLICKEYBYTES  /* 32 */
#define SIG_BYTES crypto_sign_BYTES          /* 64 */
#define SEED_BYTES crypto_sign_SEEDBYTES     /* 32 */
#define COSIG_BYTES (8 + SIG_BYTES)          /* timestamp || Ed25519 signature */
#define TIMESTAMP_MAX ((uint64_t)INT64_MAX) /* tlog-cosignature: at most 2^63 - 1 */
#define EM_DASH "\xe2\x80\x94"              /* U+2014 */
#define COSIG_HEADER "cosignature/v1\n"

struct note_verifier {
    char name[NOTE_NAME_MAX + 1];
    uint8_t type;
    uint32_t keyid;
    unsigned char pk[PK_BYTES];
};

struct note_signer {
    struct note_verifier pub;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

/* ---- libsodium start-up ---- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_start(void)
{
    sodium_ok = sodium_init() >= 0;
}

static int crypto_ready(struct errbuf *e)
{
    pthread_once(&sodium_once, sodium_start);
    return sodium_ok ? 0 : errf(e, ERR_IO, "libsodium could not be initialised");
}

void note_wipe(void *p, size_t n)
{
    if (p && n)
        sodium_memzero(p, n);
}

/* ---- text rules ---- */

/* Length of the valid UTF-8 sequence at p (n bytes available) with its code point in *cp, or 0
 * when the bytes are not valid UTF-8 (overlong forms, surrogates and values above U+10FFFF are
 * invalid, as in Go's utf8.DecodeRune). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        *cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        *cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        unsigned char d = p[i];
        if (i == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF))
            return 0;
        *cp = (*cp << 6) | (d & 0x3F);
    }
    return len;
}

/* Unicode white space as Go's unicode.IsSpace. */
static bool is_space(uint32_t cp)
{
    switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

/* Offset of the first byte that breaks the note rules (valid UTF-8, no control character other
 * than newline), or n when there is none. */
static size_t text_bad_at(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        if (p[i] >= 0x20 && p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_next(p + i, n - i, &cp);
        if (!k || (cp < 0x20 && cp != '\n'))
            return i;
        i += k;
    }
    return n;
}

static bool name_valid_n(const char *name, size_t n)
{
    const unsigned char *p = (const unsigned char *)name;
    if (n == 0 || n > NOTE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_next(p + i, n - i, &cp);
        if (!k || cp < 0x20 || cp == '+' || is_space(cp))
            return false;
        i += k;
    }
    return true;
}

bool note_name_valid(const char *name)
{
    return name && name_valid_n(name, strnlen(name, NOTE_NAME_MAX + 1));
}

/* ---- encodings ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* Strict standard base64 (RFC 4648 section 4, padded) of n bytes into out, which must hold at
 * most cap bytes; 0 or -1. */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    if (n == 0 || n % 4 != 0)
        return -1;
    /* libsodium 1.0.18 maps some bytes >= 0x80 to base64 digits (signed char arithmetic): check
     * the alphabet first; '=' only as the last one or two characters */
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
    }
    return sodium_base642bin(out, cap, s, n, NULL, out_len, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 ? 0 : -1;
}

/* key ID = SHA-256(name || 0x0A || type || public key)[:4], big endian */
static uint32_t key_id(const char *name, size_t name_len, uint8_t type, const unsigned char *pk)
{
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];
    unsigned char sep[2] = {'\n', type};
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, name_len);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pk, PK_BYTES);
    crypto_hash_sha256_final(&st, h);
    return be32(h);
}

/* "<name>+<keyid>+<base64(type || key)>" into out (NOTE_VKEY_SIZE bytes) */
static void key_string(char *out, const char *name, uint32_t keyid, uint8_t type,
                       const unsigned char *key)
{
    unsigned char raw[1 + PK_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_ORIGINAL)];
    raw[0] = type;
    memcpy(raw + 1, key, PK_BYTES);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, NOTE_VKEY_SIZE, "%s+%08x+%s", name, (unsigned)keyid, b64);
    note_wipe(raw, sizeof raw);
    note_wipe(b64, sizeof b64);
}

static bool type_known(unsigned t)
{
    return t == NOTE_KEY_ED25519 || t == NOTE_KEY_COSIG;
}

/* ---- keys ---- */

int note_key_generate(const char *name, enum note_key_type type, char skey[NOTE_SKEY_SIZE],
                      char vkey[NOTE_VKEY_SIZE], struct errbuf *e)
{
    skey[0] = vkey[0] = '\0';
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (!note_name_valid(name))
        return errf(e, ERR_INVAL, "invalid key name (1 to %d bytes of UTF-8, no spaces, no '+')",
                    NOTE_NAME_MAX);
    if (!type_known((unsigned)type))
        return errf(e, ERR_INVAL, "unknown key type 0x%02x", (unsigned)type);
    unsigned char seed[SEED_BYTES], pk[PK_BYTES], sk[crypto_sign_SECRETKEYBYTES];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    uint32_t id = key_id(name, strlen(name), (uint8_t)type, pk);
    char tail[NOTE_VKEY_SIZE];
    key_string(tail, name, id, (uint8_t)type, seed);
    snprintf(skey, NOTE_SKEY_SIZE, "PRIVATE+KEY+%s", tail);
    key_string(vkey, name, id, (uint8_t)type, pk);
    note_wipe(tail, sizeof tail);
    note_wipe(seed, sizeof seed);
    note_wipe(sk, sizeof sk);
    return 0;
}

/* Splits "<name>+<8 hex>+<base64>" (s of n bytes) and decodes it: the name into pub->name, the
 * key ID and type into pub, the 32 key bytes into key. what names the string in messages. */
static int parse_key_fields(const char *s, size_t n, const char *what, struct note_verifier *pub,
                            unsigned char key[PK_BYTES], struct errbuf *e)
{
    const char *p1 = memchr(s, '+', n);
    if (!p1)
        return errf(e, ERR_PARSE, "%s: expected name+keyid+key", what);
    size_t name_len = (size_t)(p1 - s);
    const char *h = p1 + 1;
    const char *p2 = memchr(h, '+', n - name_len - 1);
    if (!p2)
        return errf(e, ERR_PARSE, "%s: expected name+keyid+key", what);
    if (!name_valid_n(s, name_len))
        return errf(e, ERR_INVAL, "%s: invalid key name", what);
    if (p2 - h != 8)
        return errf(e, ERR_PARSE, "%s: the key ID must be 8 hex digits", what);
    uint32_t id = 0;
    for (int i = 0; i < 8; i++) {
        char c = h[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return errf(e, ERR_PARSE, "%s: the key ID must be 8 hex digits", what);
        id = id << 4 | d;
    }
    const char *b = p2 + 1;
    size_t blen = n - (size_t)(b - s);
    unsigned char raw[1 + PK_BYTES + 3];
    size_t raw_len = 0;
    if (b64_decode(b, blen, raw, sizeof raw, &raw_len) != 0 || raw_len == 0) {
        note_wipe(raw, sizeof raw);
        return errf(e, ERR_PARSE, "%s: the key is not valid base64", what);
    }
    if (!type_known(raw[0])) {
        unsigned t = raw[0];
        note_wipe(raw, sizeof raw);
        return errf(e, ERR_INVAL, "%s: unknown key type 0x%02x", what, t);
    }
    if (raw_len != 1 + PK_BYTES) {
        note_wipe(raw, sizeof raw);
        return errf(e, ERR_PARSE, "%s: the key has %zu bytes, expected %d", what, raw_len - 1,
                    PK_BYTES);
    }
    memcpy(pub->name, s, name_len);
    pub->name[name_len] = '\0';
    pub->type = raw[0];
    pub->keyid = id;
    memcpy(key, raw + 1, PK_BYTES);
    note_wipe(raw, sizeof raw);
    return 0;
}

int note_signer_parse(const char *skey, struct note_signer **out, struct errbuf *e)
{
    *out = NULL;
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    size_t n = strnlen(skey, NOTE_SKEY_SIZE);
    if (n >= NOTE_SKEY_SIZE)
        return errf(e, ERR_PARSE, "signer key: too long");
    static const char prefix[] = "PRIVATE+KEY+";
    if (n < sizeof prefix - 1 || memcmp(skey, prefix, sizeof prefix - 1) != 0)
        return errf(e, ERR_PARSE, "signer key: does not start with PRIVATE+KEY+");
    struct note_signer *s = sodium_malloc(sizeof *s);
    if (!s)
        return errf(e, ERR_NOMEM, "out of memory");
    unsigned char seed[SEED_BYTES];
    rc = parse_key_fields(skey + sizeof prefix - 1, n - (sizeof prefix - 1), "signer key",
                          &s->pub, seed, e);
    if (rc == 0) {
        crypto_sign_seed_keypair(s->pub.pk, s->sk, seed);
        uint32_t want = key_id(s->pub.name, strlen(s->pub.name), s->pub.type, s->pub.pk);
        if (want != s->pub.keyid)
            rc = errf(e, ERR_INVAL, "signer key: key ID %08x does not match the key (%08x)",
                      (unsigned)s->pub.keyid, (unsigned)want);
    }
    note_wipe(seed, sizeof seed);
    if (rc) {
        sodium_free(s); /* wipes */
        return rc;
    }
    *out = s;
    return 0;
}

void note_signer_free(struct note_signer *s)
{
    if (s)
        sodium_free(s);
}

int note_verifier_parse(const char *vkey, struct note_verifier **out, struct errbuf *e)
{
    *out = NULL;
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    size_t n = strnlen(vkey, NOTE_VKEY_SIZE);
    if (n >= NOTE_VKEY_SIZE)
        return errf(e, ERR_PARSE, "verifier key: too long");
    struct note_verifier v;
    rc = parse_key_fields(vkey, n, "verifier key", &v, v.pk, e);
    if (rc)
        return rc;
    uint32_t want = key_id(v.name, strlen(v.name), v.type, v.pk);
    if (want != v.keyid)
        return errf(e, ERR_INVAL, "verifier key: key ID %08x does not match the key (%08x)",
                    (unsigned)v.keyid, (unsigned)want);
    struct note_verifier *p = malloc(sizeof *p);
    if (!p)
        return errf(e, ERR_NOMEM, "out of memory");
    *p = v;
    *out = p;
    return 0;
}

void note_verifier_free(struct note_verifier *v)
{
    free(v);
}

void note_signer_vkey(const struct note_signer *s, char vkey[NOTE_VKEY_SIZE])
{
    key_string(vkey, s->pub.name, s->pub.keyid, s->pub.type, s->pub.pk);
}

const char *note_signer_name(const struct note_signer *s)
{
    return s->pub.name;
}

uint32_t note_signer_keyid(const struct note_signer *s)
{
    return s->pub.keyid;
}

enum note_key_type note_signer_type(const struct note_signer *s)
{
    return (enum note_key_type)s->pub.type;
}

const char *note_verifier_name(const struct note_verifier *v)
{
    return v->name;
}

uint32_t note_verifier_keyid(const struct note_verifier *v)
{
    return v->keyid;
}

enum note_key_type note_verifier_type(const struct note_verifier *v)
{
    return (enum note_key_type)v->type;
}

/* ---- key files ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int note_key_write_new(const char *path, const char *skey, struct errbuf *e)
{
    struct note_signer *s;
    int rc = note_signer_parse(skey, &s, e);
    if (rc)
        return rc;
    note_signer_free(s);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return errf(e, ERR_CONFLICT, "%s: already exists; a key file is never overwritten",
                        path);
        return errf(e, ERR_IO, "%s: %s", path, strerror(errno));
    }
    char line[NOTE_SKEY_SIZE + 1];
    size_t n = strlen(skey);
    memcpy(line, skey, n);
    line[n++] = '\n';
    rc = 0;
    if (fchmod(fd, 0600) != 0) /* the umask may only have narrowed it; be exact */
        rc = errf(e, ERR_IO, "%s: chmod: %s", path, strerror(errno));
    else if (write_all(fd, line, n) != 0)
        rc = errf(e, ERR_IO, "%s: write: %s", path, strerror(errno));
    else if (fsync(fd) != 0)
        rc = errf(e, ERR_IO, "%s: fsync: %s", path, strerror(errno));
    note_wipe(line, sizeof line);
    if (close(fd) != 0 && rc == 0)
        rc = errf(e, ERR_IO, "%s: close: %s", path, strerror(errno));
    if (rc) {
        unlink(path);
        return rc;
    }
    /* make the new directory entry durable too */
    char dir[4096];
    path_dirname(dir, sizeof dir, path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errf(e, ERR_IO, "%s: %s", dir, strerror(errno));
    if (fsync(dfd) != 0 && errno != EINVAL)
        rc = errf(e, ERR_IO, "%s: fsync: %s", dir, strerror(errno));
    close(dfd);
    return rc;
}

int note_key_read(const char *path, struct note_signer **out, struct errbuf *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return errf(e, ERR_NOTFOUND, "%s: no such key file", path);
        if (errno == ELOOP)
            return errf(e, ERR_INVAL, "%s: is a symbolic link; a key file must not be", path);
        return errf(e, ERR_IO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = errf(e, ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        close(fd);
        if (!S_ISREG(st.st_mode))
            return errf(e, ERR_INVAL, "%s: not a regular file", path);
        return errf(e, ERR_INVAL, "%s: mode %03o lets others read the key; chmod 600 it", path,
                    (unsigned)(st.st_mode & 0777));
    }
    char text[NOTE_SKEY_SIZE + 2];
    size_t n = 0;
    int rc = 0;
    for (;;) {
        ssize_t k = read(fd, text + n, sizeof text - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = errf(e, ERR_IO, "%s: %s", path, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n == sizeof text) {
            rc = errf(e, ERR_TOOBIG, "%s: larger than a signer key", path);
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        if (n > 0 && text[n - 1] == '\n')
            n--;
        text[n] = '\0';
        if (memchr(text, '\0', n) || memchr(text, '\n', n))
            rc = errf(e, ERR_PARSE, "%s: not one signer key line", path);
        else if ((rc = note_signer_parse(text, out, e)) != 0)
            errprefix(e, "%s", path);
    }
    note_wipe(text, sizeof text);
    return rc;
}

/* ---- signature lines ---- */

/* Splits the signature line at line (n bytes, no newline) into name and base64 and decodes the
 * base64 into scratch (cap bytes). Errors: ERR_PARSE. */
static int parse_sig_line(const char *line, size_t n, const char **name, size_t *name_len,
                          unsigned char *scratch, size_t cap, size_t *sig_len, struct errbuf *e)
{
    static const char prefix[] = EM_DASH " ";
    if (n < sizeof prefix - 1 || memcmp(line, prefix, sizeof prefix - 1) != 0)
        return errf(e, ERR_PARSE, "signature line does not start with an em dash and a space");
    const char *p = line + sizeof prefix - 1;
    size_t rest = n - (sizeof prefix - 1);
    const char *sp = memchr(p, ' ', rest);
    if (!sp)
        return errf(e, ERR_PARSE, "signature line has no signature after the key name");
    *name = p;
    *name_len = (size_t)(sp - p);
    if (!name_valid_n(p, *name_len))
        return errf(e, ERR_PARSE, "signature line has an invalid key name");
    const char *b = sp + 1;
    size_t blen = rest - *name_len - 1;
    if (b64_decode(b, blen, scratch, cap, sig_len) != 0)
        return errf(e, ERR_PARSE, "signature line: the signature is not valid base64");
    if (*sig_len < 5)
        return errf(e, ERR_PARSE, "signature line: signature shorter than 5 bytes");
    return 0;
}

/* Appends "— name base64(keyid || sig)\n". */
static int append_sig_line(struct buf *out, const char *name, uint32_t keyid,
                           const unsigned char *sig, size_t sig_len, struct errbuf *e)
{
    unsigned char raw[4 + COSIG_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_ORIGINAL)];
    put_be32(raw, keyid);
    memcpy(raw + 4, sig, sig_len);
    sodium_bin2base64(b64, sizeof b64, raw, 4 + sig_len, sodium_base64_VARIANT_ORIGINAL);
    if (buf_printf(out, EM_DASH " %s %s\n", name, b64) != 0)
        return errf(e, ERR_NOMEM, "out of memory");
    return 0;
}

int note_sig_line_parse(const char *line, size_t len, struct note_sig_info *out,
                        struct errbuf *e)
{
    memset(out, 0, sizeof *out);
    if (len > NOTE_MAX_BYTES)
        return errf(e, ERR_PARSE, "signature line longer than %u bytes", NOTE_MAX_BYTES);
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (memchr(line, '\n', len))
        return errf(e, ERR_PARSE, "more than one line");
    unsigned char *scratch = malloc(len / 4 * 3 + 3);
    if (!scratch)
        return errf(e, ERR_NOMEM, "out of memory");
    const char *name;
    size_t name_len, sig_len;
    int rc = parse_sig_line(line, len, &name, &name_len, scratch, len / 4 * 3 + 3, &sig_len, e);
    if (rc == 0) {
        memcpy(out->name, name, name_len);
        out->name[name_len] = '\0';
        out->keyid = be32(scratch);
        out->sig_len = sig_len - 4;
        if (out->sig_len == COSIG_BYTES)
            out->timestamp = be64(scratch + 4);
    }
    free(scratch);
    return rc;
}

/* ---- checkpoints ---- */

int note_checkpoint_parse(const char *text, size_t len, struct note_checkpoint *out,
                          struct errbuf *e)
{
    memset(out, 0, sizeof *out);
    if (len > NOTE_MAX_BYTES)
        return errf(e, ERR_TOOBIG, "checkpoint larger than %u bytes", NOTE_MAX_BYTES);
    if (len == 0 || text[len - 1] != '\n')
        return errf(e, ERR_PARSE, "checkpoint does not end with a newline");
    size_t bad = text_bad_at((const unsigned char *)text, len);
    if (bad < len)
        return errf(e, ERR_PARSE, "checkpoint: invalid UTF-8 or control character at byte %zu",
                    bad);
    const char *end = text + len;
    /* origin */
    const char *nl = memchr(text, '\n', len);
    size_t olen = (size_t)(nl - text);
    if (olen == 0)
        return errf(e, ERR_PARSE, "checkpoint: empty origin line");
    if (olen > NOTE_NAME_MAX)
        return errf(e, ERR_TOOBIG, "checkpoint: origin longer than %d bytes", NOTE_NAME_MAX);
    memcpy(out->origin, text, olen);
    out->origin[olen] = '\0';
    /* size */
    const char *p = nl + 1;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return errf(e, ERR_PARSE, "checkpoint: no tree size line");
    size_t slen = (size_t)(nl - p);
    if (slen == 0)
        return errf(e, ERR_PARSE, "checkpoint: empty tree size line");
    if (slen > 1 && p[0] == '0')
        return errf(e, ERR_PARSE, "checkpoint: tree size has a leading zero");
    uint64_t size = 0;
    for (size_t i = 0; i < slen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return errf(e, ERR_PARSE, "checkpoint: tree size is not a decimal number");
        unsigned d = (unsigned)(p[i] - '0');
        if (size > (UINT64_MAX - d) / 10)
            return errf(e, ERR_INVAL, "checkpoint: tree size above 2^64-1");
        size = size * 10 + d;
    }
    out->size = size;
    /* root hash */
    p = nl + 1;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return errf(e, ERR_PARSE, "checkpoint: no root hash line");
    unsigned char h[NOTE_HASH_BYTES + 3];
    size_t hlen = 0;
    if ((size_t)(nl - p) != 44 || b64_decode(p, 44, h, sizeof h, &hlen) != 0 ||
        hlen != NOTE_HASH_BYTES)
        return errf(e, ERR_PARSE, "checkpoint: root hash is not the base64 of 32 bytes");
    memcpy(out->hash, h, NOTE_HASH_BYTES);
    /* extension lines */
    p = nl + 1;
    size_t elen = (size_t)(end - p);
    if (elen > 0) {
        if (p[0] == '\n')
            return errf(e, ERR_PARSE, "checkpoint: empty extension line");
        for (size_t i = 0; i + 1 < elen; i++)
            if (p[i] == '\n' && p[i + 1] == '\n')
                return errf(e, ERR_PARSE, "checkpoint: empty extension line");
        out->ext = p;
        out->ext_len = elen;
    }
    return 0;
}

int note_checkpoint_format(const struct note_checkpoint *c, struct buf *out, struct errbuf *e)
{
    size_t start = out->len;
    char b64[sodium_base64_ENCODED_LEN(NOTE_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, c->hash, NOTE_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
    size_t olen = strnlen(c->origin, sizeof c->origin);
    if (olen == sizeof c->origin)
        return errf(e, ERR_TOOBIG, "checkpoint: origin longer than %d bytes", NOTE_NAME_MAX);
    if (buf_printf(out, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, b64) != 0 ||
        (c->ext_len && buf_append(out, c->ext, c->ext_len) != 0)) {
        out->len = start;
        if (out->p)
            out->p[start] = '\0';
        return errf(e, ERR_NOMEM, "out of memory");
    }
    struct note_checkpoint check;
    int rc = note_checkpoint_parse(out->p + start, out->len - start, &check, e);
    if (rc) {
        out->len = start;
        out->p[start] = '\0';
    }
    return rc;
}

/* ---- signing and verifying ---- */

/* "cosignature/v1\ntime <t>\n" || text, into a new allocation (*msg, *msg_len). */
static int cosig_message(uint64_t t, const char *text, size_t len, unsigned char **msg,
                         size_t *msg_len, struct errbuf *e)
{
    char head[64];
    int h = snprintf(head, sizeof head, COSIG_HEADER "time %llu\n", (unsigned long long)t);
    unsigned char *m = malloc((size_t)h + len);
    if (!m)
        return errf(e, ERR_NOMEM, "out of memory");
    memcpy(m, head, (size_t)h);
    memcpy(m + h, text, len);
    *msg = m;
    *msg_len = (size_t)h + len;
    return 0;
}

/* The signature bytes of signer s over text (sig holds COSIG_BYTES); *sig_len is set. */
static int sign_one(const struct note_signer *s, const char *text, size_t len, uint64_t t,
                    unsigned char sig[COSIG_BYTES], size_t *sig_len, struct errbuf *e)
{
    if (s->pub.type == NOTE_KEY_ED25519) {
        crypto_sign_detached(sig, NULL, (const unsigned char *)text, len, s->sk);
        *sig_len = SIG_BYTES;
        return 0;
    }
    struct note_checkpoint c;
    int rc = note_checkpoint_parse(text, len, &c, e);
    if (rc) {
        errprefix(e, "cosignature by %s", s->pub.name);
        return rc;
    }
    if (t > TIMESTAMP_MAX)
        return errf(e, ERR_INVAL, "cosignature timestamp above 2^63-1");
    unsigned char *m;
    size_t mlen;
    if ((rc = cosig_message(t, text, len, &m, &mlen, e)) != 0)
        return rc;
    put_be64(sig, t);
    crypto_sign_detached(sig + 8, NULL, m, mlen, s->sk);
    free(m);
    *sig_len = COSIG_BYTES;
    return 0;
}

int note_sign(const char *text, size_t len, struct note_signer *const *signers, size_t nsigners,
              struct buf *out, struct errbuf *e)
{
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (nsigners == 0)
        return errf(e, ERR_INVAL, "a note needs at least one signer");
    if (nsigners > NOTE_MAX_SIGS)
        return errf(e, ERR_TOOBIG, "more than %d signers", NOTE_MAX_SIGS);
    if (len > NOTE_MAX_BYTES)
        return errf(e, ERR_TOOBIG, "note text larger than %u bytes", NOTE_MAX_BYTES);
    if (len == 0 || text[len - 1] != '\n')
        return errf(e, ERR_PARSE, "note text does not end with a newline");
    size_t bad = text_bad_at((const unsigned char *)text, len);
    if (bad < len)
        return errf(e, ERR_PARSE, "note text: invalid UTF-8 or control character at byte %zu",
                    bad);
    size_t start = out->len;
    uint64_t now = (uint64_t)time(NULL);
    if (buf_append(out, text, len) != 0 || buf_append(out, "\n", 1) != 0)
        rc = errf(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nsigners; i++) {
        unsigned char sig[COSIG_BYTES];
        size_t sig_len;
        rc = sign_one(signers[i], text, len, now, sig, &sig_len, e);
        if (rc == 0)
            rc = append_sig_line(out, signers[i]->pub.name, signers[i]->pub.keyid, sig, sig_len,
                                 e);
    }
    if (rc == 0 && out->len - start > NOTE_MAX_BYTES)
        rc = errf(e, ERR_TOOBIG, "signed note larger than %u bytes", NOTE_MAX_BYTES);
    if (rc) {
        out->len = start;
        if (out->p)
            out->p[start] = '\0';
    }
    return rc;
}

/* Verifies sig (n bytes, after the key ID) by v over text; *t gets a cosignature's time. */
static int verify_one(const struct note_verifier *v, const char *text, size_t len,
                      const unsigned char *sig, size_t n, uint64_t *t, struct errbuf *e)
{
    *t = 0;
    if (v->type == NOTE_KEY_ED25519) {
        if (n != SIG_BYTES ||
            crypto_sign_verify_detached(sig, (const unsigned char *)text, len, v->pk) != 0)
            return errf(e, ERR_INVAL, "invalid signature for key %s+%08x", v->name,
                        (unsigned)v->keyid);
        return 0;
    }
    if (n != COSIG_BYTES)
        return errf(e, ERR_INVAL, "invalid cosignature for key %s+%08x: %zu bytes, expected %d",
                    v->name, (unsigned)v->keyid, n, COSIG_BYTES);
    uint64_t ts = be64(sig);
    if (ts > TIMESTAMP_MAX)
        return errf(e, ERR_INVAL, "invalid cosignature for key %s+%08x: timestamp above 2^63-1",
                    v->name, (unsigned)v->keyid);
    unsigned char *m;
    size_t mlen;
    int rc = cosig_message(ts, text, len, &m, &mlen, e);
    if (rc)
        return rc;
    int bad = crypto_sign_verify_detached(sig + 8, m, mlen, v->pk);
    free(m);
    if (bad)
        return errf(e, ERR_INVAL, "invalid cosignature for key %s+%08x", v->name,
                    (unsigned)v->keyid);
    *t = ts;
    return 0;
}

void note_opened_free(struct note_opened *o)
{
    free(o->text);
    free(o->verified);
    free(o->timestamps);
    memset(o, 0, sizeof *o);
}

/* Index of the one verifier with this name and key ID: -1 none, -2 more than one. */
static long find_verifier(struct note_verifier *const *vs, size_t n, const char *name,
                          size_t name_len, uint32_t keyid)
{
    long found = -1;
    for (size_t i = 0; i < n; i++) {
        const struct note_verifier *v = vs[i];
        if (v->keyid == keyid && strlen(v->name) == name_len &&
            memcmp(v->name, name, name_len) == 0) {
            if (found >= 0)
                return -2;
            found = (long)i;
        }
    }
    return found;
}

int note_open(const char *msg, size_t len, struct note_verifier *const *verifiers,
              size_t nverifiers, struct note_opened *out, struct errbuf *e)
{
    memset(out, 0, sizeof *out);
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (len > NOTE_MAX_BYTES)
        return errf(e, ERR_TOOBIG, "note larger than %u bytes", NOTE_MAX_BYTES);
    size_t bad = text_bad_at((const unsigned char *)msg, len);
    if (bad < len)
        return errf(e, ERR_PARSE, "note: invalid UTF-8 or control character at byte %zu", bad);
    /* the text ends at the last blank line */
    size_t split = len;
    for (size_t i = len; i >= 2; i--)
        if (msg[i - 2] == '\n' && msg[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    if (split == len)
        return errf(e, ERR_PARSE, "note: no blank line before the signatures");
    size_t text_len = split + 1;
    const char *sigs = msg + split + 2;
    size_t sigs_len = len - split - 2;
    if (sigs_len == 0)
        return errf(e, ERR_PARSE, "note: no signature lines after the blank line");
    if (sigs[sigs_len - 1] != '\n')
        return errf(e, ERR_PARSE, "note: the last signature line does not end with a newline");

    out->verified = calloc(nverifiers ? nverifiers : 1, sizeof *out->verified);
    out->timestamps = calloc(nverifiers ? nverifiers : 1, sizeof *out->timestamps);
    size_t cap = sigs_len / 4 * 3 + 3;
    unsigned char *scratch = malloc(cap);
    if (!out->verified || !out->timestamps || !scratch) {
        free(scratch);
        note_opened_free(out);
        return errf(e, ERR_NOMEM, "out of memory");
    }
    size_t nlines = 0;
    const char *p = sigs, *end = sigs + sigs_len;
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t line_len = (size_t)(nl - p);
        if (++nlines > NOTE_MAX_SIGS) {
            rc = errf(e, ERR_TOOBIG, "note: more than %d signature lines", NOTE_MAX_SIGS);
            break;
        }
        const char *name;
        size_t name_len, sig_len;
        rc = parse_sig_line(p, line_len, &name, &name_len, scratch, cap, &sig_len, e);
        if (rc) {
            errprefix(e, "note: signature line %zu", nlines);
            break;
        }
        uint32_t keyid = be32(scratch);
        long i = find_verifier(verifiers, nverifiers, name, name_len, keyid);
        if (i == -2) {
            rc = errf(e, ERR_CONFLICT, "note: two verifier keys are named %.*s+%08x",
                      (int)name_len, name, (unsigned)keyid);
        } else if (i == -1) {
            out->nunknown++;
        } else if (!out->verified[i]) {
            rc = verify_one(verifiers[i], msg, text_len, scratch + 4, sig_len - 4,
                            &out->timestamps[i], e);
            if (rc == 0) {
                out->verified[i] = true;
                out->nverified++;
            }
        }
        p = nl + 1;
    }
    free(scratch);
    if (rc == 0 && out->nverified == 0)
        rc = errf(e, ERR_NOTFOUND, "note has no signature from a known key (%zu unknown)",
                  out->nunknown);
    if (rc == 0) {
        out->text = malloc(text_len + 1);
        if (!out->text) {
            rc = errf(e, ERR_NOMEM, "out of memory");
        } else {
            memcpy(out->text, msg, text_len);
            out->text[text_len] = '\0';
            out->text_len = text_len;
        }
    }
    if (rc)
        note_opened_free(out);
    return rc;
}

/* ---- cosignatures ---- */

int note_cosign(const char *text, size_t len, const struct note_signer *witness,
                uint64_t timestamp, struct buf *out, struct errbuf *e)
{
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (witness->pub.type != NOTE_KEY_COSIG)
        return errf(e, ERR_INVAL, "key %s is not a cosignature/v1 key (type 0x04)",
                    witness->pub.name);
    unsigned char sig[COSIG_BYTES];
    size_t sig_len;
    if ((rc = sign_one(witness, text, len, timestamp, sig, &sig_len, e)) != 0)
        return rc;
    return append_sig_line(out, witness->pub.name, witness->pub.keyid, sig, sig_len, e);
}

int note_cosig_verify(const char *text, size_t len, const char *line, size_t line_len,
                      const struct note_verifier *witness, uint64_t *timestamp,
                      struct errbuf *e)
{
    *timestamp = 0;
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (witness->type != NOTE_KEY_COSIG)
        return errf(e, ERR_INVAL, "key %s is not a cosignature/v1 key (type 0x04)",
                    witness->name);
    struct note_checkpoint c;
    if ((rc = note_checkpoint_parse(text, len, &c, e)) != 0)
        return rc;
    if (line_len > 0 && line[line_len - 1] == '\n')
        line_len--;
    if (line_len > 1024 || memchr(line, '\n', line_len))
        return errf(e, ERR_PARSE, "not one cosignature line");
    unsigned char scratch[1024 / 4 * 3 + 3];
    const char *name;
    size_t name_len, sig_len;
    if ((rc = parse_sig_line(line, line_len, &name, &name_len, scratch, sizeof scratch,
                             &sig_len, e)) != 0)
        return rc;
    uint32_t keyid = be32(scratch);
    if (keyid != witness->keyid || strlen(witness->name) != name_len ||
        memcmp(witness->name, name, name_len) != 0)
        return errf(e, ERR_NOTFOUND, "cosignature line is from %.*s+%08x, not %s+%08x",
                    (int)name_len, name, (unsigned)keyid, witness->name,
                    (unsigned)witness->keyid);
    uint64_t t;
    if ((rc = verify_one(witness, text, len, scratch + 4, sig_len - 4, &t, e)) != 0)
        return rc;
    *timestamp = t;
    return 0;
}

/* ---- detached signatures over arbitrary bytes ---- */

int note_sign_raw(const struct note_signer *s, const void *msg, size_t len,
                  char sig_b64[NOTE_RAW_SIG_B64_SIZE], struct errbuf *e)
{
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (s->pub.type != NOTE_KEY_ED25519)
        return errf(e, ERR_INVAL, "key %s is not an Ed25519 signing key", s->pub.name);
    unsigned char sig[SIG_BYTES];
    crypto_sign_detached(sig, NULL, msg, len, s->sk);
    sodium_bin2base64(sig_b64, NOTE_RAW_SIG_B64_SIZE, sig, sizeof sig,
                      sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

int note_verify_raw(const struct note_verifier *v, const void *msg, size_t len,
                    const char *sig_b64, struct errbuf *e)
{
    int rc = crypto_ready(e);
    if (rc)
        return rc;
    if (v->type != NOTE_KEY_ED25519)
        return errf(e, ERR_INVAL, "key %s is not an Ed25519 verifier key", v->name);
    unsigned char sig[SIG_BYTES + 1];
    size_t n = 0;
    size_t slen = strlen(sig_b64);
    if (slen >= NOTE_RAW_SIG_B64_SIZE || b64_decode(sig_b64, slen, sig, sizeof sig, &n) ||
        n != SIG_BYTES)
        return errf(e, ERR_PARSE, "the signature is not the base64 of 64 bytes");
    if (crypto_sign_verify_detached(sig, msg, len, v->pk) != 0)
        return errf(e, ERR_INVAL, "the signature does not verify with key %s+%08x", v->name,
                    (unsigned)v->keyid);
    return 0;
}
