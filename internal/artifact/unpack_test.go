package artifact_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/artifact"
)

// refusal is an archive bascule must not unpack and the entry the refusal
// must name. "$BASE" in a name stands for the test site's directory, so an
// absolute name that got through would land where the test looks.
type refusal struct {
	name    string
	ents    []ent
	entry   string
	entries int   // Store.MaxEntries
	size    int64 // Store.MaxUnpackedSize
}

func refusals() []refusal {
	many := make([]ent, 11)
	for i := range many {
		many[i] = file("f"+string(rune('a'+i)), "x")
	}
	return []refusal{
		{name: "chained symlinks", entry: "b", ents: []ent{
			symlink("a", "."), symlink("b", "a/.."), file("b/x", "pwned"),
			symlink("c", "b/.."), file("c/x", "pwned"), symlink("d", "c/.."), file("d/bascule.db", "pwned")}},
		{name: "issue 11's archive", entry: "b", ents: []ent{
			symlink("a", "."), symlink("b", "a/.."), file("b/x", "pwned"),
			symlink("c", "a/../a/.."), file("c/x", "pwned"), symlink("d", "a/../a/../a/.."), file("d/x", "pwned")}},
		{name: "link up through a name a later link creates", entry: "l", ents: []ent{
			symlink("l", "d/.."), symlink("d", "."), file("l/outside.txt", "pwned")}},
		{name: "parent name", entry: "../evil", ents: []ent{file("../evil", "pwned")}},
		{name: "dot-dot deep in a name", entry: "sub/../../evil", ents: []ent{file("sub/../../evil", "pwned")}},
		{name: "dot-dot that stays inside", entry: "sub/../x", ents: []ent{file("sub/../x", "x")}},
		{name: "absolute name", entry: "$BASE/abs.txt", ents: []ent{file("$BASE/abs.txt", "pwned")}},
		{name: "absolute symlink target", entry: "l", ents: []ent{symlink("l", "$BASE/outside.txt"), file("m", "x")}},
		{name: "symlink to outside", entry: "l", ents: []ent{symlink("l", "../../../../outside.txt")}},
		{name: "symlink to outside from a subdirectory", entry: "sub/l", ents: []ent{dir("sub/"), symlink("sub/l", "../..")}},
		{name: "write through an inside symlink", entry: "l/x", ents: []ent{symlink("l", "."), file("l/x", "x")}},
		{name: "file over a symlink", entry: "l", ents: []ent{file("f", "orig"), symlink("l", "f"), file("l", "new")}},
		{name: "duplicate file", entry: "x", ents: []ent{file("x", "1"), file("x", "2")}},
		{name: "directory over a file", entry: "x/", ents: []ent{file("x", "1"), dir("x/")}},
		{name: "symlink over a directory", entry: "d", ents: []ent{dir("d/"), symlink("d", ".")}},
		{name: "file under a file", entry: "x/y", ents: []ent{file("x", "1"), file("x/y", "2")}},
		{name: "symlink loop", entry: "b", ents: []ent{symlink("a", "b"), symlink("b", "a")}},
		{name: "empty symlink target", entry: "l", ents: []ent{symlink("l", "")}},
		{name: "hard link to outside", entry: "h", ents: []ent{hardlink("h", "../../../../outside.txt")}},
		{name: "absolute hard link", entry: "h", ents: []ent{hardlink("h", "$BASE/outside.txt")}},
		{name: "hard link to a symlink", entry: "h", ents: []ent{file("f", "x"), symlink("s", "f"), hardlink("h", "s")}},
		{name: "hard link through a symlink", entry: "h", ents: []ent{file("sub/f", "x"), symlink("l", "sub"), hardlink("h", "l/f")}},
		{name: "hard link to a directory", entry: "h", ents: []ent{dir("sub/"), hardlink("h", "sub")}},
		{name: "hard link to a later file", entry: "h", ents: []ent{hardlink("h", "f"), file("f", "x")}},
		{name: "character device", entry: "null", ents: []ent{{typ: tar.TypeChar, name: "null", mode: 0o666}}},
		{name: "block device", entry: "sda", ents: []ent{{typ: tar.TypeBlock, name: "sda", mode: 0o660}}},
		{name: "fifo", entry: "pipe", ents: []ent{{typ: tar.TypeFifo, name: "pipe", mode: 0o644}}},
		{name: "10 GB header", entry: "huge", ents: []ent{file("small", "x"), {typ: tar.TypeReg, name: "huge", size: 10 << 30, mode: 0o644}}},
		{name: "too many entries", entry: "fk", entries: 10, ents: many},
		{name: "too many implied directories", entry: "a/b/c/d/e/f/g/h/i/j/k", entries: 10, ents: []ent{file("a/b/c/d/e/f/g/h/i/j/k", "x")}},
		{name: "over the unpacked size", entry: "f2", size: 100, ents: []ent{file("f1", strings.Repeat("x", 60)), file("f2", strings.Repeat("x", 60))}},
		{name: "the release directory as a file", entry: ".", ents: []ent{{typ: tar.TypeReg, name: ".", mode: 0o644}}},
	}
}

