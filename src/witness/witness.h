/* witness.h: a transparency-log witness (C2SP tlog-witness, add-checkpoint) and the log-side
 * helpers that talk to one.
 *
 * A witness is configured with a list of logs (origin + the log's verifier key) and its own
 * NOTE_KEY_COSIG signer. For each origin it keeps the newest checkpoint it cosigned, one file
 * per origin in a state directory. On add-checkpoint it checks the log's signature, that the
 * client's "old" size is the size it holds, and the RFC 6962 consistency proof from the held
 * (size, root) to the new checkpoint; only then does it write the new state durably and return
 * its cosignature/v1 line. So it never cosigns two checkpoints of one log that are inconsistent
 * with each other, nor a smaller tree after a larger one, across restarts and crashes. The first
 * checkpoint of an origin is accepted on trust (old size 0, empty proof).
 *
 * Request body (all lines end in "\n"):
 *
 *   old <size, decimal without leading zeros>
 *   <base64 of one 32-byte consistency proof hash>     zero to WITNESS_MAX_PROOF lines
 *   <empty line>
 *   <signed checkpoint note>
 *
 * Answers carry an HTTP status (enum witness_status) and a body: the cosignature line(s) for
 * 200, "<size>\n" (Content-Type text/x.tlog.size) for a 409 on a stale old size, else a one-line
 * reason. Protocol decisions and the state layout: docs/internals/witness.md.
 *
 * Depends on ledger (consistency proofs, SHA-256) and note (signed notes, checkpoints,
 * cosignatures); no third-party library of its own. A struct witness belongs to one thread at a
 * time: a server must serialise add-checkpoint calls on it (the spec needs the check of the old
 * size and the write of the new state to be one atomic step). The other functions are pure. */
#ifndef TRUCE_WITNESS_H
#define TRUCE_WITNESS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "note/note.h"
#include "util/util.h"

/* ---- named limits ---- */
#define WITNESS_MAX_REQUEST_BYTES (64u << 10) /* one add-checkpoint request body */
#define WITNESS_MAX_PROOF 63                  /* consistency proof lines (the spec's limit) */
#define WITNESS_MAX_LOGS 4096                 /* logs one witness is configured with */

/* Files in the state directory. */
#define WITNESS_KEY_NAME "witness.key"   /* the witness's cosignature signer key, mode 0600 */
#define WITNESS_VKEY_NAME "witness.vkey" /* its verifier key, for logs and clients */
/* Bytes of a state file name (witness_state_file) with its NUL, at most. */
#define WITNESS_STATE_NAME_SIZE 128

#define WITNESS_SIZE_CONTENT_TYPE "text/x.tlog.size"
#define WITNESS_TEXT_CONTENT_TYPE "text/plain; charset=utf-8"

/* Outcomes of add-checkpoint as HTTP status codes (C2SP tlog-witness). */
enum witness_status {
    WITNESS_OK = 200,            /* cosigned: the body is the cosignature line */
    WITNESS_BAD_REQUEST = 400,   /* malformed body, not a checkpoint, old size > checkpoint size */
    WITNESS_FORBIDDEN = 403,     /* no valid signature from the log's key */
    WITNESS_NOT_FOUND = 404,     /* the checkpoint's origin is not a configured log */
    WITNESS_CONFLICT = 409,      /* old size is not the held size (body "<held size>\n"), or the
                                    same size with a different root hash (split view) */
    WITNESS_TOO_LARGE = 413,     /* body above WITNESS_MAX_REQUEST_BYTES */
    WITNESS_UNPROCESSABLE = 422, /* the consistency proof does not verify */
    WITNESS_INTERNAL = 500       /* the state could not be written; nothing was cosigned */
};

/* One configured log: the checkpoint origin (first line) and the log's verifier key string
 * (NOTE_KEY_ED25519). Both borrowed for the call of witness_open only. */
struct witness_log {
    const char *origin;
    const char *vkey;
};

struct witness;

/* ---- request body ---- */

/* A parsed add-checkpoint request. note points into the parsed bytes (borrowed). */
struct witness_request {
    uint64_t old_size;
    struct ledger_hash proof[WITNESS_MAX_PROOF];
    size_t n_proof;
    const char *note; /* the signed checkpoint note, as sent */
    size_t note_len;
};

/* Parses an add-checkpoint request body (len bytes; need not be NUL-terminated). Only the
 * canonical form is accepted: "old N" with N in decimal without leading zeros (up to 2^64-1),
 * each proof line exactly the padded standard base64 of 32 bytes with zero pad bits, an empty
 * line, then a non-empty note (checked later by witness_add_checkpoint, not here).
 * Errors: ERR_TOOBIG (len above WITNESS_MAX_REQUEST_BYTES, more than WITNESS_MAX_PROOF proof
 * lines), ERR_PARSE (shape). */
int witness_request_parse(const char *req, size_t len, struct witness_request *out,
                          struct errbuf *e) WUR;

/* Log side: appends to out the request body for old_size, the consistency proof (n_proof
 * hashes, as ledger_consistency_proof gives them) and the signed checkpoint note (note_len
 * bytes, as note_sign writes it). witness_request_parse of the result gives the same values.
 * Errors: ERR_TOOBIG (n_proof above WITNESS_MAX_PROOF, body above WITNESS_MAX_REQUEST_BYTES),
 * ERR_INVAL (empty note), ERR_NOMEM. */
int witness_request_build(uint64_t old_size, const struct ledger_hash *proof, size_t n_proof,
                          const char *note, size_t note_len, struct buf *out,
                          struct errbuf *e) WUR;

