package artifact_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
)

// ent is one entry of a test archive.
type ent struct {
	typ        byte
	name, link string
	body       string
	size       int64 // a declared size with no data: the archive ends after this header
	mode       int64
}

func file(name, body string) ent { return ent{typ: tar.TypeReg, name: name, body: body, mode: 0o644} }
func dir(name string) ent        { return ent{typ: tar.TypeDir, name: name, mode: 0o755} }
func symlink(name, to string) ent {
	return ent{typ: tar.TypeSymlink, name: name, link: to, mode: 0o777}
}
func hardlink(name, to string) ent {
	return ent{typ: tar.TypeLink, name: name, link: to, mode: 0o644}
}

// tarOf writes ents as a tar archive. An entry with a declared size and no
// body is written as a header alone and ends the archive there, the way a
// hostile archive declares gigabytes it does not carry.
func tarOf(ents ...ent) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if e.size != 0 {
			h.Size = e.size
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			return buf.Bytes(), nil
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mustTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	b, err := tarOf(ents...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// site is a data directory as bascule lays it out, with the files an
// escaping archive would reach: the database beside the artifact store,
// a file beside the data directory, one in the store itself.
type site struct {
	base  string // holds data/ and outside.txt
	store *artifact.Store
}

func newSite(t testing.TB) *site {
	t.Helper()
	base := t.TempDir()
	data := filepath.Join(base, "data")
	st := &site{base: base, store: &artifact.Store{Dir: filepath.Join(data, "releases")}}
	for name, body := range map[string]string{
		"outside.txt":            "outside",
		"data/bascule.db":        "the store",
		"data/releases/keep.txt": "keep",
	} {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A release unpacked first: the directories every Unpack creates exist
	// before the snapshots, which then show only what an archive changed.
	if _, err := st.unpack(t, mustTar(t, file("ok", "ok"))); err != nil {
		t.Fatal(err)
	}
	return st
}

// rebase replaces "$BASE" in names and link targets with the site's
// directory.
func (st *site) rebase(ents []ent) []ent {
	r := strings.NewReplacer("$BASE", st.base)
	out := make([]ent, len(ents))
	for i, e := range ents {
		e.name, e.link = r.Replace(e.name), r.Replace(e.link)
		out[i] = e
	}
	return out
}

// put stores the archive as is, the way a release registered before the
// rules existed was stored, and returns its digest.
func (st *site) put(t testing.TB, archive []byte) string {
	t.Helper()
	b, err := st.store.Put(context.Background(), bytes.NewReader(archive), "")
	if err != nil {
		t.Fatal(err)
	}
	return b.Digest
}

// unpack puts the archive and unpacks it.
func (st *site) unpack(t testing.TB, archive []byte) (string, error) {
	t.Helper()
	return st.store.Unpack(context.Background(), st.put(t, archive), artifact.DetectFormat(archive), "app")
}

// snapshot describes every file, directory and link under the site's base
// except the tree at skip: its type, permissions and contents.
func (st *site) snapshot(t testing.TB, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(st.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip != "" && p == skip {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %d bytes, sha256 %x", len(body), sha256.Sum256(body))
		}
		out[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unchanged reports what differs between two snapshots.
func unchanged(t testing.TB, before, after map[string]string) {
	t.Helper()
	for p, was := range before {
		if now, ok := after[p]; !ok {
			t.Errorf("%s was removed (was %s)", p, was)
		} else if now != was {
			t.Errorf("%s changed: was %s, now %s", p, was, now)
		}
	}
	for p, now := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared: %s", p, now)
		}
	}
}

// leavesDir tells whether the link at rel in dir resolves, on the files
// themselves, to somewhere outside dir at any step: a resolver written for
// the tests, independent of the one the artifact package uses. A link that
// does not resolve (dangling, through a file, a loop) reaches nothing.
func leavesDir(dir, rel string) bool {
	var stack []string
	pending := strings.Split(rel, "/")
	for links := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return true
			}
			stack = stack[:len(stack)-1]
			continue
		}
		p := filepath.Join(append([]string{dir}, append(stack, c)...)...)
		info, err := os.Lstat(p)
		switch {
		case err != nil:
			return false
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil || links >= 40 {
				return false
			}
			links++
			if filepath.IsAbs(target) {
				return true
			}
			pending = append(strings.Split(target, "/"), pending...)
		case info.IsDir():
			stack = append(stack, c)
		default:
			if len(pending) > 0 {
				return false
			}
		}
	}
	return false
}

// insideOnly checks an unpacked release: no link in it leads out, and no
// file in it is the same file as one outside (a hard link).
func (st *site) insideOnly(t testing.TB, dir string, outside map[string]string) {
	t.Helper()
	var others []os.FileInfo
	for p := range outside {
		if info, err := os.Lstat(p); err == nil && info.Mode().IsRegular() {
			others = append(others, info)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 && leavesDir(dir, filepath.ToSlash(rel)) {
			target, _ := os.Readlink(p)
			t.Errorf("unpacked link %s -> %s leads outside the release directory", rel, target)
		}
		for _, o := range others {
			if info.Mode().IsRegular() && os.SameFile(info, o) {
				t.Errorf("unpacked %s is a hard link to %s, outside the release directory", rel, o.Name())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
