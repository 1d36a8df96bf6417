package artifact_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
)

// fuzzTypes maps the first letter of a line of a fuzz script to a tar type.
var fuzzTypes = map[byte]byte{
	'f': tar.TypeReg, 'd': tar.TypeDir, 's': tar.TypeSymlink, 'h': tar.TypeLink,
	'c': tar.TypeChar, 'b': tar.TypeBlock, 'p': tar.TypeFifo, 'g': tar.TypeXGlobalHeader,
	'x': tar.TypeReg, // a file declaring 10 GB it does not carry
}

// scriptEnts reads a fuzz script: one entry a line, "<type> <name>
// [<target>]". An absolute name or target is moved under base, so that an
// entry that got through would land where the test looks, not in /.
func scriptEnts(script, base string) []ent {
	var ents []ent
	for _, line := range strings.Split(script, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || len(ents) == 32 {
			continue
		}
		typ, ok := fuzzTypes[f[0][0]]
		if !ok {
			continue
		}
		e := ent{typ: typ, name: f[1], mode: 0o644, body: "x"}
		if len(f) > 2 {
			e.link = f[2]
		}
		if f[0][0] == 'x' {
			e.size = 10 << 30
		}
		for _, p := range []*string{&e.name, &e.link} {
			if strings.HasPrefix(*p, "/") {
				*p = base + *p
			}
		}
		ents = append(ents, e)
	}
	return ents
}

// FuzzUnpack builds an archive from a script and checks the invariant:
// nothing outside the release directory changes, and unpacking either
// fails or succeeds with every link leading inside.
func FuzzUnpack(f *testing.F) {
	for _, seed := range []string{
		"s a .\ns b a/..\nf b/x\ns c a/../a/..\nf c/x\ns d a/../a/../a/..\nf d/x",
		"s a .\ns b a/..\nf b/x\ns c b/..\nf c/x\ns d c/..\nf d/bascule.db\ns e d/..\nf e/outside.txt",
		"s l d/..\ns d .\nf l/outside.txt",
		"f ../evil\nf sub/../../evil\nf /abs.txt",
		"s l /outside.txt\nf l",
		"s l ../../../../outside.txt\nf l",
		"d sub/\ns sub/l ../..\nf sub/l/x",
		"s l .\nf l/x",
		"f f\ns l f\nf l",
		"f x\nf x\nd x/",
		"s a b\ns b a",
		"h h ../../../../outside.txt\nh i /outside.txt",
		"f f\ns s f\nh h s\nf sub/f\ns m sub\nh j m/f\nh k f",
		"c null\nb sda\np pipe",
		"f small\nx huge",
		"g pax_global_header\nd ./\nf ./conf/app.txt\nd ./conf/\ns bin/app ../lib/app\nf lib/app\nh lib/app2 lib/app",
		"d a\ns a/b ..\ns a/c b/..\nf a/c/x",
		"s x y/z\ns y .\nf z",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		st := newSite(t)
		st.store.MaxEntries, st.store.MaxUnpackedSize = 64, 1<<20
		archive, err := tarOf(scriptEnts(script, st.base)...)
		if err != nil {
			t.Skip(err) // not an archive the tar package can write
		}
		digest := st.put(t, archive)
		before := st.snapshot(t, "")
		dir, err := st.store.Unpack(context.Background(), digest, artifact.FormatTar, "app")
		if err != nil {
			unchanged(t, before, st.snapshot(t, ""))
			var ue *artifact.UnsafeEntryError
			if !errors.As(err, &ue) && !errors.Is(err, artifact.ErrInvalidArchive) {
				t.Errorf("Unpack = %v, want an *UnsafeEntryError or ErrInvalidArchive", err)
			}
			// The rules alone, as registering applies them, see it too:
			// the check of the unpacked links is a second line, not the
			// first.
			if _, perr := st.store.PutRelease(context.Background(), bytes.NewReader(archive), "", artifact.FormatTar); perr == nil {
				t.Errorf("Unpack = %v, but PutRelease took the archive", err)
			}
			return
		}
		unchanged(t, before, st.snapshot(t, dir))
		st.insideOnly(t, dir, before)
		// What Unpack took, registering takes, and the other way round.
		if _, err := st.store.PutRelease(context.Background(), bytes.NewReader(archive), "", artifact.FormatTar); err != nil {
			t.Errorf("Unpack took the archive but PutRelease = %v", err)
		}
	})
}
