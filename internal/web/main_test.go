package web_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/sampleapp"
)

// appEnv makes the test binary run the sample app instead of the tests:
// the browser tests deploy releases whose command is this binary, so every
// process involved is real.
const appEnv = "BASCULE_WEB_TEST_APP"

var updateScreenshots = flag.Bool("update-screenshots", false, "write the overview's screenshot to docs/screenshots/overview.png")

func TestMain(m *testing.M) {
	if os.Getenv(appEnv) == "1" {
		os.Exit(runSampleApp())
	}
	code := m.Run()
	browserSkips.Report()
	os.Exit(code)
}

// runSampleApp serves the release described by ./release.txt (the version,
// then optional start_delay=DURATION and crash=MESSAGE) on $PORT until
// SIGTERM.
func runSampleApp() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := sampleapp.Options{Color: os.Getenv("BASCULE_COLOR"), Grace: 2 * time.Second}
	b, err := os.ReadFile("release.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sample app:", err)
		return 1
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	o.Release = lines[0]
	for _, l := range lines[1:] {
		if v, ok := strings.CutPrefix(l, "start_delay="); ok {
			o.StartDelay, _ = time.ParseDuration(v)
		}
		if v, ok := strings.CutPrefix(l, "crash="); ok {
			o.Crash = v
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	log.Info("sample app starting", "release", o.Release)
	if err := sampleapp.Serve(ctx, "127.0.0.1:"+os.Getenv("PORT"), o, log); err != nil {
		fmt.Fprintln(os.Stderr, "sample app:", err)
		return 1
	}
	return 0
}
