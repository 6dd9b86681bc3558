/* note.h: signed notes (C2SP signed-note), transparency-log checkpoints (C2SP tlog-checkpoint)
 * and witness cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1), with Ed25519 keys
 * in the encodings of Go's golang.org/x/mod/sumdb/note:
 *
 *   verifier key  "<name>+<key ID, 8 lower-case hex>+<base64(type || 32-byte public key)>"
 *   signer key    "PRIVATE+KEY+<name>+<key ID>+<base64(type || 32-byte Ed25519 seed)>"
 *   key ID        first 4 bytes (big endian) of SHA-256(name || 0x0A || type || public key)
 *
 * Two key types: NOTE_KEY_ED25519 (type byte 0x01: plain note signatures, as a log signs its
 * checkpoints) and NOTE_KEY_COSIG (type byte 0x04: a witness's timestamped cosignature/v1, the
 * signature bytes being timestamp (8 bytes big endian) || Ed25519 signature over
 * "cosignature/v1\ntime <timestamp>\n" || checkpoint text).
 *
 * A note is "<text ending in a newline>\n" followed by signature lines
 * "— <key name> <base64(key ID || signature)>\n" (the dash is U+2014). Every input is bounded by
 * the NOTE_MAX_* limits below. Format details and decisions: docs/internals/note.md.
 *
 * libsodium is the only third-party library used; it is initialised once (sodium_init) by the
 * first call that needs it. Secret key material is wiped (sodium_memzero) when freed. Keys are
 * immutable once parsed, so one may be shared between threads. */
#ifndef TRUCE_NOTE_H
#define TRUCE_NOTE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- named limits ---- */
#define NOTE_MAX_BYTES (1u << 20) /* one signed note, text and signatures */
#define NOTE_MAX_SIGS 100         /* signature lines in one note (the spec asks for >= 16) */
#define NOTE_NAME_MAX 255         /* bytes of a key name or a checkpoint origin */
/* Sizes of the key strings with their NUL, for the longest name. */
#define NOTE_VKEY_SIZE (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define NOTE_SKEY_SIZE (12 + NOTE_VKEY_SIZE)
#define NOTE_HASH_BYTES 32 /* a checkpoint's root hash */

/* Signature type bytes (C2SP signed-note, "Signature types"). */
enum note_key_type {
    NOTE_KEY_ED25519 = 0x01, /* Ed25519 over the note text */
    NOTE_KEY_COSIG = 0x04    /* timestamped Ed25519 witness cosignature, cosignature/v1 */
};

struct note_signer;   /* a parsed signer key (holds the secret key) */
struct note_verifier; /* a parsed verifier key */

/* ---- keys ---- */

/* True when name is a valid key name: 1..NOTE_NAME_MAX bytes of valid UTF-8 with no Unicode
 * space (as Go's unicode.IsSpace), no '+' and no control character. */
bool note_name_valid(const char *name);

/* Generates a fresh key pair of the given type for name, writing the signer key string into
 * skey (NUL-terminated; secret: wipe it with note_wipe after use) and the verifier key string
 * into vkey. Errors: ERR_INVAL (bad name or type). */
int note_key_generate(const char *name, enum note_key_type type, char skey[NOTE_SKEY_SIZE],
                      char vkey[NOTE_VKEY_SIZE], struct errbuf *e) WUR;

/* Parses a signer key string (as written by note_key_generate or Go's note.GenerateKey) into
 * *out (free with note_signer_free). The key ID must match the name and the public key derived
 * from the seed. Errors: ERR_PARSE (shape, base64, length), ERR_INVAL (bad name, unknown type,
 * key ID mismatch), ERR_NOMEM. */
int note_signer_parse(const char *skey, struct note_signer **out, struct errbuf *e) WUR;
/* Wipes and frees a signer; NULL is allowed. */
void note_signer_free(struct note_signer *s);

/* Parses a verifier key string into *out (free with note_verifier_free). Types 0x01 and 0x04 are
 * accepted; the key ID must match. Errors as note_signer_parse. */
int note_verifier_parse(const char *vkey, struct note_verifier **out, struct errbuf *e) WUR;
/* Frees a verifier; NULL is allowed. */
void note_verifier_free(struct note_verifier *v);

