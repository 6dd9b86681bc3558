// check_tiles reads a tlog-tiles export written by truce (src/tiles, c2sp.org/tlog-tiles) with
// an implementation independent of truce, Go's golang.org/x/mod/sumdb/note and sumdb/tlog. Run
// by tests/integration/interop_tiles.sh.
//
//	check_tiles VERIFIER_KEY DIR
//
// What it checks:
//   - DIR/checkpoint opens with note.Open and the verifier key; its size N and root are read;
//   - tlog.TreeHash(N) through tlog.TileHashReader over the export's hash tiles equals the
//     checkpoint's root (this authenticates the tiles TileHashReader reads: Go's tile paths
//     tile/8/<L>/<N>[.p/<W>] are mapped to C2SP's tile/<L>/<N>[.p/<W>]; a partial tile that is
//     missing is read from the full one, as the spec allows);
//   - every entry of the entry bundles (tile/entries/<N>[.p/<W>], 2-byte big-endian lengths; or
//     truce's truce/entries/<N>[.p/<W>], 4-byte lengths, for a bundle holding an entry above
//     65535 bytes) is decoded here independently of truce; tlog.RecordHash of each, fed to
//     tlog.StoredHashesForRecordHash, gives tlog.TreeHash(N) == the checkpoint's root;
//   - every hash of every tile of the tree (each level, full and partial, exact paths) read with
//     tlog.HashFromTile equals the stored hash tlog computed from the entries;
//   - the leaf hashes read through the TileHashReader equal tlog.RecordHash of the entries.
//
// Prints "tiles interop: N entries, T tiles, root <hex> verified" and exits 0, or prints the
// first problem and exits 1.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "check_tiles: "+format+"\n", args...)
	os.Exit(1)
}

// c2spPath maps a Go tile (tile/8/L/N[.p/W], or tile/8/data/N for entries) to its C2SP path.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	if !strings.HasPrefix(p, "tile/8/") {
		fail("unexpected tile path %s", p)
	}
	p = "tile/" + strings.TrimPrefix(p, "tile/8/")
	if t.L == -1 {
		p = strings.Replace(p, "tile/data/", "tile/entries/", 1)
	}
	return p
}

type reader struct {
	dir string
}

func (r *reader) Height() int { return height }

func (r *reader) SaveTiles([]tlog.Tile, [][]byte) {}

// ReadTiles reads each tile's file; a partial tile that is missing is cut from the full tile.
func (r *reader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(r.dir, c2spPath(t)))
		if errors.Is(err, fs.ErrNotExist) && t.W < 1<<height {
			full := t
			full.W = 1 << height
			data, err = os.ReadFile(filepath.Join(r.dir, c2spPath(full)))
			if err == nil && len(data) == len(data)/tlog.HashSize*tlog.HashSize &&
				len(data) >= t.W*tlog.HashSize {
				data = data[:t.W*tlog.HashSize]
			}
		}
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

