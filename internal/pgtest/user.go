package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is who the PostgreSQL processes run as. A nil credential means
// "as this process", which is what happens unless we are root.
type account struct {
	name       string
	credential *syscall.Credential
}

// serverAccount picks an unprivileged user when running as root, because
// initdb and postgres refuse to run as root.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{name: "self"}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return account{name: name, credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
	}
	return account{}, fmt.Errorf("find user to run postgres as: running as root and neither \"postgres\" nor \"nobody\" exists")
}

// own gives path to the account, so that the server may write there.
func (a account) own(path string) error {
	if a.credential == nil {
		return nil
	}
	if err := os.Chown(path, int(a.credential.Uid), int(a.credential.Gid)); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, a.name, err)
	}
	return nil
}

// tempRoot returns the directory to create the server's directory in. It
// prefers /dev/shm: with the data in memory, CREATE DATABASE, the cost of
// every test, is several times faster than on a busy disk even with fsync
// off. Otherwise the system temporary directory, unless the account could
// not reach it (a TMPDIR under /root, say), then /tmp.
func (a account) tempRoot() (string, error) {
	var candidates []string
	if hasRoom("/dev/shm", shmNeeded) {
		candidates = append(candidates, "/dev/shm")
	}
	candidates = append(candidates, os.TempDir(), "/tmp")
	for _, dir := range candidates {
		if a.credential == nil || traversableByAll(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find temporary directory: user %s cannot traverse %v; set TMPDIR to a directory with o+x on every parent", a.name, candidates)
}

// shmNeeded is the free memory /dev/shm must have to hold a cluster (about
// 40 MB), a few test databases (8 MB each) and PostgreSQL's own dynamic
// shared memory, with a wide margin.
const shmNeeded = 1 << 30

// hasRoom reports whether dir is a writable directory with at least n free
// bytes.
func hasRoom(dir string, n uint64) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	if syscall.Access(dir, 0o2) != nil { // W_OK
		return false
	}
	return st.Bavail*uint64(st.Bsize) >= n
}

// traversableByAll reports whether dir and all its parents can be traversed
// by any user. It checks the "other" execute bit only, which is what an
// unrelated account such as nobody relies on.
func traversableByAll(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}
