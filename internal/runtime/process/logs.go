//go:build linux

package process

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const logName = "app.log"

// openLog starts a new app log for a slot, keeping the previous one as
// app.log.1. The file, not a pipe, becomes the app's stdout and stderr: an
// app writing to a pipe whose reader died (bascule killed) would get
// SIGPIPE, and a broken pipe must never take production down.
func openLog(dir string) (*os.File, error) {
	path := filepath.Join(dir, logName)
	if err := os.Rename(path, path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("rotate log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return f, nil
}

// tailChunk is how much of the log is read per step backwards.
const tailChunk = 16 << 10

// tail returns the last n lines of the file at path, reading from the end
// so a large log costs only what is returned. A missing file has no lines.
func tail(path string, n int) []string {
	if n <= 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	buf, err := readTail(f, fi.Size(), n)
	if err != nil {
		return nil
	}
	return lastLines(buf, n)
}

// readTail reads backwards from size until buf holds more than n line ends
// or the whole file.
func readTail(r io.ReaderAt, size int64, n int) ([]byte, error) {
	var buf []byte
	off := size
	for off > 0 && bytes.Count(buf, []byte{'\n'}) <= n {
		step := min(int64(tailChunk), off)
		off -= step
		chunk := make([]byte, step, step+int64(len(buf)))
		if _, err := r.ReadAt(chunk, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read log: %w", err)
		}
		buf = append(chunk, buf...)
	}
	return buf, nil
}

// lastLines splits buf into lines and keeps the last n. A final line
// without its newline (the app is mid-write) is kept. readTail read more
// than n line ends, so a first line cut by the chunking is never kept.
func lastLines(buf []byte, n int) []string {
	s := strings.TrimSuffix(string(buf), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