/* The verifier key string of a signer's public key, into vkey. */
void note_signer_vkey(const struct note_signer *s, char vkey[NOTE_VKEY_SIZE]);
/* Accessors: the key name, the 32-bit key ID and the type. */
const char *note_signer_name(const struct note_signer *s);
uint32_t note_signer_keyid(const struct note_signer *s);
enum note_key_type note_signer_type(const struct note_signer *s);
const char *note_verifier_name(const struct note_verifier *v);
uint32_t note_verifier_keyid(const struct note_verifier *v);
enum note_key_type note_verifier_type(const struct note_verifier *v);

/* Creates the key file path holding skey and a newline: the signer key is parsed first (so
 * only a valid key is written), the file is created with O_CREAT|O_EXCL|O_NOFOLLOW and mode
 * 0600, written, fsync'd, and its directory fsync'd. An existing file (or symbolic link) is
 * never touched. Errors: ERR_CONFLICT (path exists), ERR_IO, those of note_signer_parse. */
int note_key_write_new(const char *path, const char *skey, struct errbuf *e) WUR;

/* Reads the signer key file path (one key string, an optional final newline) into *out. The
 * file must be a regular file, not a symbolic link, and not accessible by group or others
 * (mode & 077 == 0). Errors: ERR_NOTFOUND (no such file), ERR_IO, ERR_INVAL (permissions, not a
 * regular file), ERR_TOOBIG, those of note_signer_parse. */
int note_key_read(const char *path, struct note_signer **out, struct errbuf *e) WUR;

/* Overwrites n bytes at p with zeros in a way the compiler keeps (sodium_memzero). */
void note_wipe(void *p, size_t n);

/* ---- signed notes ---- */

/* Appends to out the signed note: text (len bytes; valid UTF-8, no control character but
 * newline, ending in a newline), a blank line, and one signature line per signer, in order.
 * NOTE_KEY_COSIG signers cosign with the current time and need text to be a valid checkpoint.
 * Errors: ERR_PARSE (text shape), ERR_TOOBIG (size, more than NOTE_MAX_SIGS signers),
 * ERR_INVAL (no signer), ERR_NOMEM. */
int note_sign(const char *text, size_t len, struct note_signer *const *signers, size_t nsigners,
              struct buf *out, struct errbuf *e) WUR;

/* What note_open found. */
struct note_opened {
    char *text;           /* the note text with its final newline, NUL-terminated (owned) */
    size_t text_len;      /* bytes of text */
    size_t nverified;     /* verifiers whose signature verified; at least 1 on success */
    bool *verified;       /* [nverifiers]: verifiers[i] signed the note (owned) */
    uint64_t *timestamps; /* [nverifiers]: cosignature time of a verified NOTE_KEY_COSIG key */
    size_t nunknown;      /* signature lines from keys not among the verifiers */
};
/* Frees what note_open put in o; o is zeroed (safe on a zeroed struct). */
void note_opened_free(struct note_opened *o);

/* Parses the signed note msg (len bytes) and verifies the signatures of known keys: a line is
 * from verifiers[i] when both its key name and key ID match (other lines are counted in
 * nunknown and otherwise ignored); a repeated line from a key already seen is skipped, as Go
 * does. On success *out holds the text and which keys verified; on failure *out is zeroed.
 * Errors: ERR_TOOBIG (more than NOTE_MAX_BYTES or NOTE_MAX_SIGS lines), ERR_PARSE (not UTF-8, a
 * control character, no blank line before the signatures, a bad signature line), ERR_INVAL (a
 * signature from a known key that does not verify: the whole note is rejected), ERR_NOTFOUND
 * (no signature from any of the verifiers), ERR_CONFLICT (two verifiers with the same name and
 * key ID match a line), ERR_NOMEM. */
int note_open(const char *msg, size_t len, struct note_verifier *const *verifiers,
              size_t nverifiers, struct note_opened *out, struct errbuf *e) WUR;