// TestUnpackRefuses: each hostile archive is refused when it is
// registered (and not stored), and, stored as an older bascule did, when it
// is unpacked, naming the entry, with nothing changed outside.
func TestUnpackRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range refusals() {
		t.Run(tc.name, func(t *testing.T) {
			st := newSite(t)
			st.store.MaxEntries, st.store.MaxUnpackedSize = tc.entries, tc.size
			ents := st.rebase(tc.ents)
			entry := st.rebase([]ent{{name: tc.entry}})[0].name
			archive := mustTar(t, ents...)
			for name, body := range map[string][]byte{"tar": archive, "tar.gz": gzipped(t, archive)} {
				before := st.snapshot(t, "")
				_, err := st.store.PutRelease(ctx, bytes.NewReader(body), "", artifact.DetectFormat(body))
				checkRefusal(t, "PutRelease("+name+")", err, entry)
				unchanged(t, before, st.snapshot(t, ""))

				digest := st.put(t, body)
				before = st.snapshot(t, "")
				start := time.Now()
				dir, err := st.store.Unpack(ctx, digest, artifact.DetectFormat(body), "app")
				checkRefusal(t, "Unpack("+name+")", err, entry)
				if err == nil {
					st.insideOnly(t, dir, before)
					continue
				}
				unchanged(t, before, st.snapshot(t, ""))
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("Unpack(%s) took %s to refuse; a refusal must come before the data is read", name, d)
				}
			}
		})
	}
}

func checkRefusal(t *testing.T, what string, err error, entry string) {
	t.Helper()
	var ue *artifact.UnsafeEntryError
	if !errors.As(err, &ue) {
		t.Errorf("%s = %v, want an *UnsafeEntryError naming %q", what, err, entry)
		return
	}
	if ue.Entry != entry || !strings.Contains(err.Error(), `"`+entry+`"`) {
		t.Errorf("%s = %v, want the refusal to name entry %q", what, err, entry)
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUnpackAllowed: what real release archives hold unpacks as it was,
// minus what a release has no business with (setuid bits, owners).
func TestUnpackAllowed(t *testing.T) {
	st := newSite(t)
	suid := file("./bin/tool", "tool")
	suid.mode = 0o4755
	archive := mustTar(t,
		ent{typ: tar.TypeXGlobalHeader, name: "pax_global_header"}, // git archive's commit id
		dir("./"),
		file("./conf/app.txt", "v2"),
		dir("./conf/"),                     // after its file: a no-op
		symlink("bin/app", "../lib/app"),   // before its target
		symlink("bin/lib", "../lib"),       // to a directory
		symlink("bin/gone", "../lib/nope"), // dangling, inside
		symlink("self", "."),
		file("lib/app", "#!/bin/sh\n"),
		hardlink("lib/app2", "./lib/app"),
		suid,
	)
	digest := st.put(t, archive)
	before := st.snapshot(t, "")
	dir, err := st.store.Unpack(context.Background(), digest, artifact.FormatTar, "")
	if err != nil {
		t.Fatal(err)
	}
	unchanged(t, before, st.snapshot(t, dir))
	st.insideOnly(t, dir, before)
	for name, want := range map[string]string{"conf/app.txt": "v2", "bin/app": "#!/bin/sh\n", "bin/lib/app": "#!/bin/sh\n", "lib/app2": "#!/bin/sh\n", "self/conf/app.txt": "v2"} {
		if body, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(body) != want {
			t.Errorf("unpacked %s = %q, %v; want %q", name, body, err, want)
		}
	}
	a, _ := os.Stat(filepath.Join(dir, "lib/app"))
	b, _ := os.Stat(filepath.Join(dir, "lib/app2"))
	if !os.SameFile(a, b) {
		t.Error("lib/app2 is not a hard link to lib/app")
	}
	if st, err := os.Stat(filepath.Join(dir, "bin/tool")); err != nil || st.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("bin/tool mode = %v, %v; want executable without setuid", st.Mode(), err)
	}
}

// TestUnpackSingleFileName: the release's file name is input; whatever it
// is, the file lands in the release directory.
func TestUnpackSingleFileName(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"..", "../..", "/", "", "a/../..", "../../bascule.db", "x\x00y", strings.Repeat("n", 300)} {
		st := newSite(t)
		b, err := st.store.PutRelease(ctx, strings.NewReader("#!/bin/sh\n"), "", artifact.FormatFile)
		if err != nil {
			t.Fatal(err)
		}
		before := st.snapshot(t, "")
		dir, err := st.store.Unpack(ctx, b.Digest, artifact.FormatFile, name)
		if err != nil {
			t.Errorf("Unpack(file named %q) = %v", name, err)
			continue
		}
		unchanged(t, before, st.snapshot(t, dir))
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || !entries[0].Type().IsRegular() {
			t.Errorf("Unpack(file named %q) made %v, want one file", name, entries)
		}
	}
}

