package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
	"github.com/chromedp/chromedp"
)

// flagsFile has a description with HTML in it, which must show as text.
const flagsFile = `flags:
  - key: checkout-v2
    description: '<img src=x onerror="window.pwned=1"> New checkout <b>flow</b>'
    owner: payments
    enabled: true
    rules:
      - percentage: 10
  - key: banner
    description: Summer sale banner
    enabled: true
`

// TestBrowser drives the control room in a real Chromium, as operators do:
// log in, deploy v2 from the overview and watch its steps arrive, preview
// it, go live, roll back (from a phone-sized screen), toggle a flag; then
// check that a viewer sees no action and cannot forge one, that a request
// without the CSRF token is refused, that an action after the session has
// ended does nothing, and that HTML in user text stays text. It saves a
// screenshot of each page in the test's artifact directory.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test starts Chromium and real apps")
	}
	b := startBascule(t)
	b.addRelease("v1", "First release", "")
	b.addRelease("v2", `Faster checkout. <script>window.pwned=1</script>`, "start_delay=1500ms")
	b.addRelease("v3", "Broken on purpose", "crash=fatal: cannot read config.toml")
	b.liveWith("v1")
	ctx := context.Background()
	if _, err := b.cl.ApplyFlags(ctx, "flags.yaml", []byte(flagsFile), false, 0); err != nil {
		t.Fatal(err)
	}
	for _, u := range [][2]string{{"vera", store.RoleViewer}, {"dana", store.RoleDeployer}} {
		if _, _, err := b.cl.CreateUser(ctx, u[0], u[1], password); err != nil {
			t.Fatal(err)
		}
	}
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	go b.traffic(trafficCtx)

	tb := newTab(t, b.base)
	t.Logf("screenshots in %s", tb.shots)
	tb.open("/")
	tb.waitFor("the login page", `location.pathname === "/login"`)
	tb.shot("login")
	tb.login("admin")

	browserDeploy(t, tb, b)
	browserPreview(t, tb, b)
	browserGoLive(t, tb, b)
	browserRollbackOnPhone(t, tb, b)
	browserNoCSRF(t, tb, b)
	browserFlags(t, tb, b)
	browserFailedDeploy(t, tb, b)
	browserPages(t, tb)
	tb.logout()
	browserViewer(t, tb, b)
	tb.logout()
	browserExpiredSession(t, tb, b)
	tb.checkProblems()
}

func browserDeploy(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	if got := eval[string](tb, `document.getElementById("deploy-version").value`); got != "v3" {
		t.Errorf("the release to deploy defaults to %q, want the newest, v3", got)
	}
	tb.do(chromedp.SetValue(chromedp.ID("deploy-version"), "v2"))
	tb.shot("overview-before")
	form := `form[action="/deploy"]`
	tb.do(chromedp.Click(chromedp.CSS(form + " [data-ask]")))
	tb.waitFor("the deploy dialog", `document.querySelector('`+form+` dialog[open]')`)
	if q := tb.text(form + " dialog h2"); q != "Deploy v2?" {
		t.Errorf("the dialog asks %q, want %q", q, "Deploy v2?")
	}
	tb.do(chromedp.SendKeys(chromedp.ID("deploy-reason"), "checkout is faster"))
	tb.shot("deploy-dialog")
	// A double click: two clicks, the second while the first is on its way.
	nodes, err := chromedp.Run(tb.ctx, chromedp.Nodes(chromedp.CSS(form+" [data-confirm]")))
	if err != nil || len(nodes) == 0 {
		tb.fail("find the confirm button: %v", err)
	}
	tb.do(chromedp.MouseClickNode(nodes[0], chromedp.ClickCount(1)))
	chromedp.Do(tb.ctx, chromedp.MouseClickNode(nodes[0], chromedp.ClickCount(2))) // the page may be gone already
	tb.waitFor("the deployment page", `location.pathname.startsWith("/deployments/") && document.querySelector(".steps")`)
	eval[bool](tb, `window.notReloaded = true`)
	first := eval[string](tb, `document.querySelector('[data-step="health"]').dataset.state`)
	if first == "done" {
		t.Errorf("the health step was done when the page loaded, want it still to come (the release starts in 1.5s)")
	}
	tb.waitFor("the health step to be done, live", `document.querySelector('[data-step="health"][data-state="done"]')`)
	tb.waitFor("the deployment to be ready", `document.querySelector(".dep-head .state").innerText === "ready"`)
	if !eval[bool](tb, `window.notReloaded === true`) {
		t.Error("the deployment page reloaded; want the steps to arrive over the event stream")
	}
	tb.waitFor("the app's log", `document.getElementById("log").innerText.includes("sample app listening")`)
	tb.shot("deployment")
	if n := b.deploymentsOf("v2"); n != 1 {
		t.Errorf("a double click on Deploy made %d deployments of v2, want 1", n)
	}
}

