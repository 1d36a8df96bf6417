package web

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSafeNext(t *testing.T) {
	cases := map[string]string{
		"/":                    "/",
		"/flags/x?saved=2":     "/flags/x?saved=2",
		"":                     "/",
		"//evil.example/x":     "/",
		`/\evil.example`:       "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		"history":              "/",
	}
	for in, want := range cases {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRateBook(t *testing.T) {
	b := newRateBook(3)
	t0 := time.Unix(1000, 0)
	counts := []ColorStats{{0, 0}, {100, 0}, {300, 20}, {300, 20}, {700, 20}}
	for i, c := range counts {
		b.sample(t0.Add(time.Duration(i)*time.Second), time.Second/2, func() map[string]ColorStats { return map[string]ColorStats{"blue": c} })
	}
	// A second viewer in the same tick shares the sample.
	b.sample(t0.Add(4*time.Second+time.Millisecond), time.Second/2, func() map[string]ColorStats {
		t.Error("sampled twice within one tick")
		return nil
	})
	want := []Rate{{RPS: 200, ErrPct: 10}, {RPS: 0}, {RPS: 400}}
	if diff := cmp.Diff(want, b.history("blue")); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if got := b.latest("blue", "green"); got["blue"].RPS != 400 || got["green"] != (Rate{}) {
		t.Errorf("latest = %+v, want blue 400 req/s and green nothing", got)
	}
}

func TestReason(t *testing.T) {
	long := strings.Repeat("é", 300)
	cases := map[string]string{"  fix \n the\tbug ": "fix the bug", long: strings.Repeat("é", maxReason), "": ""}
	for in, want := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{"reason": {in}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if got := reason(r); got != want {
			t.Errorf("reason(%.20q) = %.20q (%d runes), want %.20q", in, got, len([]rune(got)), want)
		}
	}
}

func TestFormats(t *testing.T) {
	for w, want := range map[int]string{0: "0%", 10000: "10%", 12500: "12.5%", 100000: "100%", 1: "0.001%"} {
		if got := pct(w); got != want {
			t.Errorf("pct(%d) = %q, want %q", w, got, want)
		}
	}
	for d, want := range map[time.Duration]string{400 * time.Millisecond: "0.4s", 125 * time.Second: "2m05s", 62 * time.Minute: "1h02m"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestTemplatesParse(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"overview", "deployment", "releases", "history", "flags", "flag", "review", "segments", "segment", "audit", "users", "login", "error", "confirm"} {
		if _, ok := p.sets[name]; !ok {
			t.Errorf("no page %q", name)
		}
	}
}
