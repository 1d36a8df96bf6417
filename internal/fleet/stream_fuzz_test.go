package fleet

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bascule/bascule/internal/router"
)

// FuzzRoutingStream reads what a control plane (or whoever answers in its
// place) sends on the routing stream, as a router does. Whatever the bytes,
// the router never panics, serves only a table it accepts, and serves
// exactly the table and settings it persisted: a restart serves the same.
func FuzzRoutingStream(f *testing.F) {
	event := func(u Update) []byte {
		b, _ := json.Marshal(u)
		return append(append([]byte("event: table\ndata: "), b...), "\n\n"...)
	}
	two := Update{Table: router.Table{Generation: 2, Live: router.Green,
		Upstreams: map[router.Color]string{router.Blue: "127.0.0.1:1", router.Green: "127.0.0.1:2,127.0.0.1:3"}}}
	f.Add(event(two))
	f.Add(append(event(two), event(Update{Table: router.Table{Generation: 3, Live: router.Blue,
		Upstreams: map[router.Color]string{router.Blue: "127.0.0.1:1"}},
		Settings: &router.Settings{PreviewToken: "tok", PreviewHosts: []string{"preview.shop"}, Concurrency: 4}})...))
	f.Add(event(Update{Table: router.Table{Generation: 4, Live: router.Blue,
		Upstreams: map[router.Color]string{router.Blue: "127.0.0.1:1", router.Green: "127.0.0.1:2"},
		Split:     &router.Split{To: router.Green, Weight: 100, Salt: "s"}}}))
	f.Add([]byte(": keepalive\n\nevent: table\ndata: {\"table\":{\"generation\":5,\"live\":\"purple\"}}\n\n"))
	f.Add([]byte("event: table\ndata: {\"table\":{\"generation\":-1,\"live\":\"blue\",\"upstreams\":{\"blue\":[\"a:1\",\"\"]}}}\n\n"))
	f.Add([]byte("event: table\ndata: {\"table\":\ndata: {\"generation\":7}}\n\n"))
	f.Add([]byte("event: table\ndata: null\n\nevent: other\ndata: x\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		path := filepath.Join(t.TempDir(), "routing.json")
		r := router.New(router.Options{Bucket: func(_, _, key string) uint32 { return uint32(len(key)) }})
		agent := NewAgent(AgentOptions{ID: "r1", Router: r, Path: path, SettingsPath: path + ".settings"})
		fl := &Follower{URLs: []string{"http://control.invalid"}, Agent: agent}
		fl.read(bytes.NewReader(body), nil)

		served := r.Table()
		if err := r.CheckTable(served); err != nil {
			t.Fatalf("the router serves %+v, which it refuses: %v", served, err)
		}
		if _, err := os.Stat(path); err == nil {
			disk, err := router.LoadTable(path)
			if err != nil {
				t.Fatalf("the persisted table does not load: %v", err)
			}
			a, _ := json.Marshal(disk)
			b, _ := json.Marshal(served)
			if !bytes.Equal(a, b) {
				t.Fatalf("the router serves %s, but persisted %s", b, a)
			}
		} else if served.Generation != 0 {
			t.Fatalf("the router serves generation %d, never persisted", served.Generation)
		}
		settings, found, err := LoadSettings(path + ".settings")
		if err != nil {
			t.Fatalf("the persisted settings do not load: %v", err)
		}
		if found && !settings.Equal(r.Settings()) {
			t.Fatalf("the router applies %+v, but persisted %+v", r.Settings(), settings)
		}
	})
}
