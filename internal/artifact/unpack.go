package artifact

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Formats of artifacts.
const (
	FormatTar   = "tar"
	FormatTarGz = "tar.gz"
	FormatFile  = "file" // a single file, typically a static binary
)

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

// Unpack makes the release directory for digest under Dir/unpacked and
// returns its path. It unpacks into a temporary directory and renames it, so
// a directory that exists is always complete; a second call reuses it.
func (s *Store) Unpack(ctx context.Context, digest, format, filename string) (string, error) {
	dst := filepath.Join(s.Dir, "unpacked", strings.ReplaceAll(digest, ":", "-"))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
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
	f, err := s.Open(digest)
	if err != nil {
		return "", err
	}
	defer f.Close()
	switch format {
	case FormatTarGz:
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return "", fmt.Errorf("unpack %s: %w", digest, err)
		}
		err = untar(ctx, zr, tmp)
		if err != nil {
			return "", err
		}
	case FormatTar:
		if err := untar(ctx, f, tmp); err != nil {
			return "", err
		}
	default:
		if err := copyFile(f, filepath.Join(tmp, safeName(filename)), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("install unpacked release: %w", err)
	}
	return dst, nil
}

func safeName(name string) string {
	name = filepath.Base(name)
	if name == "." || name == "/" || name == "" {
		return "app"
	}
	return name
}

func untar(ctx context.Context, r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		target, err := within(dir, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
			if err := copyFile(tr, target, os.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if _, err := within(filepath.Dir(target), h.Linkname); filepath.IsAbs(h.Linkname) || err != nil {
				return fmt.Errorf("unpack %s: symlink to %q leaves the release", h.Name, h.Linkname)
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
		default:
			return fmt.Errorf("unpack %s: unsupported entry type %q", h.Name, h.Typeflag)
		}
	}
}

// within joins name to dir and refuses paths that escape dir ("zip slip").
func within(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("unpack: entry %q leaves the release directory", name)
	}
	return p, nil
}

func copyFile(r io.Reader, path string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", filepath.Base(path), err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("unpack %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}
