package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which the browser tests drive.
const chromiumPath = "/usr/bin/chromium"

// browserApp is a web app on its own origin that uses bascule's flags as
// the OFREP web provider does: a bulk evaluation with its API key (a CORS
// request with a preflight), then the stream the answer announces, through
// EventSource, which can send no header.
const browserApp = `<!doctype html>
<title>shop</title>
<script>
window.events = [];
(async () => {
  const r = await fetch(%[1]s + "/ofrep/v1/evaluate/flags", {
    method: "POST",
    headers: {"Authorization": "Bearer " + %[2]s, "Content-Type": "application/json"},
    body: JSON.stringify({context: {targetingKey: "user-1"}}),
  });
  window.etag = r.headers.get("ETag");
  const body = await r.json();
  window.flagCount = body.flags.length;
  const es = new EventSource(body.eventStreams[0].url);
  es.onmessage = (e) => window.events.push(JSON.parse(e.data).etag);
  es.onerror = () => window.events.push("error");
})().catch((e) => { window.failure = String(e); });
</script>`

// A browser app on another origin evaluates over OFREP and follows flag
// changes over SSE, in a real Chromium.
func TestOFREPInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("this test needs %s (Debian's chromium), and CI=true: %v", chromiumPath, err)
		}
		t.Skipf("SKIPPED: %s not found (apt-get install chromium); with CI=true this fails", chromiumPath)
	}
	var page string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(app.Close)
	s := startServerWith(t, withOrigins(app.URL))
	s.apply(t, storyFlags)
	page = fmt.Sprintf(browserApp, strconv.Quote(s.base), strconv.Quote(s.token(t, "evaluator")))

	ctx := chromium(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL),
		chromedp.Poll[chromedp.Void](`window.failure || window.events.length > 0`, chromedp.WithPollingTimeout(20*time.Second)),
	); err != nil {
		t.Fatalf("the app's first evaluation and stream: %v (%s)", err, jsState(ctx))
	}
	etag, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.etag || ""`))
	flags, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.flagCount || 0`))
	if etag == "" || flags != 3 {
		t.Errorf("the page read ETag %q and %d flags, want an ETag and 3 (%s)", etag, flags, jsState(ctx))
	}
	s.call(t, "POST", "/api/v1/flags/banner/disable", adminToken, "")
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`window.events.includes('"v2"')`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the change did not reach the page over SSE: %v (%s)", err, jsState(ctx))
	}
}

// jsState describes what the page saw, for failure messages.
func jsState(ctx context.Context) string {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	state, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`JSON.stringify({failure: window.failure, events: window.events, etag: window.etag})`))
	return state
}

// chromium starts a headless Chromium with a fresh profile that reaches
// nothing beyond loopback.
func chromium(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-extensions", true),
		// Loopback bypasses proxies; anything else fails.
		chromedp.ProxyServer("http://127.0.0.1:9"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}
