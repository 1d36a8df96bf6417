package artifact

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// Formats of artifacts.
const (
	FormatTar   = "tar"
	FormatTarGz = "tar.gz"
	FormatFile  = "file" // a single file, typically a static binary
)

// unpackedDir holds the unpacked releases under Dir. It names the rules
// they were unpacked under: a directory unpacked by an earlier bascule,
// under laxer rules, is never reused (it may hold a link that leads out).
const unpackedDir = "unpacked/v2"

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// DetectFormat tells the format of an artifact from its first bytes.
func DetectFormat(head []byte) string {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		return FormatTarGz
	}
	if len(head) >= 262 && string(head[257:262]) == "ustar" {
		return FormatTar
	}
	return FormatFile
}

// Unpack makes the release directory for digest under Dir/unpacked/v2 and
// returns its path, first fetching the artifact from Shared if Dir lacks
// it. It unpacks into a temporary directory and renames it, so
// a directory that exists is always complete; a second call reuses it.
//
// Every file is created through an os.Root of the temporary directory, so
// nothing can be written outside it, and an archive is admitted entry by
// entry under the rules at the top of tree.go: one that breaks them is
// refused with an *UnsafeEntryError naming the entry, one that cannot be
// read with ErrInvalidArchive.
func (s *Store) Unpack(ctx context.Context, digest, format, filename string) (string, error) {
	if !digestRE.MatchString(digest) {
		return "", fmt.Errorf("unpack %q: not a sha256 digest", digest)
	}
	dst := s.unpackedPath(digest)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := s.fetch(ctx, digest); err != nil {
		return "", err
	}
	if err := s.Verify(digest); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create unpack dir: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".unpack-*")
	if err != nil {
		return "", fmt.Errorf("create unpack dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := s.unpackInto(ctx, tmp, digest, format, filename); err != nil {
		return "", fmt.Errorf("unpack %s: %w", digest, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		if _, serr := os.Stat(dst); serr == nil {
			return dst, nil // a concurrent Unpack of the same release was first
		}
		return "", fmt.Errorf("install unpacked release: %w", err)
	}
	return dst, nil
}

func (s *Store) unpackInto(ctx context.Context, dir, digest, format, filename string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := s.Open(digest)
	if err != nil {
		return err
	}
	defer f.Close()
	if format == FormatTar || format == FormatTarGz {
		return s.untar(ctx, f, format, root)
	}
	return writeFile(ctx, root, safeName(filename), f, 0o755)
}

// check reads the artifact in r as format and tells whether Unpack would
// take it, writing nothing.
func (s *Store) check(ctx context.Context, r io.Reader, format string) error {
	if format == FormatTar || format == FormatTarGz {
		return s.untar(ctx, r, format, nil)
	}
	return nil // a single file: its name is made safe when it is unpacked
}

// safeName is the file name of a single-file release: the last element of
// the name given at upload, or "app" when that is not a usable name.
func safeName(name string) string {
	name = path.Base(name)
	if name == "." || name == ".." || name == "/" || len(name) > maxComponent || strings.ContainsRune(name, 0) {
		return "app"
	}
	return name
}

// untar admits the archive in r entry by entry and, with a root, creates
// each entry there; with a nil root it only checks.
func (s *Store) untar(ctx context.Context, r io.Reader, format string, root *os.Root) error {
	if format == FormatTarGz {
		zr, err := gzip.NewReader(bufio.NewReader(r))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidArchive, err)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	t := newTree(s.limits())
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidArchive, err)
		}
		e, err := t.admit(h)
		if err != nil {
			return err
		}
		if root == nil || e.skip {
			continue
		}
		if err := create(ctx, root, h, e, tr); err != nil {
			return err
		}
	}
	if root == nil {
		return nil
	}
	return checkLinks(root)
}

// create makes the admitted entry e. Files are created exclusively, so an
// entry never writes through a link or into a file that exists.
func create(ctx context.Context, root *os.Root, h *tar.Header, e entry, r io.Reader) error {
	if dir := path.Dir(e.name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", h.Name, err)
		}
	}
	var err error
	switch h.Typeflag {
	case tar.TypeDir:
		// Directories are 0755 whatever the archive says: one without write
		// permission could not be filled, nor removed after a failure.
		err = root.Mkdir(e.name, 0o755)
	case tar.TypeSymlink:
		err = root.Symlink(h.Linkname, e.name)
	case tar.TypeLink:
		err = root.Link(e.link, e.name)
	default:
		// Permission bits only: no setuid, setgid or sticky bit. Owners
		// are never applied.
		return writeFile(ctx, root, e.name, r, os.FileMode(h.Mode)&0o777)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", h.Name, err)
	}
	return nil
}

func writeFile(ctx context.Context, root *os.Root, name string, r io.Reader, mode os.FileMode) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// checkLinks resolves every symlink of the unpacked tree through root,
// which refuses any way out: a second check, on the files themselves, of
// what the rules already ensured. A dangling link is fine. (Not fs.WalkDir
// over root.FS(): that refuses names that are not valid UTF-8, which a
// file system takes.)
func checkLinks(root *os.Root) error {
	dirs := []string{"."}
	for len(dirs) > 0 {
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		f, err := root.Open(dir)
		if err != nil {
			return fmt.Errorf("check unpacked release: %w", err)
		}
		list, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return fmt.Errorf("check unpacked release: %w", err)
		}
		for _, d := range list {
			name := path.Join(dir, d.Name())
			switch {
			case d.IsDir():
				dirs = append(dirs, name)
			case d.Type()&fs.ModeSymlink != 0:
				_, err := root.Stat(name)
				if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
					return &UnsafeEntryError{Entry: name, Reason: fmt.Sprintf("is a symlink that does not resolve inside the release directory: %v", err)}
				}
			}
		}
	}
	return nil
}
