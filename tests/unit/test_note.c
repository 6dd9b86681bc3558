/* test_note.c: signed notes, checkpoints and cosignatures (src/note): the published vectors of
 * Go's golang.org/x/mod/sumdb/note tests (PeterNeumann and EnochRoot keys, the signed note, the
 * Open cases, every truncation and one-byte change of the key strings), a real sum.golang.org
 * checkpoint with the sum.golang.org key and three other signatures over it from
 * transparency-dev/formats' tests, the C2SP examples (checkpoint body, cosignature timestamps),
 * round trips with fresh keys, the exact cosignature/v1 message checked with libsodium directly,
 * verification failures, checkpoint parse errors and key files (mode 0600, never overwritten).
 * Key files are created in a fresh directory under $TMPDIR (default /tmp), removed at the end. */
#include "t.h"
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "note/note.h"

static char tmpdir[512];

/* ---- vectors: golang.org/x/mod/sumdb/note note_test.go ---- */
static const char PETER_VKEY[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char PETER_SKEY[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char ENOCH_VKEY[] = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char GO_TEXT[] = "If you think cryptography is the answer to your problem,\n"
                              "then you don't know what your problem is.\n";
static const char PETER_SIG[] = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgY"
                                "N1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char ENOCH_SIG[] = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+v"
                                "AF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/* ---- vectors: a sum.golang.org checkpoint (transparency-dev/formats log tests) ---- */
static const char SUMDB_VKEY[] =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
static const char SUMDB_TEXT[] = "go.sum database tree\n6476701\n"
                                 "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n";
static const char SUMDB_SIG[] = "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7"
                                "Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";
static const char *const OTHER_VKEYS[3] = {
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
};
static const char *const OTHER_SIGS[3] = {
    "— monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAn"
    "aepM6Y+8ww=\n",
    "— bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1m"
    "DR6t3/9rQw=\n",
    "— witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdc"
    "pR8SVSoqAU=\n",
};

/* ---- helpers ---- */

static struct note_verifier *vparse(const char *vkey)
{
    struct note_verifier *v = NULL;
    struct errbuf e;
    int rc = note_verifier_parse(vkey, &v, &e);
    if (rc) T_FAIL_("note_verifier_parse(%s): %s", vkey, e.msg);
    return v;
}

static struct note_signer *sparse(const char *skey)
{
    struct note_signer *s = NULL;
    struct errbuf e;
    int rc = note_signer_parse(skey, &s, &e);
    if (rc) T_FAIL_("note_signer_parse: %s", e.msg);
    return s;
}

/* note_open on a NUL-terminated message; returns the code, frees the result. */
static int open_str(const char *msg, struct note_verifier *const *vs, size_t n,
                    struct note_opened *keep)
{
    struct note_opened o;
    struct errbuf e;
    int rc = note_open(msg, strlen(msg), vs, n, &o, &e);
    if (keep)
        *keep = o;
    else
        note_opened_free(&o);
    return rc;
}

/* The text after the n-th '+' of a key string (the base64 may hold '+' itself). */
static const char *after_plus(const char *s, int n)
{
    for (; n > 0; n--)
        s = strchr(s, '+') + 1;
    return s;
}

static char *cat(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

/* ---- keys ---- */

static void test_go_key_vectors(void)
{
    struct note_verifier *v = vparse(PETER_VKEY);
    struct note_signer *s = sparse(PETER_SKEY);
    if (!v || !s) return;
    CHECK_STR(note_verifier_name(v), "PeterNeumann");
    CHECK_INT(note_verifier_keyid(v), 0xc74f20a3u);
    CHECK_INT(note_verifier_type(v), NOTE_KEY_ED25519);
    CHECK_STR(note_signer_name(s), "PeterNeumann");
    CHECK_INT(note_signer_keyid(s), 0xc74f20a3u);
    char vk[NOTE_VKEY_SIZE];
    note_signer_vkey(s, vk);
    CHECK_STR(vk, PETER_VKEY);
    note_verifier_free(v);
    note_signer_free(s);

    /* wrong-length key and unknown algorithm, each with an adjusted key hash (Go's badKey) */
    struct errbuf e;
    CHECK(note_verifier_parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
                              "BADKEY==", &v, &e) != 0);
    CHECK(v == NULL);
    CHECK(note_verifier_parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                              &v, &e) != 0);
    CHECK_CONTAINS(e.msg, "unknown key type");
}

/* Every proper substring and every one-byte increment of the key strings must be refused. */
static void test_go_key_manglings(void)
{
    const char *keys[2] = {PETER_VKEY, PETER_SKEY};
    for (int k = 0; k < 2; k++) {
        const char *key = keys[k];
        size_t n = strlen(key);
        char b[NOTE_SKEY_SIZE];
        int accepted = 0;
        for (size_t i = 0; i <= n; i++)
            for (size_t j = i + 1; j <= n; j++) {
                if (i == 0 && j == n) continue;
                memcpy(b, key + i, j - i);
                b[j - i] = '\0';
                struct errbuf e;
                if (k == 0) {
                    struct note_verifier *v;
                    if (note_verifier_parse(b, &v, &e) == 0) accepted++, note_verifier_free(v);
                } else {
                    struct note_signer *s;
                    if (note_signer_parse(b, &s, &e) == 0) accepted++, note_signer_free(s);
                }
            }
        for (size_t i = 0; i < n; i++) {
            memcpy(b, key, n + 1);
            b[i]++;
            struct errbuf e;
            if (k == 0) {
                struct note_verifier *v;
                if (note_verifier_parse(b, &v, &e) == 0) accepted++, note_verifier_free(v);
            } else {
                struct note_signer *s;
                if (note_signer_parse(b, &s, &e) == 0) accepted++, note_signer_free(s);
            }
        }
        CHECK_INT(accepted, 0);
    }
}

static void test_key_names(void)
{
    CHECK(note_name_valid("example.com/log42"));
    CHECK(note_name_valid("oid/1.3.6.1.4.1"));
    CHECK(note_name_valid("quasimodo.example/salvatore"));
    CHECK(note_name_valid("Ogni\xc3\xb9no")); /* non-ASCII letters are fine */
    CHECK(!note_name_valid(""));
    CHECK(!note_name_valid("a+b"));
    CHECK(!note_name_valid("a b"));
    CHECK(!note_name_valid("a\tb"));
    CHECK(!note_name_valid("a\xc2\xa0" "b"));     /* U+00A0 no-break space */
    CHECK(!note_name_valid("a\xe3\x80\x80" "b")); /* U+3000 ideographic space */
    CHECK(!note_name_valid("a\xe2\x80\x89" "b")); /* U+2009 thin space */
    CHECK(!note_name_valid("a\xff"));             /* not UTF-8 */
    CHECK(!note_name_valid("a\xc0\xaf"));         /* overlong */
    CHECK(!note_name_valid("a\x01"));
    char longname[NOTE_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(!note_name_valid(longname));
    longname[NOTE_NAME_MAX] = '\0';
    CHECK(note_name_valid(longname));

    char sk[NOTE_SKEY_SIZE], vk[NOTE_VKEY_SIZE];
    struct errbuf e;
    CHECK_INT(note_key_generate("bad name", NOTE_KEY_ED25519, sk, vk, &e), ERR_INVAL);
    CHECK_INT(note_key_generate("a+b", NOTE_KEY_ED25519, sk, vk, &e), ERR_INVAL);
    CHECK_INT(note_key_generate("", NOTE_KEY_ED25519, sk, vk, &e), ERR_INVAL);
    CHECK_INT(note_key_generate("x", (enum note_key_type)2, sk, vk, &e), ERR_INVAL);
    /* the longest name fits the key string sizes */
    CHECK_INT(note_key_generate(longname, NOTE_KEY_COSIG, sk, vk, &e), 0);
    struct note_signer *s = sparse(sk);
    struct note_verifier *v = vparse(vk);
    CHECK(s && v);
    note_signer_free(s);
    note_verifier_free(v);
    note_wipe(sk, sizeof sk);
}

static void test_key_generate(void)
{
    char sk[NOTE_SKEY_SIZE], vk[NOTE_VKEY_SIZE];
    struct errbuf e;
    for (int t = 0; t < 2; t++) {
        enum note_key_type type = t ? NOTE_KEY_COSIG : NOTE_KEY_ED25519;
        CHECK_INT(note_key_generate("truce.example/log", type, sk, vk, &e), 0);
        CHECK(strncmp(sk, "PRIVATE+KEY+truce.example/log+", 30) == 0);
        CHECK(strncmp(vk, "truce.example/log+", 18) == 0);
        CHECK_INT(strlen(vk), strlen("truce.example/log+") + 8 + 1 + 44);
        /* the key type byte leads the base64: 0x01 -> "AQ", 0x04 -> "BA" / "BB".. */
        const char *b = after_plus(vk, 2);
        CHECK(t ? b[0] == 'B' : b[0] == 'A');
        struct note_signer *s = sparse(sk);
        struct note_verifier *v = vparse(vk);
        if (!s || !v) return;
        CHECK_INT(note_signer_type(s), type);
        CHECK_INT(note_verifier_type(v), type);
        CHECK_INT(note_signer_keyid(s), note_verifier_keyid(v));
        char vk2[NOTE_VKEY_SIZE];
        note_signer_vkey(s, vk2);
        CHECK_STR(vk2, vk);
        note_signer_free(s);
        note_verifier_free(v);
    }
    note_wipe(sk, sizeof sk);
    /* the key ID binds the type: the same key with type 0x01 has another ID */
    struct note_verifier *v;
    CHECK_INT(note_verifier_parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7on"
                                  "lmtw2", &v, &e), 0);
    if (v) {
        CHECK_INT(note_verifier_type(v), NOTE_KEY_COSIG);
        CHECK_INT(note_verifier_keyid(v), 0xda77ade7u);
        note_verifier_free(v);
    }
    CHECK_INT(note_verifier_parse("remora.n621.de+da77ade7+AevN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7on"
                                  "lmtw2", &v, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "does not match");
    /* the rest after the second '+' is base64 and may hold '+' itself */
    CHECK_INT(note_verifier_parse("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6", &v,
                                  &e), 0);
    note_verifier_free(v);
    CHECK_INT(note_verifier_parse("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!", &v, &e),
              ERR_PARSE);
    CHECK_INT(note_verifier_parse("bananas.sigstore.dev+12344556", &v, &e), ERR_PARSE);
    CHECK_INT(note_verifier_parse("rekor.sigstore.dev+12345678+AwEB", &v, &e), ERR_INVAL);
    CHECK_INT(note_signer_parse(PETER_VKEY, (struct note_signer **)&v, &e), ERR_PARSE);
}

/* ---- signed notes ---- */

static void test_go_sign_vector(void)
{
    struct note_signer *s = sparse(PETER_SKEY);
    if (!s) return;
    struct buf out;
    buf_init(&out);
    struct errbuf e;
    CHECK_INT(note_sign(GO_TEXT, strlen(GO_TEXT), &s, 1, &out, &e), 0);
    char *want = cat(GO_TEXT, "\n", PETER_SIG, "");
    CHECK_STR(out.p, want);
    free(want);
    /* bad inputs: no final newline, control character, no signer */
    size_t before = out.len;
    CHECK_INT(note_sign("abc", 3, &s, 1, &out, &e), ERR_PARSE);
    CHECK_INT(note_sign("a\tb\n", 4, &s, 1, &out, &e), ERR_PARSE);
    CHECK_INT(note_sign("a\xff\n", 3, &s, 1, &out, &e), ERR_PARSE);
    CHECK_INT(note_sign("", 0, &s, 1, &out, &e), ERR_PARSE);
    CHECK_INT(note_sign(GO_TEXT, strlen(GO_TEXT), &s, 0, &out, &e), ERR_INVAL);
    CHECK_INT(out.len, before);
    buf_reset(&out);
    note_signer_free(s);
}

static void test_go_open_vectors(void)
{
    struct note_verifier *peter = vparse(PETER_VKEY), *enoch = vparse(ENOCH_VKEY);
    if (!peter || !enoch) return;
    char *both = cat(GO_TEXT, "\n", PETER_SIG, ENOCH_SIG);
    struct note_opened o;

    /* one signature verified, one from an unknown key */
    CHECK_INT(open_str(both, &peter, 1, &o), 0);
    CHECK_STR(o.text, GO_TEXT);
    CHECK_INT(o.text_len, strlen(GO_TEXT));
    CHECK_INT(o.nverified, 1);
    CHECK(o.verified && o.verified[0]);
    CHECK_INT(o.nunknown, 1);
    note_opened_free(&o);

    /* both verified */
    struct note_verifier *pe[3] = {peter, enoch, NULL};
    CHECK_INT(open_str(both, pe, 2, &o), 0);
    CHECK_INT(o.nverified, 2);
    CHECK(o.verified[0] && o.verified[1]);
    CHECK_INT(o.nunknown, 0);
    note_opened_free(&o);

    /* none known */
    CHECK_INT(open_str(both, NULL, 0, &o), ERR_NOTFOUND);
    CHECK(o.text == NULL && o.verified == NULL);

    /* duplicated verifier: an error only when a line uses it */
    struct note_verifier *dup[3] = {enoch, peter, enoch};
    char *enoch_only = cat(GO_TEXT, "\n", ENOCH_SIG, "");
    CHECK_INT(open_str(enoch_only, dup, 3, NULL), ERR_CONFLICT);
    char *peter_only = cat(GO_TEXT, "\n", PETER_SIG, "");
    CHECK_INT(open_str(peter_only, dup, 3, NULL), 0);

    /* too many signature lines: 101 (100 is the limit) */
    size_t sl = strlen(PETER_SIG), tl = strlen(GO_TEXT);
    char *many = malloc(tl + 1 + 101 * sl + 1);
    memcpy(many, GO_TEXT, tl);
    many[tl] = '\n';
    for (int i = 0; i < 101; i++)
        memcpy(many + tl + 1 + i * sl, PETER_SIG, sl);
    many[tl + 1 + 101 * sl] = '\0';
    CHECK_INT(open_str(many, &peter, 1, NULL), ERR_TOOBIG);
    CHECK_INT(open_str(many, NULL, 0, NULL), ERR_TOOBIG);
    many[tl + 1 + 100 * sl] = '\0'; /* exactly 100: accepted, repeats skipped */
    CHECK_INT(open_str(many, &peter, 1, &o), 0);
    CHECK_INT(o.nverified, 1);
    note_opened_free(&o);
    free(many);

    /* invalid signature from a known key: "ABCD" inserted at byte 60 of the line */
    char badsig[256], badenoch[256];
    snprintf(badsig, sizeof badsig, "%.60sABCD%s", PETER_SIG, PETER_SIG + 60);
    char *bad = cat(GO_TEXT, "\n", badsig, "");
    struct errbuf e;
    CHECK_INT(note_open(bad, strlen(bad), &peter, 1, &o, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "invalid signature for key PeterNeumann+c74f20a3");
    free(bad);

    /* repeated verified and unverified signatures */
    snprintf(badenoch, sizeof badenoch, "%.60sABCD%s", ENOCH_SIG, ENOCH_SIG + 60);
    size_t n = tl + 1 + 2 * sl + 3 * strlen(ENOCH_SIG) + 8;
    char *rep = malloc(n);
    snprintf(rep, n, "%s\n%s%s%s%s%s", GO_TEXT, PETER_SIG, PETER_SIG, ENOCH_SIG, ENOCH_SIG,
             badenoch);
    CHECK_INT(open_str(rep, &peter, 1, &o), 0);
    CHECK_INT(o.nverified, 1);
    CHECK_INT(o.nunknown, 3);
    note_opened_free(&o);
    free(rep);

    /* malformed messages (Go's badMsgs) */
    char psig_nonl[256];
    snprintf(psig_nonl, sizeof psig_nonl, "%.*s", (int)(sl - 1), PETER_SIG);
    char *bads[] = {
        cat(GO_TEXT, "", "", ""),
        cat(GO_TEXT, "\n", "", ""),
        cat(GO_TEXT, "\n", psig_nonl, ""),
        cat("\x01", GO_TEXT, "\n", PETER_SIG),
        cat("\xff", GO_TEXT, "\n", PETER_SIG),
        cat(GO_TEXT, "\n", "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC"
                           "2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=", ""),
        cat(GO_TEXT, "\n", PETER_SIG, "Unexpected line.\n"),
        cat(GO_TEXT, "\n", "- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                           "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", ""),
        cat(GO_TEXT, "\n", "— PeterNeumann\n", ""),
        cat(GO_TEXT, "\n", "— PeterNeumann x08go\n", ""),
        cat(GO_TEXT, "\n", "— PeterNeumann AAAA\n", ""), /* 3 bytes: no room for a signature */
        cat(GO_TEXT, "\n", "— PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgY"
                           "N1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", ""),
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        int rc = open_str(bads[i], &peter, 1, NULL);
        if (rc != ERR_PARSE) T_FAIL_("bad message %zu: got %d, want ERR_PARSE", i, rc);
        free(bads[i]);
    }
    /* a line from an unknown key with the right name but another key ID is ignored */
    char *wrongid = cat(GO_TEXT, "\n", ENOCH_SIG, "— PeterNeumann AAAAAAA=\n");
    CHECK_INT(open_str(wrongid, pe, 2, &o), 0);
    CHECK_INT(o.nverified, 1);
    CHECK(!o.verified[0] && o.verified[1]);
    CHECK_INT(o.nunknown, 1);
    note_opened_free(&o);
    free(wrongid);

    free(both);
    free(enoch_only);
    free(peter_only);
    note_verifier_free(peter);
    note_verifier_free(enoch);
}

static void test_sumdb_checkpoint(void)
{
    struct note_verifier *vs[4];
    vs[0] = vparse(SUMDB_VKEY);
    for (int i = 0; i < 3; i++)
        vs[i + 1] = vparse(OTHER_VKEYS[i]);
    if (!vs[0] || !vs[1] || !vs[2] || !vs[3]) return;
    CHECK_INT(note_verifier_keyid(vs[0]), 0x033de0aeu);

    struct buf msg;
    buf_init(&msg);
    CHECK_INT(buf_printf(&msg, "%s\n%s%s%s%s", SUMDB_TEXT, SUMDB_SIG, OTHER_SIGS[0],
                         OTHER_SIGS[1], OTHER_SIGS[2]), 0);
    struct note_opened o;
    struct errbuf e;
    CHECK_INT(note_open(msg.p, msg.len, vs, 4, &o, &e), 0);
    CHECK_INT(o.nverified, 4);
    CHECK_STR(o.text, SUMDB_TEXT);
    struct note_checkpoint c;
    CHECK_INT(note_checkpoint_parse(o.text, o.text_len, &c, &e), 0);
    CHECK_STR(c.origin, "go.sum database tree");
    CHECK_INT(c.size, 6476701);
    CHECK_INT(c.hash[0], 0x99); /* "mb8Q" */
    CHECK_INT(c.ext_len, 0);
    note_opened_free(&o);
    /* the log's key alone */
    CHECK_INT(note_open(msg.p, msg.len, vs, 1, &o, &e), 0);
    CHECK_INT(o.nunknown, 3);
    note_opened_free(&o);
    /* altered size in the text: every known signature fails */
    char *p = strstr(msg.p, "6476701");
    p[6] = '2';
    CHECK_INT(note_open(msg.p, msg.len, vs, 4, &o, &e), ERR_INVAL);
    CHECK_INT(note_open(msg.p, msg.len, vs + 2, 1, &o, &e), ERR_INVAL);
    buf_reset(&msg);
    for (int i = 0; i < 4; i++)
        note_verifier_free(vs[i]);
}

static void test_round_trip(void)
{
    char sk1[NOTE_SKEY_SIZE], vk1[NOTE_VKEY_SIZE], sk2[NOTE_SKEY_SIZE], vk2[NOTE_VKEY_SIZE];
    char sk3[NOTE_SKEY_SIZE], vk3[NOTE_VKEY_SIZE];
    struct errbuf e;
    CHECK_INT(note_key_generate("truce.example/log", NOTE_KEY_ED25519, sk1, vk1, &e), 0);
    CHECK_INT(note_key_generate("truce.example/mirror", NOTE_KEY_ED25519, sk2, vk2, &e), 0);
    CHECK_INT(note_key_generate("truce.example/log", NOTE_KEY_ED25519, sk3, vk3, &e), 0);
    struct note_signer *ss[2] = {sparse(sk1), sparse(sk2)};
    struct note_verifier *v1 = vparse(vk1), *v2 = vparse(vk2), *v3 = vparse(vk3);
    if (!ss[0] || !ss[1] || !v1 || !v2 || !v3) return;
    /* text with an empty line inside, non-ASCII, and DEL (not a control character here) */
    const char text[] = "Кривий Ріг\n\nceasefire \x7f report\n";
    struct buf out;
    buf_init(&out);
    CHECK_INT(note_sign(text, strlen(text), ss, 2, &out, &e), 0);
    struct note_opened o;
    struct note_verifier *vs[2] = {v2, v1};
    CHECK_INT(note_open(out.p, out.len, vs, 2, &o, &e), 0);
    CHECK_STR(o.text, text);
    CHECK_INT(o.nverified, 2);
    note_opened_free(&o);
    CHECK_INT(note_open(out.p, out.len, &v2, 1, &o, &e), 0);
    note_opened_free(&o);

    /* wrong key: same name, other key -> another key ID -> unknown, so no known signature */
    CHECK_INT(note_open(out.p, out.len, &v3, 1, &o, &e), ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no signature from a known key");

    /* altered text */
    char *m = malloc(out.len + 1);
    memcpy(m, out.p, out.len + 1);
    char *x = strstr(m, "report");
    x[0] = 'R';
    CHECK_INT(note_open(m, out.len, &v1, 1, &o, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "invalid signature for key truce.example/log+");
    /* altered signature: every character of v1's signature, changed to another base64 one */
    memcpy(m, out.p, out.len + 1);
    char *line = strstr(m, "— truce.example/log ");
    char *b = line + strlen("— truce.example/log ");
    char *eol = strchr(b, '\n');
    int accepted = 0;
    for (char *q = b; q < eol; q++) {
        char keep = *q;
        if (keep == '=') continue;
        *q = keep == 'A' ? 'B' : 'A';
        int rc = note_open(m, out.len, &v1, 1, &o, &e);
        if (rc == 0) {
            accepted++;
            note_opened_free(&o);
        } else if (rc != ERR_INVAL && rc != ERR_PARSE && rc != ERR_NOTFOUND) {
            T_FAIL_("altered signature: unexpected %d", rc);
        }
        *q = keep;
    }
    CHECK_INT(accepted, 0);
    /* truncated at every length */
    int ok = 0;
    for (size_t n = 0; n < out.len; n++) {
        if (note_open(out.p, n, &v1, 1, &o, &e) == 0) {
            ok++;
            note_opened_free(&o);
        }
    }
    /* only the cut that drops the whole last line (v2's) leaves a valid note signed by v1 */
    CHECK_INT(ok, 1);
    free(m);
    buf_reset(&out);
    note_signer_free(ss[0]);
    note_signer_free(ss[1]);
    note_verifier_free(v1);
    note_verifier_free(v2);
    note_verifier_free(v3);
    note_wipe(sk1, sizeof sk1);
    note_wipe(sk2, sizeof sk2);
    note_wipe(sk3, sizeof sk3);
}

/* ---- checkpoints ---- */

static void test_checkpoint_parse(void)
{
    /* the C2SP tlog-checkpoint example */
    const char ex[] = "example.com/behind-the-sofa\n20852163\n"
                      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    struct note_checkpoint c;
    struct errbuf e;
    CHECK_INT(note_checkpoint_parse(ex, strlen(ex), &c, &e), 0);
    CHECK_STR(c.origin, "example.com/behind-the-sofa");
    CHECK_INT(c.size, 20852163);
    CHECK_INT(c.hash[0], 0x0a);
    CHECK_INT(c.hash[31], 0x62);
    CHECK_INT(c.ext_len, 0);
    struct buf out;
    buf_init(&out);
    CHECK_INT(note_checkpoint_format(&c, &out, &e), 0);
    CHECK_STR(out.p, ex);

    /* extension lines and extreme sizes round trip */
    const char ext[] = "o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nline one\nline 2\n";
    CHECK_INT(note_checkpoint_parse(ext, strlen(ext), &c, &e), 0);
    CHECK_INT(c.size, 0);
    CHECK_INT(c.ext_len, strlen("line one\nline 2\n"));
    CHECK(c.ext == ext + strlen(ext) - c.ext_len);
    buf_reset(&out);
    CHECK_INT(note_checkpoint_format(&c, &out, &e), 0);
    CHECK_STR(out.p, ext);
    const char max[] = "o\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    CHECK_INT(note_checkpoint_parse(max, strlen(max), &c, &e), 0);
    CHECK(c.size == UINT64_MAX);

    static const struct {
        const char *text;
        int code;
        const char *msg;
    } bad[] = {
        {"", ERR_PARSE, "newline"},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ERR_PARSE, "newline"},
        {"\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "empty origin"},
        {"o\n", ERR_PARSE, "no tree size"},
        {"o\n1\n", ERR_PARSE, "no root hash"},
        {"o\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "empty tree size"},
        {"o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "leading zero"},
        {"o\n00\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "leading zero"},
        {"o\n+1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "decimal"},
        {"o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "decimal"},
        {"o\n1 \nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "decimal"},
        {"o\n0x10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "leading zero"},
        {"o\n1x0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "decimal"},
        {"o\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_INVAL,
         "2^64"},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", ERR_PARSE, "32 bytes"}, /* 31 */
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", ERR_PARSE, "32 bytes"}, /* 33 */
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", ERR_PARSE, "32 bytes"}, /* bits */
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", ERR_PARSE, "32 bytes"},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "32 bytes"},
        {"o\n1\n\n", ERR_PARSE, "32 bytes"},
        /* bytes >= 0x80 (valid UTF-8 here) that libsodium 1.0.18 alone decodes as digits */
        {"o\n1\n47DEQpj8HBSa+\xcd\xabImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", ERR_PARSE, "32 bytes"},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A=\n", ERR_PARSE, "32 bytes"},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", ERR_PARSE, "empty extension"},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nx\n\ny\n", ERR_PARSE,
         "empty extension"},
        {"o\x01\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "control"},
        {"o\xff\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "UTF-8"},
        {"o\r\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ERR_PARSE, "control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.msg[0] = '\0';
        int rc = note_checkpoint_parse(bad[i].text, strlen(bad[i].text), &c, &e);
        if (rc != bad[i].code) T_FAIL_("bad checkpoint %zu: got %d, want %d", i, rc, bad[i].code);
        CHECK_CONTAINS(e.msg, bad[i].msg);
    }
    char longo[NOTE_NAME_MAX + 64];
    memset(longo, 'o', NOTE_NAME_MAX + 1);
    strcpy(longo + NOTE_NAME_MAX + 1, "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    CHECK_INT(note_checkpoint_parse(longo, strlen(longo), &c, &e), ERR_TOOBIG);

    /* formatting refuses what parsing refuses, and leaves out unchanged */
    buf_reset(&out);
    memset(&c, 0, sizeof c);
    CHECK_INT(note_checkpoint_format(&c, &out, &e), ERR_PARSE); /* empty origin */
    strcpy(c.origin, "a\nb");
    CHECK_INT(note_checkpoint_format(&c, &out, &e), ERR_PARSE); /* "b" is not a size */
    strcpy(c.origin, "o");
    c.ext = "no newline";
    c.ext_len = strlen(c.ext);
    CHECK_INT(note_checkpoint_format(&c, &out, &e), ERR_PARSE);
    CHECK_INT(out.len, 0);
    buf_reset(&out);
}

/* ---- cosignatures ---- */

static int sig_line(const char *s, struct note_sig_info *si)
{
    struct errbuf e;
    return note_sig_line_parse(s, strlen(s), si, &e);
}

static void test_cosig_line_vectors(void)
{
    struct note_sig_info si;
    struct errbuf e;
    /* the C2SP tlog-cosignature example: a log signature and a witness cosignature */
    const char log[] = "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRD"
                       "eOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    CHECK_INT(note_sig_line_parse(log, strlen(log), &si, &e), 0);
    CHECK_STR(si.name, "example.com/behind-the-sofa");
    CHECK_INT(si.keyid, 0x033de0aeu);
    CHECK_INT(si.sig_len, 64);
    CHECK_INT(si.timestamp, 0);
    const char wit[] = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI"
                       "5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
    CHECK_INT(note_sig_line_parse(wit, strlen(wit), &si, &e), 0);
    CHECK_STR(si.name, "witness.example.com/w1");
    CHECK_INT(si.sig_len, 72);
    CHECK_INT(si.timestamp, 1679315147); /* the time in the spec's example message */
    /* transparency-dev/formats TestCosignatureTimestamp */
    const char td[] = "— w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8q"
                      "T7S5gxEHWWOworDcFiEBYJXORmnFBOBA==\n";
    CHECK_INT(note_sig_line_parse(td, strlen(td), &si, &e), 0);
    CHECK_INT(si.timestamp, 1727964367);
    CHECK_INT(sig_line("— w 5%/$!", &si), ERR_PARSE);
    CHECK_INT(sig_line("— w AAAA\xcd\xab==", &si), ERR_PARSE);
    CHECK_INT(sig_line("x\n— w AAAAAAA=\n", &si), ERR_PARSE);
}

/* Decodes the seed of a signer key string and derives the Ed25519 public key, independently of
 * the module, so the cosigned message can be checked byte for byte. */
static void pk_of(const char *skey, unsigned char pk[32])
{
    const char *b = after_plus(skey, 4);
    unsigned char raw[40], sk[64];
    size_t n = 0;
    if (sodium_base642bin(raw, sizeof raw, b, strlen(b), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || n != 33)
        T_FAIL_("bad signer key in test");
    crypto_sign_seed_keypair(pk, sk, raw + 1);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(raw, sizeof raw);
}

static void test_cosign(void)
{
    char lsk[NOTE_SKEY_SIZE], lvk[NOTE_VKEY_SIZE], wsk[NOTE_SKEY_SIZE], wvk[NOTE_VKEY_SIZE];
    struct errbuf e;
    CHECK_INT(note_key_generate("example.com/behind-the-sofa", NOTE_KEY_ED25519, lsk, lvk, &e), 0);
    CHECK_INT(note_key_generate("witness.example.com/w1", NOTE_KEY_COSIG, wsk, wvk, &e), 0);
    struct note_signer *ls = sparse(lsk), *ws = sparse(wsk);
    struct note_verifier *lv = vparse(lvk), *wv = vparse(wvk);
    if (!ls || !ws || !lv || !wv) return;
    const char body[] = "example.com/behind-the-sofa\n20852163\n"
                        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    struct buf line;
    buf_init(&line);
    CHECK_INT(note_cosign(body, strlen(body), ws, 1679315147, &line, &e), 0);
    CHECK(strncmp(line.p, "— witness.example.com/w1 ", strlen("— witness.example.com/w1 ")) == 0);

    /* the signed message is exactly "cosignature/v1\ntime 1679315147\n" || body */
    struct note_sig_info si;
    CHECK_INT(note_sig_line_parse(line.p, line.len, &si, &e), 0);
    CHECK_INT(si.keyid, note_verifier_keyid(wv));
    CHECK_INT(si.timestamp, 1679315147);
    CHECK_INT(si.sig_len, 72);
    {
        unsigned char pk[32], raw[80];
        pk_of(wsk, pk);
        const char *b = line.p + strlen("— witness.example.com/w1 ");
        size_t n = 0;
        CHECK_INT(sodium_base642bin(raw, sizeof raw, b, line.len - 1 - (size_t)(b - line.p), NULL,
                                    &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
        CHECK_INT(n, 76);
        const char want_msg[] = "cosignature/v1\ntime 1679315147\n"
                                "example.com/behind-the-sofa\n20852163\n"
                                "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        CHECK_INT(crypto_sign_verify_detached(raw + 12, (const unsigned char *)want_msg,
                                              strlen(want_msg), pk), 0);
        /* and the key ID is SHA-256(name || 0x0A || 0x04 || pk)[:4] */
        unsigned char h[32], pre[64];
        size_t nl = strlen("witness.example.com/w1");
        memcpy(pre, "witness.example.com/w1\n\x04", nl + 2);
        memcpy(pre + nl + 2, pk, 32);
        crypto_hash_sha256(h, pre, nl + 34);
        CHECK_INT(si.keyid, (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | h[2] << 8 | h[3]);
    }

    uint64_t t = 0;
    CHECK_INT(note_cosig_verify(body, strlen(body), line.p, line.len, wv, &t, &e), 0);
    CHECK_INT(t, 1679315147);
    /* altered checkpoint, wrong key, wrong key type, bad timestamps */
    char alt[sizeof body];
    memcpy(alt, body, sizeof body);
    alt[strlen("example.com/behind-the-sofa\n")] = '3';
    CHECK_INT(note_cosig_verify(alt, strlen(alt), line.p, line.len, wv, &t, &e), ERR_INVAL);
    CHECK_INT(t, 0);
    CHECK_INT(note_cosig_verify(body, strlen(body), line.p, line.len, lv, &t, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "not a cosignature/v1 key");
    char wsk2[NOTE_SKEY_SIZE], wvk2[NOTE_VKEY_SIZE];
    CHECK_INT(note_key_generate("witness.example.com/w2", NOTE_KEY_COSIG, wsk2, wvk2, &e), 0);
    struct note_verifier *wv2 = vparse(wvk2);
    CHECK_INT(note_cosig_verify(body, strlen(body), line.p, line.len, wv2, &t, &e), ERR_NOTFOUND);
    note_verifier_free(wv2);
    struct buf l2;
    buf_init(&l2);
    CHECK_INT(note_cosign(body, strlen(body), ls, 1, &l2, &e), ERR_INVAL);
    CHECK_INT(note_cosign(body, strlen(body), ws, (uint64_t)INT64_MAX + 1, &l2, &e), ERR_INVAL);
    CHECK_INT(note_cosign("not a checkpoint\n", 17, ws, 1, &l2, &e), ERR_PARSE);
    CHECK_INT(l2.len, 0);
    CHECK_INT(note_cosign(body, strlen(body), ws, (uint64_t)INT64_MAX, &l2, &e), 0);
    CHECK_INT(note_cosig_verify(body, strlen(body), l2.p, l2.len, wv, &t, &e), 0);
    CHECK(t == (uint64_t)INT64_MAX);
    buf_reset(&l2);

    /* a checkpoint signed by the log, then cosigned: the line appended to the note */
    struct buf n;
    buf_init(&n);
    CHECK_INT(note_sign(body, strlen(body), &ls, 1, &n, &e), 0);
    CHECK_INT(buf_append(&n, line.p, line.len), 0);
    struct note_verifier *both[2] = {lv, wv};
    struct note_opened o;
    CHECK_INT(note_open(n.p, n.len, both, 2, &o, &e), 0);
    CHECK_INT(o.nverified, 2);
    CHECK_INT(o.timestamps[0], 0);
    CHECK_INT(o.timestamps[1], 1679315147);
    note_opened_free(&o);
    /* the witness key alone opens it; a cosignature is not a plain Ed25519 signature */
    CHECK_INT(note_open(n.p, n.len, &wv, 1, &o, &e), 0);
    note_opened_free(&o);

    /* note_sign with a witness signer cosigns at the current time */
    buf_reset(&n);
    struct note_signer *two[2] = {ls, ws};
    uint64_t before = (uint64_t)time(NULL);
    CHECK_INT(note_sign(body, strlen(body), two, 2, &n, &e), 0);
    CHECK_INT(note_open(n.p, n.len, both, 2, &o, &e), 0);
    CHECK(o.timestamps[1] >= before && o.timestamps[1] <= before + 5);
    note_opened_free(&o);
    /* witness signers only cosign checkpoints */
    CHECK_INT(note_sign("hello\n", 6, &ws, 1, &n, &e), ERR_PARSE);
    buf_reset(&n);

    buf_reset(&line);
    note_signer_free(ls);
    note_signer_free(ws);
    note_verifier_free(lv);
    note_verifier_free(wv);
    note_wipe(lsk, sizeof lsk);
    note_wipe(wsk, sizeof wsk);
    note_wipe(wsk2, sizeof wsk2);
}

/* ---- key files ---- */

static void test_key_file(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/log.key", tmpdir);
    char sk[NOTE_SKEY_SIZE], vk[NOTE_VKEY_SIZE];
    struct errbuf e;
    CHECK_INT(note_key_generate("truce.example/log", NOTE_KEY_ED25519, sk, vk, &e), 0);
    mode_t old = umask(0);
    CHECK_INT(note_key_write_new(path, sk, &e), 0);
    umask(old);
    struct stat st;
    CHECK_INT(lstat(path, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT(st.st_size, strlen(sk) + 1);
    /* a second create is refused and leaves the first key */
    char sk2[NOTE_SKEY_SIZE], vk2[NOTE_VKEY_SIZE];
    CHECK_INT(note_key_generate("truce.example/log", NOTE_KEY_ED25519, sk2, vk2, &e), 0);
    CHECK_INT(note_key_write_new(path, sk2, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "already exists");
    struct note_signer *s = NULL;
    CHECK_INT(note_key_read(path, &s, &e), 0);
    if (s) {
        char got[NOTE_VKEY_SIZE];
        note_signer_vkey(s, got);
        CHECK_STR(got, vk);
        note_signer_free(s);
    }
    /* a symbolic link is neither followed nor replaced */
    char link[600];
    snprintf(link, sizeof link, "%s/link.key", tmpdir);
    CHECK_INT(symlink(path, link), 0);
    CHECK_INT(note_key_write_new(link, sk2, &e), ERR_CONFLICT);
    CHECK_INT(note_key_read(link, &s, &e), ERR_INVAL);
    unlink(link);
    /* a key readable by others is refused */
    CHECK_INT(chmod(path, 0644), 0);
    CHECK_INT(note_key_read(path, &s, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "chmod 600");
    unlink(path);
    CHECK_INT(note_key_read(path, &s, &e), ERR_NOTFOUND);
    /* an invalid key is never written */
    CHECK_INT(note_key_write_new(path, "PRIVATE+KEY+x+00000000+AAAA", &e), ERR_INVAL);
    CHECK_INT(note_key_write_new(path, "PRIVATE+KEY+x", &e), ERR_PARSE);
    CHECK_INT(access(path, F_OK), -1);
    /* a file that is not a key */
    FILE *f = fopen(path, "w");
    fputs("hello\n", f);
    fclose(f);
    chmod(path, 0600);
    CHECK_INT(note_key_read(path, &s, &e), ERR_PARSE);
    CHECK_CONTAINS(e.msg, path);
    unlink(path);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no/such/dir/k", tmpdir);
    CHECK_INT(note_key_write_new(missing, sk, &e), ERR_IO);
    note_wipe(sk, sizeof sk);
    note_wipe(sk2, sizeof sk2);
}

static void test_limits(void)
{
    struct note_verifier *peter = vparse(PETER_VKEY);
    if (!peter) return;
    /* larger than NOTE_MAX_BYTES */
    size_t n = NOTE_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, 'a', n);
    struct note_opened o;
    struct errbuf e;
    CHECK_INT(note_open(big, n, &peter, 1, &o, &e), ERR_TOOBIG);
    struct note_checkpoint c;
    CHECK_INT(note_checkpoint_parse(big, n, &c, &e), ERR_TOOBIG);
    big[n - 2] = '\n';
    struct note_signer *s = sparse(PETER_SKEY);
    struct buf out;
    buf_init(&out);
    CHECK_INT(note_sign(big, n - 1, &s, 1, &out, &e), ERR_TOOBIG); /* text fits, note does not */
    CHECK_INT(out.len, 0);
    buf_reset(&out);
    note_signer_free(s);
    free(big);
    /* an empty message, a lone blank line, a NUL */
    CHECK_INT(note_open("", 0, &peter, 1, &o, &e), ERR_PARSE);
    CHECK_INT(note_open("\n\n", 2, &peter, 1, &o, &e), ERR_PARSE);
    CHECK_INT(note_open("a\0\n\n", 4, &peter, 1, &o, &e), ERR_PARSE);
    note_verifier_free(peter);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/truce-test-note-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    static const struct t_case cases[] = {
        T(test_go_key_vectors),  T(test_go_key_manglings), T(test_key_names),
        T(test_key_generate),    T(test_go_sign_vector),   T(test_go_open_vectors),
        T(test_sumdb_checkpoint), T(test_round_trip),      T(test_checkpoint_parse),
        T(test_cosig_line_vectors), T(test_cosign),        T(test_key_file),
        T(test_limits),
    };
    int rc = T_RUN(cases);
    rmdir(tmpdir);
    return rc;
}
