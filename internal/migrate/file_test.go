package migrate

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func sqlFile(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestLoadDirSortsNumerically(t *testing.T) {
	fsys := fstest.MapFS{
		"db/expand/10_ten.sql":      sqlFile("SELECT 10;"),
		"db/expand/2_two.sql":       sqlFile("SELECT 2;"),
		"db/expand/001_one.sql":     sqlFile("SELECT 1;"),
		"db/expand/README.md":       sqlFile("not a migration"),
		"db/expand/sub/003_x.sql":   sqlFile("SELECT 'in a subfolder';"),
		"db/contract/001_drop.sql":  sqlFile("DROP TABLE t;"),
		"db/contract/notes.sql.bak": sqlFile("ignored"),
	}
	set, err := LoadDir(fsys, "db")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range set.Files() {
		got = append(got, f.Path)
	}
	want := []string{"expand/001_one.sql", "expand/2_two.sql", "expand/10_ten.sql", "contract/001_drop.sql"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadDir order (-want +got):\n%s", diff)
	}
}

func TestLoadDirMissingPhases(t *testing.T) {
	set, err := LoadDir(fstest.MapFS{"m/expand/001_a.sql": sqlFile("SELECT 1;")}, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Expand) != 1 || len(set.Contract) != 0 {
		t.Errorf("LoadDir without contract/ = %d expand, %d contract files; want 1, 0", len(set.Expand), len(set.Contract))
	}
	set, err = LoadDir(fstest.MapFS{}, "nothing")
	if err != nil || len(set.Files()) != 0 {
		t.Errorf("LoadDir of a missing folder = %v, %v; want an empty set", set, err)
	}
}

func TestLoadDirErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []string
	}{
		{"duplicate version", fstest.MapFS{
			"expand/001_a.sql": sqlFile("SELECT 1;"),
			"expand/1_b.sql":   sqlFile("SELECT 2;"),
		}, []string{"expand/001_a.sql", "expand/1_b.sql", "same version 1"}},
		{"bad name", fstest.MapFS{"contract/drop_it.sql": sqlFile("SELECT 1;")}, []string{"contract/drop_it.sql", "NNN_name.sql"}},
		{"bad goose", fstest.MapFS{"expand/003_f.sql": sqlFile("SELECT 1;\n-- +goose StatementEnd\n")}, []string{"expand/003_f.sql:2:", "StatementEnd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDir(tt.fsys, ".")
			if err == nil {
				t.Fatal("LoadDir = nil error, want one")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadDir error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadDirSameVersionInBothPhases(t *testing.T) {
	_, err := LoadDir(fstest.MapFS{
		"expand/001_a.sql":   sqlFile("SELECT 1;"),
		"contract/001_a.sql": sqlFile("SELECT 1;"),
	}, ".")
	if err != nil {
		t.Errorf("LoadDir with 001 in expand and contract = %v, want nil: each phase numbers its own files", err)
	}
}