func browserPreview(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.open("/")
	href := eval[string](tb, `(document.getElementById("preview-link") || {}).href || ""`)
	if !strings.HasPrefix(href, "http://preview.localhost:") {
		tb.fail("preview link = %q, want one to preview.localhost", href)
	}
	tb.do(chromedp.Navigate(href))
	tb.waitFor("the preview", `document.body && document.body.innerText.includes("release v2")`)
	tb.shot("preview")
	if got := b.serves(); got != "v1" {
		t.Errorf("production serves %q during the preview, want v1", got)
	}
	tb.open("/")
}

func browserGoLive(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.confirmAction("go-live", "preview looks good")
	tb.waitFor("the go-live message", `(document.querySelector(".flash.ok") || {}).innerText === "Gone live: production runs v2 on green."`)
	if got := b.serves(); got != "v2" {
		t.Errorf("after Go live production serves %q, want v2", got)
	}
	if tb.count(".color-green.is-live") != 1 {
		t.Error("the overview does not show green live")
	}
	// Let the charts gather a few points of the traffic.
	points := 3
	if *updateScreenshots {
		points = 10 // a chart worth showing in the README
	}
	tb.waitFor("traffic on the chart", fmt.Sprintf(`document.querySelector('.color-green .rps').getAttribute('points').split(' ').length >= %d`, points))
	path := tb.shot("overview")
	if *updateScreenshots {
		png, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join("..", "..", "docs", "screenshots", "overview.png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", dst)
	}
}

func browserRollbackOnPhone(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	defer tb.do(chromedp.EmulateViewport(1280, 900))
	tb.open("/")
	if wide := eval[bool](tb, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
		t.Error("the overview is wider than a phone's screen")
	}
	// Every tab in sight: the navigation wraps rather than scrolling
	// sideways with the last tabs cut off.
	if cut := eval[string](tb, `[...document.querySelectorAll(".top nav a")].filter(a => {
		const r = a.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth }).map(a => a.innerText).join(", ")`); cut != "" {
		t.Errorf("on a phone the navigation cuts off %s", cut)
	}
	tb.shot("overview-phone")
	tb.confirmAction("rollback", "checkout errors at 3 a.m.")
	tb.waitFor("the rollback message", `(document.querySelector(".flash.ok") || {}).innerText === "Rolled back: production runs v1 on blue."`)
	if got := b.serves(); got != "v1" {
		t.Errorf("after Roll back production serves %q, want v1", got)
	}
	tb.shot("rolled-back-phone")
}

func browserNoCSRF(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	if status := tb.fetchStatus("/go-live", false); status != 403 {
		t.Errorf("a POST /go-live from the page without the CSRF token = %d, want 403", status)
	}
	if got := b.serves(); got != "v1" {
		t.Errorf("after the refused go-live production serves %q, want v1", got)
	}
}

func browserFlags(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.open("/flags")
	desc := tb.text("#flag-checkout-v2 .desc")
	if !strings.Contains(desc, `<img src=x onerror="window.pwned=1"> New checkout <b>flow</b>`) {
		t.Errorf("the flag description reads %q, want its HTML shown as text", desc)
	}
	if tb.count(`img[src="x"]`) != 0 || eval[bool](tb, `window.pwned === 1`) {
		t.Error("the flag description's HTML became part of the page")
	}
	tb.shot("flags")
	tb.do(chromedp.Click(chromedp.CSS(`#flag-banner button.toggle`)))
	tb.waitFor("the review of the change", `document.getElementById("save")`)
	if diff := tb.text(".diff-list"); !strings.Contains(diff, `~ flag "banner": enabled: true → false`) {
		t.Errorf("the review shows %q, want the diff enabled: true → false", diff)
	}
	if !b.srv.Flags().Snapshot().Flags["banner"].Enabled {
		t.Error("the flag changed before the change was saved")
	}
	tb.shot("flag-review")
	tb.do(chromedp.Click(chromedp.ID("save")))
	tb.waitFor("the flags page after saving", `location.pathname === "/flags" && document.querySelector(".flash.ok")`)
	if got := tb.text("#flag-banner .onoff"); got != "OFF" && got != "off" {
		t.Errorf("banner shows %q after turning it off, want off", got)
	}
	if b.srv.Flags().Snapshot().Flags["banner"].Enabled {
		t.Error("banner is still on in the flag service")
	}
	tb.open("/flags/checkout-v2")
	tb.do(chromedp.SetValue(chromedp.ID("rollout"), "35"))
	tb.shot("flag")
}

