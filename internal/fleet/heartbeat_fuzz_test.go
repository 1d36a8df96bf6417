package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/guard"
)

// FuzzDecodeHeartbeat feeds the hub what a network peer could send.
// Whatever the bytes: decoding never panics and refuses with an
// *InputError; a heartbeat it accepts, the hub accepts too, and the
// fleet's counts never go backwards, never overflow into a lower value.
func FuzzDecodeHeartbeat(f *testing.F) {
	f.Add([]byte(`{"id":"r1","installed":3,"drained":3,"colors":{"blue":{"in_flight":2,"queued":0}},"traffic":{"boot":"x","uptime_ms":5,"colors":{"blue":` + countsJSON(4, 1) + `,"green":` + countsJSON(9, 9) + `}}}`))
	f.Add([]byte(`{"id":"r1","traffic":{"boot":"y","uptime_ms":1,"colors":{"blue":` + countsJSON(2, 0) + `}}}`))
	f.Add([]byte(`{"id":"r1","traffic":{"boot":"x","uptime_ms":99999999,"colors":{"blue":` + countsJSON(9007199254740992, 9007199254740992) + `}}}`))
	f.Add([]byte(`{"id":"r2","traffic":{"boot":"z","colors":{"blue":{"requests":-1}}}}`))
	f.Add([]byte(`{"id":"r2","traffic":{"boot":"z","colors":{"purple":{"requests":1,"latency":[1]}}}}`))
	f.Add([]byte(`{"id":"r3"}`))
	f.Add([]byte(`{`))
	hub, tr := trafficHub(f, nil, time.Second)
	f.Fuzz(func(t *testing.T, b []byte) {
		hb, err := DecodeHeartbeat(bytes.NewReader(b))
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("DecodeHeartbeat(%q) = %v, want an *InputError", b, err)
			}
			return
		}
		again, err := json.Marshal(hb)
		if err != nil {
			t.Fatalf("encode %+v: %v", hb, err)
		}
		if _, err := DecodeHeartbeat(bytes.NewReader(again)); err != nil {
			t.Fatalf("DecodeHeartbeat(%s) = %v after DecodeHeartbeat(%q) accepted it", again, err, b)
		}
		before := [2]guard.Counts{tr.Read("blue"), tr.Read("green")}
		if err := hub.Heartbeat(t.Context(), hb); err != nil {
			t.Fatalf("Heartbeat(%q) = %v after DecodeHeartbeat accepted it", b, err)
		}
		for i, c := range []string{"blue", "green"} {
			now := tr.Read(c)
			if now.Requests < before[i].Requests || now.Errors < before[i].Errors {
				t.Fatalf("Heartbeat(%q): %s went backwards: %+v then %+v", b, c, before[i], now)
			}
			for k := range now.Latency {
				if now.Latency[k] < before[i].Latency[k] {
					t.Fatalf("Heartbeat(%q): %s's latency bucket %d went backwards", b, c, k)
				}
			}
		}
	})
}
