//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// appEnv selects, in a re-executed test binary, which test app to be.
const appEnv = "BASCULE_TEST_APP"

// TestMain turns the test binary into the test app when appEnv is set, so
// the tests run real processes without building anything.
func TestMain(m *testing.M) {
	if mode := os.Getenv(appEnv); mode != "" {
		os.Exit(testApp(mode))
	}
	os.Exit(m.Run())
}

// testApp is the app the tests deploy. Modes:
//
//	serve      HTTP on $PORT, /healthz 200, graceful exit on SIGTERM
//	exit       writes a fatal line and exits with status 3 at once
//	unhealthy  like serve, but /healthz answers 500
//	stubborn   like serve, but ignores SIGTERM
//	fork       like serve, plus a grandchild (mode orphan) shown at /grandchild
//	orphan     no HTTP; ignores SIGTERM; sleeps
func testApp(mode string) int {
	// A test app outliving a crashed test run must not stay forever.
	time.AfterFunc(2*time.Minute, func() { os.Exit(2) })
	fmt.Printf("%s starting, pid %d\n", mode, os.Getpid())
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "fatal: cannot open database")
		return 3
	case "orphan":
		ignoreTERM()
		// Tell the parent that SIGTERM is ignored now (fd 3 is its pipe).
		ready := os.NewFile(3, "ready")
		_, _ = ready.Write([]byte{1})
		ready.Close()
		time.Sleep(time.Hour)
		return 0
	}
	return serve(mode)
}

func serve(mode string) int {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "release=%s color=%s port=%s", os.Getenv("BASCULE_RELEASE"), os.Getenv("BASCULE_COLOR"), os.Getenv("PORT"))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if mode == "unhealthy" {
			http.Error(w, "database down", http.StatusInternalServerError)
		}
	})
	if mode == "fork" {
		pid, err := forkGrandchild()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		mux.HandleFunc("/grandchild", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, pid) })
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("listening on %s\n", l.Addr())
	fmt.Fprintln(os.Stderr, "stderr goes to the log too")
	srv := &http.Server{Handler: mux}
	go shutdownOnTERM(srv, mode == "stubborn")
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("bye")
	return 0
}

func shutdownOnTERM(srv *http.Server, stubborn bool) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	for s := range sig {
		if stubborn {
			fmt.Printf("ignoring %v\n", s)
			continue
		}
		fmt.Printf("got %v, shutting down\n", s)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
		return
	}
}

func ignoreTERM() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		for s := range sig {
			fmt.Printf("orphan ignoring %v\n", s)
		}
	}()
}

// forkGrandchild starts the orphan mode as a child of the app, in the
// app's process group, and waits until it ignores SIGTERM.
func forkGrandchild() (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), appEnv+"=orphan")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, err
	}
	go func() { _ = cmd.Wait() }()
	if _, err := r.Read(make([]byte, 1)); err != nil {
		return 0, fmt.Errorf("wait for grandchild: %w", err)
	}
	return cmd.Process.Pid, nil
}

// pidAlive reports whether pid runs and is not a zombie.
func pidAlive(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && st.state != 'Z'
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("atoi(%q): %v", s, err)
	}
	return n
}
