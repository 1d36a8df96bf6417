package router

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a socket with raw system calls, for the fast
// path's hot loop on Linux.
//
// Why: net.Conn's Read and Write tell the Go scheduler they are in a system
// call. When the router shares a core with its app, the kernel often
// switches to the app in the middle of such a call (the write that hands
// the app a request wakes it); the runtime's monitor then sees the
// scheduler's processor stuck in a system call, hands it to another thread,
// and the two threads take turns on the one core. Measured on the
// benchmark, the work moved between four threads and the router made
// several times nginx's context switches, which showed in its p99. A read
// or write of a non-blocking socket never blocks, so it does not need the
// scheduler told, and the raw call keeps the work on one thread. Waiting
// for readiness, deadlines and closing still go through the runtime's
// poller (syscall.RawConn), as for any net.Conn.
type rawIO struct {
	rc      syscall.RawConn
	p       []byte // the caller's buffer during a call
	n       int
	err     error
	readFn  func(fd uintptr) bool // bound once, so calls do not allocate
	writeFn func(fd uintptr) bool
	peekFn  func(fd uintptr) bool
	peekBuf [1]byte
	pending bool // peek found a byte or the end of the stream
}

// newRawIO returns raw I/O for a TCP connection, or nc itself for anything
// else (a test's pipe, a TLS connection).
func newRawIO(nc net.Conn) io.ReadWriter {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	r := &rawIO{rc: rc}
	r.readFn, r.writeFn, r.peekFn = r.read, r.write, r.peek
	return r
}

// quiet reports whether nothing at all waits to be read: no byte, no end of
// stream, no error. It never waits and never consumes: one non-blocking
// MSG_PEEK, without allocating, for the pool's check before each reuse.
func (r *rawIO) quiet() bool {
	r.pending = true
	if err := r.rc.Read(r.peekFn); err != nil {
		return false
	}
	return !r.pending
}

// peek is quiet's one attempt; it never asks to wait for readiness.
func (r *rawIO) peek(fd uintptr) bool {
	for {
		_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&r.peekBuf[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		r.pending = e != syscall.EAGAIN
		return true
	}
}

// Read reads into p what the socket holds, waiting for data if there is
// none, as net.Conn's Read does.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Read(r.readFn) // deadlines and Close end the wait with an error
	r.p = nil
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}

// read is one attempt; false means "would block: wait for readiness".
func (r *rawIO) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch e {
		case 0:
			if n == 0 {
				r.err = io.EOF
			}
			r.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		r.err = e
		return true
	}
}

// Write writes all of p, waiting for the socket to drain when it is full.
func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Write(r.writeFn)
	n := r.n
	r.p = nil
	if err != nil {
		return n, err
	}
	return n, r.err
}

// write writes what the socket takes; false means "full: wait for room".
func (r *rawIO) write(fd uintptr) bool {
	for r.n < len(r.p) {
		rest := r.p[r.n:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch e {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.err = e
			return true
		}
	}
	return true
}