// TestUnpackIgnoresOldDirectories: a release directory unpacked by an
// older bascule, under laxer rules, is not reused.
func TestUnpackIgnoresOldDirectories(t *testing.T) {
	ctx := context.Background()
	st := newSite(t)
	archive := mustTar(t, file("app", "new"))
	b, err := st.store.Put(ctx, bytes.NewReader(archive), "")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(st.store.Dir, "unpacked", strings.ReplaceAll(b.Digest, ":", "-"))
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(old, "app"), []byte("old"), 0o644)
	dir, err := st.store.Unpack(ctx, b.Digest, artifact.FormatTar, "")
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := os.ReadFile(filepath.Join(dir, "app")); string(body) != "new" {
		t.Errorf("Unpack reused %s unpacked by an older bascule: app = %q", dir, body)
	}
}

// TestPutReleaseRefusesCorruptArchives: a tar.gz that does not read to its
// end is refused when it is registered, not when it is deployed.
func TestPutReleaseRefusesCorruptArchives(t *testing.T) {
	ctx := context.Background()
	s := &artifact.Store{Dir: t.TempDir()}
	good := gzipped(t, mustTar(t, file("app", strings.Repeat("x", 4096))))
	for name, body := range map[string][]byte{
		"truncated":   good[:len(good)/2],
		"not gzip":    append([]byte{0x1f, 0x8b}, "not gzip at all"...),
		"garbage tar": gzipped(t, bytes.Repeat([]byte{'z'}, 2048)),
	} {
		if _, err := s.PutRelease(ctx, bytes.NewReader(body), "", artifact.DetectFormat(body)); !errors.Is(err, artifact.ErrInvalidArchive) {
			t.Errorf("PutRelease(%s) = %v, want ErrInvalidArchive", name, err)
		}
	}
	blobs, _ := filepath.Glob(filepath.Join(s.Dir, "blobs", "*"))
	if len(blobs) != 0 {
		t.Errorf("refused archives were stored: %v", blobs)
	}
	if _, err := s.PutRelease(ctx, bytes.NewReader(good), "", artifact.FormatTarGz); err != nil {
		t.Errorf("PutRelease(good) = %v", err)
	}
}

func TestUnpackRefusesBadDigests(t *testing.T) {
	s := &artifact.Store{Dir: t.TempDir()}
	for _, d := range []string{"sha256:../../x", "", "sha256:" + strings.Repeat("g", 64)} {
		if _, err := s.Unpack(context.Background(), d, artifact.FormatFile, "app"); err == nil || !strings.Contains(err.Error(), "not a sha256 digest") {
			t.Errorf("Unpack(%q) = %v, want a refusal of the digest", d, err)
		}
	}
}
