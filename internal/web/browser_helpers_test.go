package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/testreport"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which the browser tests drive.
const chromiumPath = "/usr/bin/chromium"

// tab is one browser tab on a bascule's UI.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // where screenshots go

	mu       sync.Mutex
	problems []string // script exceptions and CSP violations seen
}

// browserSkips counts the browser tests skipped for want of chromium;
// TestMain reports them.
var browserSkips testreport.Skips

// newTab starts a headless chromium with a fresh profile that reaches
// nothing beyond loopback: every other host goes to a proxy that does not
// exist. Without chromium the test is skipped, loudly, unless CI=true.
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	if err == nil && testreport.Without("chromium") {
		err = fmt.Errorf("%s=chromium", testreport.WithoutEnv)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser tests need %s (Debian's chromium), and CI=true: %v", chromiumPath, err)
		}
		browserSkips.Skip(t, fmt.Sprintf("THE BROWSER TESTS DID NOT RUN: %s not found (apt-get install chromium); with CI=true they fail", chromiumPath))
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true), chromedp.Flag("no-pings", true),
		// Loopback (and *.localhost) bypass proxies; anything else fails.
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 80*time.Second)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	tb := &tab{t: t, ctx: ctx, base: base, shots: t.ArtifactDir()}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, log.Enable, struct{}{})
		return err
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tb.watch()
	return tb
}

// watch records uncaught script errors and Content-Security-Policy
// violations: a page that breaks its own script fails the test.
func (tb *tab) watch() {
	exceptions := chromedp.Events(tb.ctx, runtime.ExceptionThrown)
	entries := chromedp.Events(tb.ctx, log.EntryAdded)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.problem(fmt.Sprintf("script error at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		}
	}()
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			if ev.Entry.Source == log.EntrySourceSecurity || ev.Entry.Source == log.EntrySourceJavascript {
				tb.problem(fmt.Sprintf("%s: %s", ev.Entry.Source, ev.Entry.Text))
			}
		}
	}()
}

func (tb *tab) problem(p string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.problems = append(tb.problems, p)
}

// checkProblems fails the test for every script error or CSP violation.
func (tb *tab) checkProblems() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("the browser reported %s", p)
	}
	tb.problems = nil
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.fail("browser action: %v", err)
	}
}

// fail saves a screenshot of the page as it is, then fails the test.
func (tb *tab) fail(format string, args ...any) {
	tb.t.Helper()
	tb.shot("failure")
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	tb.t.Fatalf(format+" (page %s; screenshot failure.png in %s)", append(args, loc, tb.shots)...)
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.base + path))
}

// eval evaluates a JavaScript expression, awaiting a promise.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.fail("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, across page loads.
func (tb *tab) waitFor(what, cond string) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.fail("timed out after 15s waiting for %s (%s)", what, cond)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, selector))
}

func (tb *tab) count(selector string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, selector))
}

// shot saves a PNG of the whole page and returns its path.
func (tb *tab) shot(name string) string {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(tb.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Errorf("save screenshot: %v", err)
	}
	return path
}

func (tb *tab) login(name string) {
	tb.t.Helper()
	tb.open("/login")
	tb.do(chromedp.SendKeys(chromedp.ID("name"), name), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	tb.waitFor("the overview after logging in as "+name, `location.pathname === "/" && document.querySelector(".who .name")`)
	if got := tb.text(".who .name"); got != name {
		tb.fail("logged in as %q, want %q", got, name)
	}
}

func (tb *tab) logout() {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(`form.who button`)))
	tb.waitFor("the login page", `location.pathname === "/login" && document.getElementById("password")`)
}

// confirmAction opens an overview action's dialog, types a reason and
// confirms it.
func (tb *tab) confirmAction(action, reason string) {
	tb.t.Helper()
	form := fmt.Sprintf(`form[action="/%s"]`, action)
	tb.do(chromedp.Click(chromedp.CSS(form + " [data-ask]")))
	tb.waitFor("the "+action+" dialog", `document.querySelector('`+form+` dialog[open]')`)
	tb.do(chromedp.SendKeys(chromedp.ID(action+"-reason"), reason), chromedp.Click(chromedp.CSS(form+" [data-confirm]")))
}

// fetchStatus sends a POST from the page, as a script on it could, and
// returns the status; csrf says whether it carries the page's token.
func (tb *tab) fetchStatus(path string, csrf bool) int {
	tb.t.Helper()
	header := `{}`
	if csrf {
		header = `{"X-CSRF-Token": document.querySelector('meta[name=csrf-token]').content}`
	}
	return eval[int](tb, fmt.Sprintf(`fetch(%q, {method: "POST", redirect: "manual", headers: %s,
		body: new URLSearchParams({confirm: "yes", version: "v2"})}).then(r => r.status)`, path, header))
}
