/* fuzz_note.c: libFuzzer harness for src/note: the input is opened as a signed note with three
 * fixed verifier keys (Go's PeterNeumann test key, sum.golang.org, and a cosignature/v1 witness
 * key whose cosignatures are among the seeds), parsed as a checkpoint body, split into a
 * checkpoint and a cosignature line for note_cosig_verify, parsed as one signature line, and as
 * a verifier and a signer key string. Whatever parses as a checkpoint must format back to the
 * same bytes (the parser accepts only the canonical form). Seeds: fuzz/corpus/note. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const VKEYS[3] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    "witness.truce.example/fuzz+bc10fc86+BAAcblbyQwWjm/zf7HEFms+i5O3ySXmIIpxsme8nOaJo",
};
static struct note_verifier *verifiers[3];

static void setup(void)
{
    struct errbuf e;
    for (int i = 0; i < 3; i++)
        if (!verifiers[i] && note_verifier_parse(VKEYS[i], &verifiers[i], &e) != 0) {
            fprintf(stderr, "fuzz_note: %s\n", e.msg);
            abort();
        }
}

/* A checkpoint that parses must format back to exactly the same bytes. */
static void checkpoint_round_trip(const char *text, size_t len)
{
    struct note_checkpoint c;
    struct errbuf e;
    if (note_checkpoint_parse(text, len, &c, &e) != 0)
        return;
    struct buf b;
    buf_init(&b);
    if (note_checkpoint_format(&c, &b, &e) != 0 || b.len != len || memcmp(b.p, text, len) != 0) {
        fprintf(stderr, "fuzz_note: checkpoint does not round trip\n");
        abort();
    }
    buf_reset(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    const char *msg = (const char *)data;
    struct errbuf e;

    struct note_opened o;
    if (note_open(msg, size, verifiers, 3, &o, &e) == 0) {
        if (o.nverified == 0 || o.text_len >= size || strlen(o.text) > o.text_len)
            abort();
        checkpoint_round_trip(o.text, o.text_len);
        note_opened_free(&o);
    } else if (o.text || o.verified || o.timestamps) {
        abort(); /* a failed open leaves nothing behind */
    }

    checkpoint_round_trip(msg, size);

    /* checkpoint body up to the last blank line, then one cosignature line */
    size_t split = size;
    for (size_t i = size; i >= 2; i--)
        if (data[i - 2] == '\n' && data[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    if (split < size) {
        uint64_t t;
        (void)!note_cosig_verify(msg, split + 1, msg + split + 2, size - split - 2, verifiers[2],
                                 &t, &e);
    }

    struct note_sig_info si;
    (void)!note_sig_line_parse(msg, size, &si, &e);

    if (size < NOTE_SKEY_SIZE + 8) {
        char s[NOTE_SKEY_SIZE + 8];
        memcpy(s, data, size);
        s[size] = '\0';
        struct note_verifier *v;
        if (note_verifier_parse(s, &v, &e) == 0)
            note_verifier_free(v);
        struct note_signer *sg;
        if (note_signer_parse(s, &sg, &e) == 0)
            note_signer_free(sg);
    }
    return 0;
}
