package router

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTableSaveLoad: a saved table reads back as it was, split included;
// a missing file is the empty table with blue live; a broken one is an
// error naming the file.
func TestTableSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routing.json")
	empty, err := LoadTable(path)
	if err != nil || empty.Live != Blue || len(empty.Upstreams) != 0 || empty.Split != nil {
		t.Fatalf("LoadTable(missing) = %+v, %v; want blue live, no upstreams", empty, err)
	}
	want := Table{Live: Green, Upstreams: map[Color]string{Blue: "127.0.0.1:1", Green: "127.0.0.1:2"},
		Split: &Split{To: Blue, Weight: 10_000, Salt: "deployment-3"}}
	if err := SaveTable(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadTable(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LoadTable after SaveTable = %+v, %v; want %+v", got, err, want)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files beside the table, want none: the temporary file is renamed", len(entries)-1)
	}
	for _, bad := range []string{`{"live":`, `{"live":"purple"}`} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTable(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadTable(%s) = %v, want an error naming the file", bad, err)
		}
	}
}

// TestCheckTable: CheckTable refuses what Install would not serve as
// given, and accepts what it would.
func TestCheckTable(t *testing.T) {
	r := New(Options{Bucket: func(string, string, string) uint32 { return 0 }})
	ups := map[Color]string{Blue: "127.0.0.1:1", Green: "127.0.0.1:2"}
	for _, tc := range []struct {
		name string
		t    Table
		ok   bool
	}{
		{"both colors, blue live", Table{Live: Blue, Upstreams: ups}, true},
		{"a split to the idle color", Table{Live: Blue, Upstreams: ups, Split: &Split{To: Green, Weight: 1}}, true},
		{"an unknown live color", Table{Live: "purple", Upstreams: ups}, false},
		{"an unknown upstream color", Table{Live: Blue, Upstreams: map[Color]string{"purple": "127.0.0.1:3"}}, false},
		{"a split to the live color", Table{Live: Blue, Upstreams: ups, Split: &Split{To: Blue, Weight: 1}}, false},
		{"a split to a color without upstream", Table{Live: Blue, Upstreams: map[Color]string{Blue: "127.0.0.1:1"}, Split: &Split{To: Green, Weight: 1}}, false},
		{"a split beyond every bucket", Table{Live: Blue, Upstreams: ups, Split: &Split{To: Green, Weight: Buckets + 1}}, false},
	} {
		if err := r.CheckTable(tc.t); (err == nil) != tc.ok {
			t.Errorf("CheckTable(%s) = %v, want ok %t", tc.name, err, tc.ok)
		}
	}
	if err := New(Options{}).CheckTable(Table{Live: Blue, Upstreams: ups, Split: &Split{To: Green, Weight: 1}}); err == nil {
		t.Errorf("CheckTable(a split) on a router without Options.Bucket = nil, want an error")
	}
}