/* ---- the witness ---- */

/* Creates the state directory state_dir if missing (mode 0700) and a fresh NOTE_KEY_COSIG key
 * for the witness named name in it: WITNESS_KEY_NAME (mode 0600, never replaced) and
 * WITNESS_VKEY_NAME; the verifier key string also goes to vkey when non-NULL.
 * Errors: ERR_CONFLICT (a key exists), ERR_INVAL (bad name), ERR_IO. */
int witness_key_create(const char *state_dir, const char *name, char *vkey, size_t vkey_size,
                       struct errbuf *e) WUR;

/* Opens the witness whose state lives in the existing directory state_dir. skey is the
 * witness's signer key string (NOTE_KEY_COSIG); NULL reads it from state_dir/WITNESS_KEY_NAME
 * (note_key_read: mode 0600). logs (nlogs of them, at most WITNESS_MAX_LOGS) are the logs it
 * witnesses; origins must be distinct. Loads the held checkpoint of each log from its state
 * file (none: nothing held yet). Takes an exclusive lock on state_dir for the life of the witness.
 * Errors: ERR_INVAL (bad or duplicate origin, a key of the wrong type), ERR_TOOBIG (too many
 * logs), ERR_CONFLICT (another open witness holds state_dir; a state file names another
 * origin), ERR_PARSE (a state file is not a checkpoint), ERR_IO, ERR_NOMEM, errors of key
 * parsing. On error *out is NULL. */
int witness_open(const char *state_dir, const char *skey, const struct witness_log *logs,
                 size_t nlogs, struct witness **out, struct errbuf *e) WUR;
/* Releases the lock and frees w (the signer key is wiped). NULL is ignored. */
void witness_close(struct witness *w);

/* The witness's verifier key string. */
void witness_vkey(const struct witness *w, char vkey[NOTE_VKEY_SIZE]);

/* The checkpoint the witness holds for origin: *size and *root (size 0 and the empty root when
 * it has cosigned none). Errors: ERR_NOTFOUND (origin not configured). */
int witness_latest(const struct witness *w, const char *origin, uint64_t *size,
                   struct ledger_hash *root, struct errbuf *e) WUR;

/* Handles one add-checkpoint request body (len bytes). Checks, in the spec's order: the body
 * shape (400; 413 when too large), the checkpoint's origin is configured (404), a valid
 * signature from that log's key (403; other keys' lines are ignored), old size <= checkpoint
 * size (400), old size == held size (409, body "<held size>\n"), at the same size the same root
 * (409: split view), the consistency proof from the held (size, root) to the checkpoint (422;
 * old size 0 needs an empty proof, and a size-0 checkpoint the empty root). Then it cosigns the
 * checkpoint text at the current time, writes the signed note with the cosignature as the
 * origin's state (file_write_atomic, then fsync of state_dir) and only then puts the cosignature
 * line "— <witness name> <base64>\n" in response (200). A re-submission of the held checkpoint
 * (old == size, same root, empty proof) is cosigned again.
 *
 * response is reset and always receives the body to send; *status the status to send; use
 * witness_content_type for the Content-Type. Returns 0 exactly when *status is 200; otherwise
 * an ERR_* code with e saying why: ERR_PARSE (400), ERR_TOOBIG (413), ERR_NOTFOUND (404),
 * ERR_INVAL (403), ERR_CONFLICT (409, 422), ERR_IO / ERR_NOMEM (500). After a failed state
 * write the witness answers 500 to everything until it is reopened (it no longer knows what is
 * on disk). */
int witness_add_checkpoint(struct witness *w, const char *req, size_t len, struct buf *response,
                           int *status, struct errbuf *e) WUR;

/* The Content-Type of an answer: WITNESS_SIZE_CONTENT_TYPE for a 409 whose body is a size line,
 * WITNESS_TEXT_CONTENT_TYPE otherwise. */
const char *witness_content_type(int status, const char *body, size_t len);

/* The name of origin's state file in the state directory, into out (WITNESS_STATE_NAME_SIZE
 * bytes): "log-<origin with bytes other than [A-Za-z0-9.-] as '_', at most 64>-<first 16 hex
 * digits of SHA-256(origin)>.checkpoint". */
void witness_state_file(const char *origin, char out[WITNESS_STATE_NAME_SIZE]);

/* ---- log side: cosignatures ---- */

/* Appends to out the signed checkpoint note (note_len bytes) followed by the cosignature lines
 * of lines (lines_len bytes: an add-checkpoint 200 body, one or more "— ..." lines each ending
 * in a newline) that verify with note_cosig_verify against one of the witnesses verifiers
 * (NOTE_KEY_COSIG). Lines from other keys are ignored (as the spec asks); a line from a key that
 * already signed the note, or repeated, is skipped. *added (may be NULL) counts the lines
 * appended. Errors: ERR_PARSE (note or lines malformed), ERR_INVAL (a line from one of the
 * witnesses does not verify: nothing is appended), ERR_NOTFOUND (no line from any of the
 * witnesses), ERR_TOOBIG (more than NOTE_MAX_SIGS signatures or NOTE_MAX_BYTES in all),
 * ERR_NOMEM, errors of note_checkpoint_parse (the note text is not a checkpoint). */
int witness_note_add_cosignatures(const char *note, size_t note_len, const char *lines,
                                  size_t lines_len, struct note_verifier *const *witnesses,
                                  size_t nwitnesses, struct buf *out, size_t *added,
                                  struct errbuf *e) WUR;

#endif
