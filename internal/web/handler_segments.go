package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

type segmentRow struct {
	*flag.Segment
	Conditions string // one per line, as the editor takes them
	Keys       string // one per line
	UsedBy     []string
}

type segmentsView struct {
	Segments  []segmentRow
	Operators []flag.Operator
	New       bool // the page creates a segment
}

var operators = []flag.Operator{flag.OpEquals, flag.OpIn, flag.OpEndsWith, flag.OpStartsWith, flag.OpSemverGTE}

func newSegmentRow(s *flag.Segment, snap *flag.Snapshot) segmentRow {
	row := segmentRow{Segment: s, Keys: strings.Join(s.Keys, "\n")}
	lines := make([]string, len(s.Conditions))
	for i, c := range s.Conditions {
		lines[i] = c.Attribute + " " + string(c.Op) + " " + strings.Join(c.Values, ", ")
	}
	row.Conditions = strings.Join(lines, "\n")
	for _, k := range snap.FlagKeys() {
		for _, rule := range snap.Flags[k].Rules {
			if rule.Segment == s.Key {
				row.UsedBy = append(row.UsedBy, k)
				break
			}
		}
	}
	return row
}

// segmentsPage lists the segments and what uses them.
func (h *Handler) segmentsPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if h.opts.Flags == nil {
		return flagsOff
	}
	snap := h.opts.Flags.Snapshot()
	v := segmentsView{Operators: operators, New: true}
	for _, k := range sortedKeys(snap.Segments) {
		v.Segments = append(v.Segments, newSegmentRow(snap.Segments[k], snap))
	}
	h.render(w, http.StatusOK, "segments", page{Title: "Segments", Nav: "flags", User: p, Data: v, Flash: savedMessage(r)})
	return nil
}

// segmentPage is one segment's editor.
func (h *Handler) segmentPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if h.opts.Flags == nil {
		return flagsOff
	}
	snap := h.opts.Flags.Snapshot()
	s, ok := snap.Segments[r.PathValue("key")]
	if !ok {
		return &pageError{Status: http.StatusNotFound, Msg: fmt.Sprintf("There is no segment %q.", r.PathValue("key"))}
	}
	v := segmentsView{Segments: []segmentRow{newSegmentRow(s, snap)}, Operators: operators}
	h.render(w, http.StatusOK, "segment", page{Title: "Segment " + s.Key, Nav: "flags", User: p, Data: v, Flash: savedMessage(r)})
	return nil
}

// createSegment adds a segment, after review.
func (h *Handler) createSegment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	s, err := segmentOf(strings.TrimSpace(r.PostFormValue("key")), r)
	if err != nil {
		return err
	}
	return h.reviewOrSave(w, r, p, change{edit: flag.Edit{Action: "segment.create", Target: s.Key},
		apply: func(d *flag.Draft) error { return d.CreateSegment(s) },
		what:  "new segment " + s.Key, action: "/segments", back: "/segments", done: "/segments/" + url.PathEscape(s.Key)})
}

// changeSegment replaces a segment (op=update) or deletes it (op=delete),
// after review.
func (h *Handler) changeSegment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	key := r.PathValue("key")
	back := "/segments/" + url.PathEscape(key)
	c := change{what: "segment " + key, action: back + "/change", back: back}
	switch r.PostFormValue("op") {
	case "delete":
		c.edit, c.done = flag.Edit{Action: "segment.delete", Target: key}, "/segments"
		c.apply = func(d *flag.Draft) error { return d.DeleteSegment(key) }
	case "update":
		s, err := segmentOf(key, r)
		if err != nil {
			return err
		}
		c.edit = flag.Edit{Action: "segment.update", Target: key}
		c.apply = func(d *flag.Draft) error {
			if _, err := d.Segment(key); err != nil {
				return err
			}
			d.PutSegment(s)
			return nil
		}
	default:
		return badRequest("Unknown change.")
	}
	return h.reviewOrSave(w, r, p, c)
}

// segmentOf reads a segment from its editor: keys one per line, conditions
// one per line as "attribute operator value[, value…]".
func segmentOf(key string, r *http.Request) (*flag.Segment, error) {
	s := &flag.Segment{Key: key, Description: strings.TrimSpace(r.PostFormValue("description")),
		Match: flag.Match(r.PostFormValue("match")), Keys: nonEmptyLines(r.PostFormValue("keys"))}
	for i, line := range strings.Split(r.PostFormValue("conditions"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 {
			return nil, badRequest(fmt.Sprintf("Condition line %d: write it as “attribute operator value”, e.g. “email ends_with @example.com”.", i+1))
		}
		rest := strings.Join(fields[2:], " ")
		var values []string
		for v := range strings.SplitSeq(rest, ",") {
			if v = strings.TrimSpace(v); v != "" {
				values = append(values, v)
			}
		}
		s.Conditions = append(s.Conditions, flag.Condition{Attribute: fields[0], Op: flag.Operator(fields[1]), Values: values})
	}
	return s, nil
}

func nonEmptyLines(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
