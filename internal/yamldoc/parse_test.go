package yamldoc

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parse reads src as a file named f.yaml and returns the root and every
// error message, one string each.
func parse(t *testing.T, opts Options, src string) (*Decoder, Node, []string) {
	t.Helper()
	d := NewDecoder("f.yaml", opts)
	root, _ := d.Parse([]byte(src))
	var msgs []string
	for _, e := range d.Errors().Sorted() {
		msgs = append(msgs, e.Error())
	}
	return d, root, msgs
}

func TestParseErrors(t *testing.T) {
	config := Options{Kind: "config", SyntaxPrefix: "invalid YAML: "}
	tests := []struct {
		name string
		opts Options
		src  string
		want []string
	}{
		{"syntax, prefixed", config, "app: [shop\n",
			[]string{`f.yaml:1: invalid YAML: sequence end token ']' not found`}},
		{"syntax, no prefix", Options{}, "app: [shop\n",
			[]string{`f.yaml:1: sequence end token ']' not found`}},
		{"[line:col] in words", Options{}, "a: 1\na: 2\n",
			[]string{`f.yaml:2: mapping key "a" already defined on line 1`}},
		{"key indented too far: the line of the stray colon", Options{}, "a:\n  b: x\n   c: y\n",
			[]string{`f.yaml:3: mapping value is not allowed in this context`}},
		{"unclosed [ on the line that opened it", Options{}, "a: [x, 'y]' # ]\nb: 1\n",
			[]string{`f.yaml:1: the [ opened on this line is not closed (',' or ']' expected by line 2)`}},
		{"unclosed { on the line that opened it", config, "a: {b: x\nc: 1\n",
			[]string{`f.yaml:1: invalid YAML: the { opened on this line is not closed (',' or '}' expected by line 2)`}},
		{"second document", Options{Kind: "flags"}, "a: 1\n---\nb: 2\n",
			[]string{`f.yaml:2: a flags file holds one YAML document; remove this one or the "---" before it`}},
		{"second document, no kind", Options{}, "a: 1\n---\n",
			[]string{`f.yaml:2: a YAML file holds one YAML document; remove this one or the "---" before it`}},
		{"unknown alias", Options{}, "a: *nope\n",
			nil}, // reported when the value is asked for, not by Parse
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, got := parse(t, tt.opts, tt.src)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) errors (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestParseKeepsTheFirstOfTwoDocuments(t *testing.T) {
	d := NewDecoder("f.yaml", Options{})
	root, ok := d.Parse([]byte("a: 1\n---\nb: 2\n"))
	if ok {
		t.Error("Parse(two documents) ok, want not ok")
	}
	entries, _ := d.Entries(root, func(Node) { t.Error("root is not a mapping") })
	if len(entries) != 1 || entries[0].Key != "a" {
		t.Errorf("Entries(first document) = %+v; want a", entries)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n", "~\n"} {
		_, root, msgs := parse(t, Options{}, src)
		if !root.IsNull() || msgs != nil {
			t.Errorf("Parse(%q) = kind %v, errors %q; want null and none", src, root.Kind(), msgs)
		}
	}
}

func TestErrorsFormatAndOrder(t *testing.T) {
	es := Errors{
		{File: "f.yaml", Line: 3, Msg: "c"},
		{File: "f.yaml", Msg: "whole file"},
		{File: "f.yaml", Line: 1, Msg: "a"},
		{File: "f.yaml", Line: 3, Msg: "d"},
		{Line: 2, Msg: "no file"},
	}
	want := "f.yaml: whole file\nf.yaml:1: a\nline 2: no file\nf.yaml:3: c\nf.yaml:3: d"
	err := es.Err()
	if err == nil || err.Error() != want {
		t.Errorf("Err() =\n%v\nwant\n%s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Msg != "whole file" {
		t.Errorf("errors.As(*Error) = %+v, want the first error", e)
	}
	if (Errors{}).Err() != nil || Errors(nil).Err() != nil {
		t.Error("Err() of no errors is not nil")
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"health_check", "interval", "listen", "timeout"}
	for in, want := range map[string]string{"helth": "health_check", "intervall": "interval", "Listen": "listen", "zzz": ""} {
		if got := Suggest(in, keys); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	d, root, _ := parse(t, Options{KeyWord: "field"}, "a: 1\ntimout: 2\n")
	entries, _ := d.Entries(root, func(Node) {})
	d.UnknownKey(entries[1], "rule", []string{"timeout", "a"})
	got := d.Errors().Error()
	if want := `f.yaml:2: unknown field "timout" in rule (did you mean "timeout"?)`; got != want {
		t.Errorf("UnknownKey error = %q, want %q", got, want)
	}
	d = NewDecoder("f.yaml", Options{})
	d.UnknownKey(Entry{Key: "zzz", Line: 4}, "", []string{"a"})
	if got, want := d.Errors().Error(), `f.yaml:4: unknown key "zzz"`; got != want {
		t.Errorf("UnknownKey error = %q, want %q", got, want)
	}
}
