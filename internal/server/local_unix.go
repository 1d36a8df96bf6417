//go:build unix

package server

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// checkOwner refuses to open bascule's SQLite file as another user than
// its owner: SQLite creates its -wal and -shm files as whoever opens the
// database, and files root made there would lock the bascule service out.
func checkOwner(path string, info os.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return nil
	}
	owner := strconv.Itoa(int(st.Uid))
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	return fmt.Errorf("%s belongs to %s: run this as that user (sudo -u %s bascule ...), "+
		"or the files SQLite creates beside it could lock bascule out", path, owner, owner)
}
