package feature

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Wire is the JSON wire form of a snapshot: what the API serves at
// GET /api/v1/flags/snapshot and streams to the Go SDK, and what the SDK
// keeps on disk as its last known good copy.
type Wire struct {
	Version  int64      `json:"version"`
	Flags    []*Flag    `json:"flags"`
	Segments []*Segment `json:"segments"`
}

// Wire returns s in wire form, flags and segments sorted by key.
func (s *Snapshot) Wire() Wire {
	d := Wire{Version: s.Version, Flags: []*Flag{}, Segments: []*Segment{}}
	for _, k := range s.FlagKeys() {
		d.Flags = append(d.Flags, s.Flags[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Segments)) {
		d.Segments = append(d.Segments, s.Segments[k])
	}
	return d
}

// MarshalJSON encodes s as its Wire.
func (s *Snapshot) MarshalJSON() ([]byte, error) { return json.Marshal(s.Wire()) }

// DecodeSnapshot parses a Wire and builds the snapshot it describes,
// validating it as NewSnapshot does.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	var d Wire
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode flag snapshot: %w", err)
	}
	s, err := NewSnapshot(d.Version, d.Flags, d.Segments)
	if err != nil {
		return nil, fmt.Errorf("decode flag snapshot: %w", err)
	}
	return s, nil
}