func browserPages(t *testing.T, tb *tab) {
	t.Helper()
	for _, p := range []struct{ path, name, want string }{
		{"/releases", "releases", "Faster checkout. <script>window.pwned=1</script>"},
		{"/history", "history", "checkout is faster"},
		{"/segments", "segments", "Segments"},
		{"/audit", "audit", "rollback"},
		{"/users", "users", "dana"},
	} {
		tb.open(p.path)
		if body := tb.text("main"); !strings.Contains(body, p.want) {
			t.Errorf("%s does not show %q", p.path, p.want)
		}
		tb.shot(p.name)
	}
	if eval[bool](tb, `window.pwned === 1`) {
		t.Error("release notes ran as script")
	}
}

func browserViewer(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.login("vera")
	if n := tb.count(`[data-ask], form[action="/deploy"], form[action="/go-live"], form[action="/rollback"], form[action="/finalize"]`); n != 0 {
		t.Errorf("the viewer's overview has %d action controls, want none", n)
	}
	tb.shot("overview-viewer")
	for _, path := range []string{"/go-live", "/rollback", "/deploy"} {
		if status := tb.fetchStatus(path, true); status != 403 {
			t.Errorf("a forged POST %s by the viewer, with her CSRF token = %d, want 403", path, status)
		}
	}
	if got, n := b.serves(), b.deploymentsOf("v2"); got != "v1" || n != 1 {
		t.Errorf("after the viewer's forged POSTs production serves %q with %d deployments of v2, want v1 and 1", got, n)
	}
	tb.open("/flags")
	if n := tb.count("button.toggle"); n != 0 {
		t.Errorf("the viewer sees %d flag toggles, want none", n)
	}
}

func browserExpiredSession(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.login("dana")
	before := b.deploymentsOf("v2")
	// The session ends while the page is open: a new password ends every
	// session of the user, as an expiry does.
	if _, err := b.cl.UpdateUser(context.Background(), "dana", auth.UserChange{Password: "another long password"}); err != nil {
		t.Fatal(err)
	}
	tb.confirmAction("deploy", "should not happen")
	tb.waitFor("the login page", `location.pathname === "/login"`)
	if msg := tb.text(".flash.error"); !strings.Contains(msg, "that action was not performed") {
		t.Errorf("the login page says %q, want that the action was not performed", msg)
	}
	tb.shot("session-expired")
	if n := b.deploymentsOf("v2"); n != before {
		t.Errorf("the deploy with an ended session made %d deployments of v2, want %d", n, before)
	}
}

func browserFailedDeploy(t *testing.T, tb *tab, b *bascule) {
	t.Helper()
	tb.open("/")
	tb.do(chromedp.SetValue(chromedp.ID("deploy-version"), "v3"))
	tb.confirmAction("deploy", "try v3")
	tb.waitFor("the deployment to fail", `(document.querySelector(".dep-head .state") || {}).innerText === "failed"`)
	if msg := tb.text(`[data-step="health"][data-state="failed"] .msg`); !strings.Contains(msg, "fatal: cannot read config.toml") {
		t.Errorf("the failed step says %q, want the app's last words", msg)
	}
	if log := tb.text("#log"); !strings.Contains(log, "fatal: cannot read config.toml") {
		t.Errorf("the log pane of the failed deployment reads %q, want the app's log lines", log)
	}
	tb.shot("deployment-failed")
	if got := b.serves(); got != "v1" {
		t.Errorf("after a failed deployment production serves %q, want v1", got)
	}
}
