//go:build linux

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// procStat is what bascule needs from /proc/<pid>/stat.
type procStat struct {
	state byte   // field 3: R, S, D, Z, …
	pgrp  int    // field 5
	start uint64 // field 22: start time in clock ticks since boot
}

// readProcStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from the last ')'.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return procStat{}, errors.New("parse proc stat: no command name")
	}
	// After ") " come fields 3, 4, 5, …: field n is at index n-3.
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parse proc stat: %d fields", len(f)+2)
	}
	pgrp, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return procStat{}, fmt.Errorf("parse proc stat pgrp: %w", err)
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse proc stat start time: %w", err)
	}
	return procStat{state: f[0][0], pgrp: pgrp, start: start}, nil
}

// alive reports whether pid runs and is the process that started at start
// ticks, not a later one that reused its pid. A zombie is dead: it serves
// nothing and only waits for its parent to reap it.
func alive(pid int, start uint64) bool {
	st, err := readProcStat(pid)
	return err == nil && st.state != 'Z' && st.start == start
}

// reused reports whether pid now belongs to a process other than the one
// that started at start ticks.
func reused(pid int, start uint64) bool {
	st, err := readProcStat(pid)
	return err == nil && st.start != start
}

// groupGone reports whether no live process remains in process group pgid.
// kill(-pgid, 0) is the quick answer; when it still finds someone, the
// group may hold only zombies waiting for a parent that does not reap them
// (an orphan reparented to an init that never calls wait), which are gone
// for our purpose.
func groupGone(pgid int) bool {
	if pgid <= 1 {
		return true
	}
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	return len(groupMembers(pgid)) == 0
}

// groupMembers lists the live (non-zombie) processes in group pgid.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err == nil && st.pgrp == pgid && st.state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// signalGroup sends sig to every process in group pgid. A group that is
// already empty is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	// kill(-1) would signal every process we may signal, and kill(0) our
	// own group: never let a bad pgid get that far.
	if pgid <= 1 {
		return fmt.Errorf("signal process group %d: invalid group", pgid)
	}
	err := syscall.Kill(-pgid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", pgid, err)
	}
	return nil
}
