// check_checkpoint verifies, with Go's golang.org/x/mod/sumdb/note and sumdb/tlog (an
// implementation independent of truce), a checkpoint signed by `truce log checkpoint` and an
// inclusion proof printed by `truce log proof inclusion`.
//
// usage: check_checkpoint VERIFIER_KEY CHECKPOINT_FILE PROOF_FILE
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "check_checkpoint: "+format+"\n", args...)
	os.Exit(1)
}

func hash(s string) tlog.Hash {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: check_checkpoint VERIFIER_KEY CHECKPOINT_FILE PROOF_FILE")
	}
	v, err := note.NewVerifier(strings.TrimSpace(os.Args[1]))
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		fail("checkpoint text %q does not start with origin %q", n.Text, v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("root hash line %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)

	// "inclusion index I size N leaf HEX root HEX" then one proof hash per line
	f, err := os.Open(os.Args[3])
	if err != nil {
		fail("%v", err)
	}
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		fail("empty proof file")
	}
	head := strings.Fields(sc.Text())
	if len(head) != 9 || head[0] != "inclusion" {
		fail("bad proof header %q", sc.Text())
	}
	index, _ := strconv.ParseInt(head[2], 10, 64)
	psize, _ := strconv.ParseInt(head[4], 10, 64)
	leaf := hash(head[6])
	proofRoot := hash(head[8])
	var proof tlog.RecordProof
	for sc.Scan() {
		proof = append(proof, hash(strings.TrimSpace(sc.Text())))
	}
	if psize != size || proofRoot != root {
		fail("the proof is for size %d root %x, the checkpoint for size %d root %x", psize, proofRoot, size, root)
	}
	if err := tlog.CheckRecord(proof, size, root, index, leaf); err != nil {
		fail("tlog.CheckRecord: %v", err)
	}
	fmt.Printf("checkpoint interop: note.Open verified %s for %d leaves; tlog.CheckRecord verified leaf %d\n", v.Name(), size, index)
}
