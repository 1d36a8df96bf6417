package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// dirPrefix names the directories the harness creates, so that stale ones
// can be recognized.
const dirPrefix = "bascule-kubetest-"

// ownerFile holds the PID of the test binary that created the directory.
const ownerFile = "owner.pid"

// makeDir creates the cluster's directory: in /dev/shm when there is one,
// since etcd syncs every write to disk and has no switch to stop it (the
// Debian build is 3.4), else in $TMPDIR. Directories left by test binaries
// that died are removed first.
func makeDir() (string, error) {
	root := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() && writable("/dev/shm") {
		root = "/dev/shm"
	}
	reapStale(root)
	dir, err := os.MkdirTemp(root, dirPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("create kubetest directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return dir, fmt.Errorf("record kubetest directory owner: %w", err)
	}
	return dir, nil
}

func writable(dir string) bool { return syscall.Access(dir, 2 /* W_OK */) == nil }

// reapStale removes directories left by test binaries that died without
// stopping their cluster (a panic, a timeout, kill -9): their programs died
// with them (parent-death signal), their data did not. Errors are ignored:
// reaping is best effort.
func reapStale(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}

// alive reports whether a process with that PID exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
