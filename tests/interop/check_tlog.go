// check_tlog verifies the output of tests/interop/emit_proofs (truce's RFC 6962 ledger: leaf
// hashes, perfect-subtree nodes, roots, inclusion and consistency proofs) with an independent
// implementation, Go's golang.org/x/mod/sumdb/tlog. Run by tests/integration/interop_go.sh.
//
//	check_tlog FILE        (or - for stdin)
//
// What it checks, for a tree of N leaves:
//   - leaf hashes: tlog.RecordHash(data) == truce's leaf hash, for every leaf;
//   - stored hashes: tlog's storage (tlog.StoredHashes over the leaf data, StoredHashCount(N)
//     hashes in StoredHashIndex order) equals the one built with StoredHashesForRecordHash from
//     truce's leaf hashes; its level-0 entries are truce's leaf hashes and its level >= 1
//     entries are truce's perfect-subtree nodes (every one of them);
//   - roots: tlog.TreeHash(n) over that storage == truce's root for every n in 1..N (size 0:
//     truce uses SHA-256(""), tlog an all-zero hash, so it is checked against SHA-256(""));
//   - every inclusion proof passes tlog.CheckRecord and equals tlog.ProveRecord byte for byte;
//     every consistency proof passes tlog.CheckTree and equals tlog.ProveTree; a copy with
//     one hash changed must fail tlog's check;
//   - the counts on the end line match what was read (no truncated output).
//
// Exits 0 and prints "tlog interop: N inclusion, M consistency proofs verified (...)", or prints
// each mismatch (the first 20) and exits 1.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

var failures int

func fail(format string, args ...interface{}) {
	failures++
	if failures <= 20 {
		fmt.Fprintf(os.Stderr, "FAIL "+format+"\n", args...)
	}
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "check_tlog: "+format+"\n", args...)
	os.Exit(1)
}

type proofLine struct {
	line   int
	a, b   int64 // incl: index, size; cons: m, n
	hashes []tlog.Hash
}

type input struct {
	size                  int64
	data                  [][]byte
	leaves                []tlog.Hash
	nodes                 map[[2]int64]tlog.Hash // (level, j)
	roots                 map[int64]tlog.Hash
	incl, cons            []proofLine
	endCounts             []int64
	sawHeader, sawSize    bool
	leafLines, nodeLines  int
	rootLines, otherLines int
}

func parseHash(s string, line int) tlog.Hash {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fatal("line %d: %q is not a 64-digit hex hash", line, s)
	}
	copy(h[:], b)
	return h
}

func parseInt(s string, line int) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		fatal("line %d: %q is not a non-negative integer", line, s)
	}
	return v
}

