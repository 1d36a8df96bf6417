package web

import (
	"testing"
	"time"
)

// BenchmarkRateSample is what each overview stream does every tick: take
// (or share) a sample of the counters and read the latest rates.
func BenchmarkRateSample(b *testing.B) {
	book := newRateBook(60)
	stats := map[string]ColorStats{"blue": {Requests: 1}, "green": {Requests: 2}}
	read := func() map[string]ColorStats { return stats }
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		book.sample(now, time.Second/2, read)
		book.latest("blue", "green")
	}
}

// BenchmarkPanelRender renders the overview panel, as the live stream
// sends it when something changes.
func BenchmarkPanelRender(b *testing.B) {
	p := mustParsePages()
	v := &overviewView{Colors: []colorView{{History: "[]"}, {History: "[]"}}}
	v.Colors[0].Color, v.Colors[0].Live, v.Colors[0].Version = "blue", true, "v1"
	v.Colors[1].Color, v.Colors[1].Version = "green", "v2"
	v.Live, v.Idle = v.Colors[0], v.Colors[1]
	v.GoLive = actionView{Enabled: true, Version: "v2"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.exec("overview", "panel", page{Data: v}); err != nil {
			b.Fatal(err)
		}
	}
}
