package artifact

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PackDir writes dir as a reproducible tar.gz to w: entries sorted, times,
// owners and gzip header zeroed, so the same tree always has the same digest
// and registering it twice is recognised as the same release.
func PackDir(w io.Writer, dir string) error { return PackDirAs(w, dir, "") }

// PackDirAs is PackDir with every entry under the directory prefix (no
// slashes at its ends), which is in the archive too: how a release that is
// an image carries its migrations directory as migrations/, where the
// pipeline reads a release's migrations from. An empty dir is allowed and
// packs as prefix alone.
func PackDirAs(w io.Writer, dir, prefix string) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	zw.ModTime = time.Time{}
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch {
		case prefix == "" && rel == ".":
			return nil
		case rel == ".":
			name = prefix
		case prefix != "":
			name = prefix + "/" + name
		}
		return addEntry(tw, path, name, d)
	})
	if err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	return zw.Close()
}

func addEntry(tw *tar.Writer, path, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	}
	h, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	h.Name, h.ModTime, h.AccessTime, h.ChangeTime = name, time.Unix(0, 0), time.Time{}, time.Time{}
	h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
	if d.IsDir() {
		h.Name += "/"
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
