package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/yamldoc"
)

// decoder lays a YAML document onto a Config by hand rather than through
// reflection, so that it can report every problem (not only the first) and
// remember the line of every key for the validator.
type decoder struct {
	*yamldoc.Decoder
	lines  map[string]int  // dotted key path → line of the key
	failed map[string]bool // paths whose value could not be decoded
}

// field decodes the value of one key; path is the key's dotted path.
type field func(path string, n yamldoc.Node)

// section maps the keys allowed in one mapping to their decoders.
type section map[string]field

func newDecoder(file string) *decoder {
	return &decoder{
		Decoder: yamldoc.NewDecoder(file, yamldoc.Options{Kind: "config", SyntaxPrefix: "invalid YAML: "}),
		lines:   map[string]int{},
		failed:  map[string]bool{},
	}
}

// fail reports that the value at path has the wrong shape, and marks path
// so the validator does not pile a second complaint onto the same key.
func (d *decoder) fail(path string, n yamldoc.Node, format string, args ...any) {
	d.failed[path] = true
	if path == "" {
		d.Errorf(n.Line(), "the top level must be a mapping of keys such as listen: and runtime:, got %s", n.KindName())
		return
	}
	d.Errorf(n.Line(), "%s: %s", path, fmt.Sprintf(format, args...))
}

// entries returns the entries of the mapping at path, failing path when n
// (or a mapping merged into it) is not a mapping.
func (d *decoder) entries(path string, n yamldoc.Node) ([]yamldoc.Entry, bool) {
	return d.Entries(n, func(bad yamldoc.Node) {
		d.fail(path, bad, "expected a mapping, got %s", bad.KindName())
	})
}

// mapping decodes a mapping whose allowed keys are fields. A null value
// (an empty section) is fine and leaves the defaults.
func (d *decoder) mapping(path string, n yamldoc.Node, fields section) {
	entries, ok := d.entries(path, n)
	if !ok {
		return
	}
	for _, e := range entries {
		p := joinPath(path, e.Key)
		if path == "" && strings.HasPrefix(e.Key, "x-") {
			continue // a place for anchors, as in docker compose
		}
		f, known := fields[e.Key]
		if !known {
			d.UnknownKey(e, path, slices.Collect(maps.Keys(fields)))
			continue
		}
		d.lines[p] = e.Line
		f(p, e.Value())
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// str decodes any scalar as its text, so `token: 0123` keeps its zero.
func (d *decoder) str(dst *string) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		s, ok := n.Text()
		if !ok {
			d.fail(path, n, "expected a string, got %s", n.KindName())
			return
		}
		*dst = s
	}
}

// strs decodes a list of scalars.
func (d *decoder) strs(dst *[]string) field {
	return func(path string, n yamldoc.Node) {
		out := []string{}
		if d.list(path, n, `strings such as ["./app", "--serve"]`, func(p string, item yamldoc.Node) {
			s, ok := item.Text()
			if !ok {
				d.fail(p, item, "expected a string, got %s", item.KindName())
				return
			}
			out = append(out, s)
		}) {
			*dst = out
		}
	}
}

// addrs decodes one address, as a list of one, or a list of them.
func (d *decoder) addrs(dst *[]string) field {
	return func(path string, n yamldoc.Node) {
		if s, ok := n.Text(); ok && !n.IsNull() {
			*dst = []string{s}
			return
		}
		out := []string{}
		if d.list(path, n, `addresses such as ["10.0.0.1:8080", "10.0.0.2:8080"]`, func(p string, item yamldoc.Node) {
			s, ok := item.Text()
			if !ok {
				d.fail(p, item, "expected a string, got %s", item.KindName())
				return
			}
			out = append(out, s)
		}) {
			*dst = out
		}
	}
}

// list decodes a YAML list at path, item by item with each, which gets the
// item's path ("path[i]", its line recorded) and its anchor-resolved node.
// It reports whether n was a list: null is not (the destination keeps its
// default) and any other non-list fails, saying what was wanted (what).
func (d *decoder) list(path string, n yamldoc.Node, what string, each func(p string, item yamldoc.Node)) bool {
	if n.IsNull() {
		return false
	}
	items, ok := d.Items(n)
	if !ok {
		d.fail(path, n, "expected a list of %s, got %s", what, n.KindName())
		return false
	}
	for i, item := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.RefLine()
		each(p, item)
	}
	return true
}

// strMap decodes a mapping of scalars; a null value is an empty string.
func (d *decoder) strMap(dst *map[string]string) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		entries, ok := d.entries(path, n)
		if !ok {
			return
		}
		out := make(map[string]string, len(entries))
		for _, e := range entries {
			p := joinPath(path, e.Key)
			d.lines[p] = e.Line
			v := e.Value()
			s, ok := v.Text()
			if !ok && !v.IsNull() {
				d.fail(p, v, "expected a string, got %s", v.KindName())
				continue
			}
			out[e.Key] = s
		}
		*dst = out
	}
}

// duration decodes "500ms", "2s", "1m30s". A bare number is refused: a
// reader cannot tell whether 30 means seconds or milliseconds.
func (d *decoder) duration(dst *time.Duration) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		s, ok := n.Text()
		if !ok {
			d.fail(path, n, "expected a duration such as \"500ms\" or \"2s\", got %s", n.KindName())
			return
		}
		v, err := parseDuration(s)
		if err != nil {
			d.fail(path, n, "%v", err)
			return
		}
		*dst = v
	}
}

// integer decodes a YAML integer that fits in an int.
func (d *decoder) integer(dst *int) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		if v, ok := n.Int(); ok {
			*dst = v
			return
		}
		// go-yaml leaves integers too big for 64 bits as strings.
		if s, _ := n.Text(); n.Kind() == yamldoc.Int || s != "" && strings.Trim(s, "0123456789") == "" {
			d.fail(path, n, "%s is out of range", s)
			return
		}
		d.fail(path, n, "expected an integer, got %s", n.Describe())
	}
}

// number decodes a YAML integer or floating-point number.
func (d *decoder) number(dst *float64) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		if v, ok := n.Number(); ok {
			*dst = v
			return
		}
		if t, _ := n.Text(); strings.HasSuffix(strings.TrimSpace(t), "%") {
			d.fail(path, n, "write a share as a number: 0.02 for 2%%, got %s", n.Describe())
			return
		}
		d.fail(path, n, "expected a number such as 0.02, got %s", n.Describe())
	}
}

// boolean decodes true or false; "yes" and "on" are YAML 1.1 relics and
// are refused rather than guessed.
func (d *decoder) boolean(dst *bool) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		b, ok := n.Bool()
		if !ok {
			d.fail(path, n, "expected true or false, got %s", n.Describe())
			return
		}
		*dst = b
	}
}

// portRange decodes "A-B". Whether A and B are usable ports is the
// validator's business.
func (d *decoder) portRange(dst *PortRange) field {
	return func(path string, n yamldoc.Node) {
		if n.IsNull() {
			return
		}
		s, _ := n.Text()
		lo, hi, found := strings.Cut(s, "-")
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b, errB := strconv.Atoi(strings.TrimSpace(hi))
		if n.Kind() != yamldoc.String || !found || errA != nil || errB != nil {
			d.fail(path, n, "expected a range \"A-B\" such as \"20000-20999\", got %s", n.Describe())
			return
		}
		*dst = PortRange{Min: a, Max: b}
	}
}