/* One signature line, split (the signature bytes are not kept). */
struct note_sig_info {
    char name[NOTE_NAME_MAX + 1];
    uint32_t keyid;
    size_t sig_len;     /* bytes of signature after the key ID */
    uint64_t timestamp; /* first 8 bytes of the signature (big endian) when sig_len == 72, the
                           shape of an Ed25519 cosignature; else 0 */
};
/* Parses one signature line "— name base64\n" (the final newline optional) of len bytes.
 * Errors: ERR_PARSE. */
int note_sig_line_parse(const char *line, size_t len, struct note_sig_info *out,
                        struct errbuf *e) WUR;

/* ---- detached signatures over arbitrary bytes (escalation webhooks) ---- */

#define NOTE_RAW_SIG_B64_SIZE 89 /* base64 of a 64-byte Ed25519 signature, with its NUL */

/* Signs the exact bytes msg (len bytes, any content) with an NOTE_KEY_ED25519 signer and writes
 * the standard padded base64 of the 64-byte Ed25519 signature into sig_b64. Unlike note_sign
 * there is no note framing: the signature is over msg itself, so anyone holding the verifier
 * key can check it with any Ed25519 implementation. Errors: ERR_INVAL (not an Ed25519 key). */
int note_sign_raw(const struct note_signer *s, const void *msg, size_t len,
                  char sig_b64[NOTE_RAW_SIG_B64_SIZE], struct errbuf *e) WUR;
/* Verifies sig_b64 (as note_sign_raw writes it) over msg with verifier v (NOTE_KEY_ED25519).
 * Errors: ERR_PARSE (not the base64 of 64 bytes), ERR_INVAL (wrong key type, or the signature
 * does not verify). */
int note_verify_raw(const struct note_verifier *v, const void *msg, size_t len,
                    const char *sig_b64, struct errbuf *e) WUR;

/* ---- checkpoints (C2SP tlog-checkpoint) ---- */

struct note_checkpoint {
    char origin[NOTE_NAME_MAX + 1]; /* first line: non-empty, no control characters */
    uint64_t size;                  /* tree size */
    uint8_t hash[NOTE_HASH_BYTES];  /* RFC 6962 root hash */
    const char *ext;                /* extension lines, each non-empty and newline-terminated; */
    size_t ext_len;                 /* ext is borrowed (points into the parsed text), may be NULL
                                       when ext_len is 0 */
};

/* Parses a checkpoint body (the note text, len bytes, ending in a newline): origin, size in
 * decimal without leading zeros (up to 2^64-1), base64 of exactly 32 bytes, then optional
 * non-empty extension lines. Errors: ERR_PARSE (shape), ERR_INVAL (size out of range), ERR_TOOBIG
 * (origin longer than NOTE_NAME_MAX, text larger than NOTE_MAX_BYTES). */
int note_checkpoint_parse(const char *text, size_t len, struct note_checkpoint *out,
                          struct errbuf *e) WUR;

/* Appends the checkpoint body of c to out (origin, size, base64 hash, then c->ext verbatim).
 * The result is checked as note_checkpoint_parse would. Errors: those of the parser, ERR_NOMEM. */
int note_checkpoint_format(const struct note_checkpoint *c, struct buf *out,
                           struct errbuf *e) WUR;

/* ---- cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1) ---- */

/* Appends to out the witness's cosignature line "— name base64(key ID || timestamp || sig)\n"
 * over the checkpoint body text (len bytes) at timestamp (seconds since the Epoch, at most
 * 2^63-1). The witness key must be NOTE_KEY_COSIG. Errors: ERR_INVAL (key type, timestamp),
 * errors of note_checkpoint_parse, ERR_NOMEM. */
int note_cosign(const char *text, size_t len, const struct note_signer *witness,
                uint64_t timestamp, struct buf *out, struct errbuf *e) WUR;

/* Verifies one cosignature line (len bytes, final newline optional) from the witness verifier
 * (NOTE_KEY_COSIG) over the checkpoint body text; on success *timestamp is its time.
 * Errors: ERR_PARSE (line shape), ERR_NOTFOUND (the line is from another key), ERR_INVAL (bad
 * key type, timestamp above 2^63-1, signature does not verify), errors of note_checkpoint_parse. */
int note_cosig_verify(const char *text, size_t len, const char *line, size_t line_len,
                      const struct note_verifier *witness, uint64_t *timestamp,
                      struct errbuf *e) WUR;

#endif