func read(r io.Reader) *input {
	in := &input{nodes: map[[2]int64]tlog.Hash{}, roots: map[int64]tlog.Hash{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	ln := 0
	for sc.Scan() {
		ln++
		f := strings.Split(sc.Text(), " ")
		if in.endCounts != nil {
			fatal("line %d: text after the end line", ln)
		}
		if !in.sawHeader {
			if len(f) != 2 || f[0] != "truce-ledger-interop" || f[1] != "1" {
				fatal("line %d: expected the header \"truce-ledger-interop 1\"", ln)
			}
			in.sawHeader = true
			continue
		}
		switch f[0] {
		case "size":
			if len(f) != 2 || in.sawSize {
				fatal("line %d: bad size line", ln)
			}
			in.size = parseInt(f[1], ln)
			in.sawSize = true
		case "leaf":
			if len(f) != 4 {
				fatal("line %d: leaf needs 3 fields", ln)
			}
			if i := parseInt(f[1], ln); i != int64(len(in.leaves)) {
				fatal("line %d: leaf %d out of order (expected %d)", ln, i, len(in.leaves))
			}
			d, err := hex.DecodeString(f[2])
			if err != nil {
				fatal("line %d: bad leaf data hex", ln)
			}
			in.data = append(in.data, d)
			in.leaves = append(in.leaves, parseHash(f[3], ln))
			in.leafLines++
		case "node":
			if len(f) != 4 {
				fatal("line %d: node needs 3 fields", ln)
			}
			k := [2]int64{parseInt(f[1], ln), parseInt(f[2], ln)}
			if _, dup := in.nodes[k]; dup || k[0] < 1 || k[0] > 62 {
				fatal("line %d: duplicate or bad node (%d, %d)", ln, k[0], k[1])
			}
			in.nodes[k] = parseHash(f[3], ln)
			in.nodeLines++
		case "root":
			if len(f) != 3 {
				fatal("line %d: root needs 2 fields", ln)
			}
			n := parseInt(f[1], ln)
			if _, dup := in.roots[n]; dup {
				fatal("line %d: duplicate root %d", ln, n)
			}
			in.roots[n] = parseHash(f[2], ln)
			in.rootLines++
		case "incl", "cons":
			if len(f) < 4 {
				fatal("line %d: %s needs at least 3 fields", ln, f[0])
			}
			p := proofLine{line: ln, a: parseInt(f[1], ln), b: parseInt(f[2], ln)}
			k := parseInt(f[3], ln)
			if int64(len(f)-4) != k {
				fatal("line %d: %s says %d hashes but has %d", ln, f[0], k, len(f)-4)
			}
			for _, s := range f[4:] {
				p.hashes = append(p.hashes, parseHash(s, ln))
			}
			if f[0] == "incl" {
				in.incl = append(in.incl, p)
			} else {
				in.cons = append(in.cons, p)
			}
		case "end":
			if len(f) != 6 {
				fatal("line %d: end needs 5 counts", ln)
			}
			in.endCounts = []int64{}
			for _, s := range f[1:] {
				in.endCounts = append(in.endCounts, parseInt(s, ln))
			}
		default:
			fatal("line %d: unknown item %q", ln, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		fatal("reading: %v", err)
	}
	if !in.sawHeader || !in.sawSize || in.endCounts == nil {
		fatal("truncated input: header, size or end line missing")
	}
	got := []int64{int64(in.leafLines), int64(in.nodeLines), int64(in.rootLines),
		int64(len(in.incl)), int64(len(in.cons))}
	for i := range got {
		if got[i] != in.endCounts[i] {
			fatal("end line counts %v, read %v", in.endCounts, got)
		}
	}
	if int64(len(in.leaves)) != in.size || in.size < 1 {
		fatal("size %d but %d leaves", in.size, len(in.leaves))
	}
	return in
}

// store is tlog's hash storage: stored hashes in StoredHashIndex order.
type store []tlog.Hash

func (s *store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*s)) {
			return nil, fmt.Errorf("stored hash %d not present (%d stored)", x, len(*s))
		}
		out[i] = (*s)[x]
	}
	return out, nil
}

// build appends the records one by one as a tlog server would.
func build(n int64, next func(i int64, r tlog.HashReader) ([]tlog.Hash, error)) *store {
	s := &store{}
	for i := int64(0); i < n; i++ {
		if int64(len(*s)) != tlog.StoredHashIndex(0, i) {
			fatal("tlog: storage has %d hashes before record %d, StoredHashIndex says %d",
				len(*s), i, tlog.StoredHashIndex(0, i))
		}
		hs, err := next(i, s)
		if err != nil {
			fatal("tlog: stored hashes of record %d: %v", i, err)
		}
		*s = append(*s, hs...)
	}
	if int64(len(*s)) != tlog.StoredHashCount(n) {
		fatal("tlog: %d stored hashes, StoredHashCount(%d) = %d", len(*s), n, tlog.StoredHashCount(n))
	}
	return s
}

func equalProof(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tampered is p with one hash changed (a bit of hash i mod len flipped).
func tampered(p []tlog.Hash, i int) []tlog.Hash {
	q := append([]tlog.Hash(nil), p...)
	q[i%len(q)][i%tlog.HashSize] ^= 0x01
	return q
}

func main() {
	if len(os.Args) != 2 {
		fatal("usage: check_tlog FILE (or - for stdin)")
	}
	var r io.Reader = os.Stdin
	if os.Args[1] != "-" {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fatal("%v", err)
		}
		defer f.Close()
		r = f
	}
	in := read(r)
	n := in.size

	// Leaf hashes: RecordHash of the data.
	for i, d := range in.data {
		if h := tlog.RecordHash(d); h != in.leaves[i] {
			fail("leaf %d (%q): truce %x, tlog.RecordHash %x", i, d, in.leaves[i], h)
		}
	}

	// Two tlog storages: from the data, and from truce's leaf hashes. They must agree entirely.
	fromData := build(n, func(i int64, hr tlog.HashReader) ([]tlog.Hash, error) {
		return tlog.StoredHashes(i, in.data[i], hr)
	})
	st := build(n, func(i int64, hr tlog.HashReader) ([]tlog.Hash, error) {
		return tlog.StoredHashesForRecordHash(i, in.leaves[i], hr)
	})
	for i := range *st {
		if (*st)[i] != (*fromData)[i] {
			fail("stored hash %d: from truce's leaf hashes %x, from the data %x", i, (*st)[i], (*fromData)[i])
		}
	}
	// Every stored hash is a level-0 leaf or a perfect subtree node truce printed, and every one
	// truce printed is where StoredHashIndex says.
	for x := int64(0); x < int64(len(*st)); x++ {
		level, j := tlog.SplitStoredHashIndex(x)
		if tlog.StoredHashIndex(level, j) != x {
			fail("tlog index %d: SplitStoredHashIndex gives (%d, %d), which maps back elsewhere", x, level, j)
			continue
		}
		want := (*st)[x]
		if level == 0 {
			if in.leaves[j] != want {
				fail("stored hash %d (leaf %d): truce %x, tlog %x", x, j, in.leaves[j], want)
			}
		} else if h, ok := in.nodes[[2]int64{int64(level), j}]; !ok {
			fail("stored hash %d: truce printed no node (%d, %d)", x, level, j)
		} else if h != want {
			fail("node (%d, %d) = stored hash %d: truce %x, tlog %x", level, j, x, h, want)
		}
	}
	if int64(len(in.nodes)) != int64(len(*st))-n {
		fail("truce printed %d nodes, tlog stores %d above the leaves", len(in.nodes), int64(len(*st))-n)
	}

	// Roots at every size.
	if h, ok := in.roots[0]; !ok || h != tlog.Hash(sha256.Sum256(nil)) {
		fail("root 0: truce %x, want SHA-256(\"\") (tlog's TreeHash(0) is all zeros by its own convention)", h)
	}
	for s := int64(1); s <= n; s++ {
		th, err := tlog.TreeHash(s, st)
		if err != nil {
			fail("tlog.TreeHash(%d): %v", s, err)
			continue
		}
		if h, ok := in.roots[s]; !ok {
			fail("root %d missing", s)
		} else if h != th {
			fail("root %d: truce %x, tlog.TreeHash %x", s, h, th)
		}
	}
	if int64(len(in.roots)) != n+1 {
		fail("%d roots printed, want %d (sizes 0..%d)", len(in.roots), n+1, n)
	}

	// Inclusion proofs: CheckRecord(proof, size, root, index, leaf).
	var tamperedRejected int
	for _, p := range in.incl {
		index, size := p.a, p.b
		if index >= size || size > n {
			fail("line %d: incl %d %d outside the tree of %d", p.line, index, size, n)
			continue
		}
		if err := tlog.CheckRecord(tlog.RecordProof(p.hashes), size, in.roots[size], index, in.leaves[index]); err != nil {
			fail("line %d: incl %d %d: tlog.CheckRecord: %v", p.line, index, size, err)
		}
		want, err := tlog.ProveRecord(size, index, st)
		if err != nil {
			fail("line %d: tlog.ProveRecord(%d, %d): %v", p.line, size, index, err)
		} else if !equalProof(p.hashes, want) {
			fail("line %d: incl %d %d differs from tlog.ProveRecord (%d hashes vs %d)", p.line, index, size, len(p.hashes), len(want))
		}
		if len(p.hashes) > 0 {
			if tlog.CheckRecord(tampered(p.hashes, p.line), size, in.roots[size], index, in.leaves[index]) == nil {
				fail("line %d: incl %d %d: tlog.CheckRecord accepts a tampered proof", p.line, index, size)
			} else {
				tamperedRejected++
			}
		}
	}

	// Consistency proofs: CheckTree(proof, new size, new root, old size, old root).
	for _, p := range in.cons {
		m, s := p.a, p.b
		if m < 1 || m > s || s > n {
			fail("line %d: cons %d %d outside the tree of %d (or m = 0)", p.line, m, s, n)
			continue
		}
		if err := tlog.CheckTree(tlog.TreeProof(p.hashes), s, in.roots[s], m, in.roots[m]); err != nil {
			fail("line %d: cons %d %d: tlog.CheckTree: %v", p.line, m, s, err)
		}
		want, err := tlog.ProveTree(s, m, st)
		if err != nil {
			fail("line %d: tlog.ProveTree(%d, %d): %v", p.line, s, m, err)
		} else if !equalProof(p.hashes, want) {
			fail("line %d: cons %d %d differs from tlog.ProveTree (%d hashes vs %d)", p.line, m, s, len(p.hashes), len(want))
		}
		if len(p.hashes) > 0 {
			if tlog.CheckTree(tampered(p.hashes, p.line), s, in.roots[s], m, in.roots[m]) == nil {
				fail("line %d: cons %d %d: tlog.CheckTree accepts a tampered proof", p.line, m, s)
			} else {
				tamperedRejected++
			}
		}
	}

	if failures > 0 {
		fmt.Fprintf(os.Stderr, "tlog interop: FAILED: %d mismatches\n", failures)
		os.Exit(1)
	}
	fmt.Printf("tlog interop: %d inclusion, %d consistency proofs verified (%d leaves, %d stored hashes, %d roots match tlog.TreeHash; proofs byte-identical to tlog.ProveRecord/ProveTree; %d tampered copies rejected)\n",
		len(in.incl), len(in.cons), n, len(*st), n, tamperedRejected)
}