// bundle returns the entries of entry bundle n of width w, decoded from the spec's encoding or
// truce's 4-byte one.
func bundle(dir string, n int64, w int) [][]byte {
	t := tlog.Tile{H: height, L: -1, N: n, W: w}
	spec := filepath.Join(dir, c2spPath(t))
	large := filepath.Join(dir, "truce/entries", strings.TrimPrefix(c2spPath(t), "tile/entries/"))
	lenBytes := 2
	data, err := os.ReadFile(spec)
	if errors.Is(err, fs.ErrNotExist) {
		lenBytes = 4
		data, err = os.ReadFile(large)
	}
	if err != nil {
		fail("bundle %d: %v", n, err)
	}
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < lenBytes {
			fail("bundle %d: truncated length", n)
		}
		var l int
		if lenBytes == 2 {
			l = int(binary.BigEndian.Uint16(data))
		} else {
			l = int(binary.BigEndian.Uint32(data))
		}
		data = data[lenBytes:]
		if len(data) < l {
			fail("bundle %d: truncated entry", n)
		}
		entries = append(entries, data[:l])
		data = data[l:]
	}
	if len(entries) != w {
		fail("bundle %d: %d entries, want %d", n, len(entries), w)
	}
	if lenBytes == 4 {
		big := false
		for _, e := range entries {
			big = big || len(e) > 65535
		}
		if !big {
			fail("bundle %d: in truce/entries without an entry above 65535 bytes", n)
		}
	}
	return entries
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: check_tiles VERIFIER_KEY DIR")
	}
	dir := os.Args[2]
	v, err := note.NewVerifier(strings.TrimSpace(os.Args[1]))
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	nt, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(nt.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint text %q too short", nt.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	rb, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rb) != tlog.HashSize {
		fail("root hash %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rb)

	r := &reader{dir: dir}
	if size == 0 {
		if root != tlog.Hash(sha256.Sum256(nil)) {
			fail("empty tree with root %s", hex.EncodeToString(root[:]))
		}
		fmt.Printf("tiles interop: 0 entries, 0 tiles, root %s verified\n", hex.EncodeToString(root[:]))
		return
	}
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, r)
	th, err := tlog.TreeHash(size, hr)
	if err != nil {
		fail("tlog.TreeHash: %v", err)
	}
	if th != root {
		fail("tlog.TreeHash over the tiles is %s, the checkpoint says %s",
			hex.EncodeToString(th[:]), hex.EncodeToString(root[:]))
	}

	// The entries, decoded here, give tlog's stored hashes and the tree hash on their own.
	var stored []tlog.Hash
	mem := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d not computed", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	var entries [][]byte
	for n := int64(0); n*256 < size; n++ {
		w := int(size - n*256)
		if w > 256 {
			w = 256
		}
		entries = append(entries, bundle(dir, n, w)...)
	}
	for i, e := range entries {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.RecordHash(e), mem)
		if err != nil {
			fail("tlog.StoredHashesForRecordHash(%d): %v", i, err)
		}
		stored = append(stored, hs...)
	}
	if eh, err := tlog.TreeHash(size, mem); err != nil || eh != root {
		fail("tlog.TreeHash over the entries is %s (%v), the checkpoint says %s",
			hex.EncodeToString(eh[:]), err, hex.EncodeToString(root[:]))
	}

	// Every hash of every tile of the tree (exact files, no fallback) against those hashes.
	// (TileHashReader alone is not enough here: the Debian version's ReadHashes leaves some
	// full tiles unauthenticated when several root subtrees share a tile.)
	tiles := 0
	for level := 0; size>>(8*level) > 0; level++ {
		count := size >> (8 * level)
		for n := int64(0); n*256 < count; n++ {
			w := int(count - n*256)
			if w > 256 {
				w = 256
			}
			t := tlog.Tile{H: height, L: level, N: n, W: w}
			data, err := os.ReadFile(filepath.Join(dir, c2spPath(t)))
			if err != nil {
				fail("%v", err)
			}
			if len(data) != w*tlog.HashSize {
				fail("%s: %d bytes, want %d", c2spPath(t), len(data), w*tlog.HashSize)
			}
			tiles++
			for i := 0; i < w; i++ {
				x := tlog.StoredHashIndex(8*level, n*256+int64(i))
				fh, err := tlog.HashFromTile(t, data, x)
				if err != nil || fh != stored[x] {
					fail("%s: hash %d (tlog.HashFromTile %s, %v) is not the hash of entries %d..%d",
						c2spPath(t), i, hex.EncodeToString(fh[:]), err, (n*256+int64(i))<<(8*level),
						((n*256+int64(i)+1)<<(8*level))-1)
				}
			}
		}
	}

	// The leaf hashes through the authenticated TileHashReader match the entries too.
	indexes := make([]int64, size)
	for i := range indexes {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := hr.ReadHashes(indexes)
	if err != nil {
		fail("TileHashReader.ReadHashes of the %d leaf hashes: %v", size, err)
	}
	for i := range leaves {
		if leaves[i] != stored[indexes[i]] {
			fail("entry %d: tlog.RecordHash %s, tile hash %s", i,
				hex.EncodeToString(stored[indexes[i]][:]), hex.EncodeToString(leaves[i][:]))
		}
	}
	fmt.Printf("tiles interop: %d entries, %d tiles, root %s verified\n", size, tiles,
		hex.EncodeToString(root[:]))
}
