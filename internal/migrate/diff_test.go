package migrate_test

import (
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/google/go-cmp/cmp"
)

func col(name, typ string) migrate.Column { return migrate.Column{Name: name, Type: typ} }

func items(extra ...migrate.Column) migrate.Table {
	return migrate.Table{Name: "items", Columns: append([]migrate.Column{
		{Name: "id", Type: "integer", NotNull: true},
		col("name", "character varying(50)"),
		col("legacy_note", "text"),
	}, extra...)}
}

func schema(tables ...migrate.Table) *migrate.Schema { return &migrate.Schema{Tables: tables} }

// brief is what a test checks of a breakage.
type brief struct {
	Kind          migrate.BreakKind
	Table, Column string
	To            string
}

func briefs(bs []migrate.Breakage) []brief {
	var out []brief
	for _, b := range bs {
		out = append(out, brief{b.Kind, b.Table, b.Column, b.To})
	}
	return out
}

func TestDiff(t *testing.T) {
	live := schema(items(), migrate.Table{Name: "orders", Columns: []migrate.Column{col("id", "bigint"), col("total", "numeric(10,2)")}},
		migrate.Table{Name: "recent", View: true, Columns: []migrate.Column{col("id", "integer")}})
	orders := func(total string) migrate.Table {
		return migrate.Table{Name: "orders", Columns: []migrate.Column{col("id", "bigint"), col("total", total)}}
	}
	withItems := func(it migrate.Table) *migrate.Schema {
		return schema(it, live.Tables[1], live.Tables[2])
	}
	cases := []struct {
		name   string
		shadow *migrate.Schema
		want   []brief
	}{
		{"unchanged", live, nil},
		{"added table and nullable column", schema(items(col("email", "text")), live.Tables[1], live.Tables[2],
			migrate.Table{Name: "audit", Columns: []migrate.Column{{Name: "id", Type: "bigint", NotNull: true}}}), nil},
		{"new NOT NULL column with default", withItems(items(migrate.Column{Name: "region", Type: "text", NotNull: true, Default: "'eu'::text"})), nil},
		{"new identity column", withItems(items(migrate.Column{Name: "seq", Type: "bigint", NotNull: true, Generated: true})), nil},
		{"new NOT NULL column without default", withItems(items(migrate.Column{Name: "sku", Type: "text", NotNull: true})),
			[]brief{{migrate.NotNullWithoutDefault, "items", "sku", ""}}},
		{"dropped column", withItems(migrate.Table{Name: "items", Columns: items().Columns[:2]}),
			[]brief{{migrate.ColumnGone, "items", "legacy_note", ""}}},
		{"renamed column", withItems(migrate.Table{Name: "items", Columns: append(items().Columns[:2:2], col("note", "text"))}),
			[]brief{{migrate.ColumnRenamed, "items", "legacy_note", "note"}}},
		{"type change", withItems(migrate.Table{Name: "items", Columns: []migrate.Column{
			{Name: "id", Type: "bigint", NotNull: true}, col("name", "character varying(50)"), col("legacy_note", "text")}}),
			[]brief{{migrate.TypeChanged, "items", "id", "bigint"}}},
		{"wider varchar and varchar to text", withItems(migrate.Table{Name: "items", Columns: []migrate.Column{
			{Name: "id", Type: "integer", NotNull: true}, col("name", "text"), col("legacy_note", "text")}}), nil},
		{"narrower varchar", withItems(migrate.Table{Name: "items", Columns: []migrate.Column{
			{Name: "id", Type: "integer", NotNull: true}, col("name", "character varying(20)"), col("legacy_note", "text")}}),
			[]brief{{migrate.TypeChanged, "items", "name", "character varying(20)"}}},
		{"wider numeric", schema(items(), orders("numeric(12,2)"), live.Tables[2]), nil},
		{"unbounded numeric", schema(items(), orders("numeric"), live.Tables[2]), nil},
		{"numeric of another scale", schema(items(), orders("numeric(12,3)"), live.Tables[2]),
			[]brief{{migrate.TypeChanged, "orders", "total", "numeric(12,3)"}}},
		{"narrower numeric", schema(items(), orders("numeric(8,2)"), live.Tables[2]),
			[]brief{{migrate.TypeChanged, "orders", "total", "numeric(8,2)"}}},
		{"dropped table", schema(items(), live.Tables[2]), []brief{{migrate.TableGone, "orders", "", ""}}},
		{"renamed table", schema(items(), live.Tables[2], migrate.Table{Name: "purchases", Columns: live.Tables[1].Columns}),
			[]brief{{migrate.TableRenamed, "orders", "", "purchases"}}},
		{"view replaced by a table", schema(items(), live.Tables[1], migrate.Table{Name: "recent", Columns: live.Tables[2].Columns}),
			[]brief{{migrate.TableGone, "recent", "", ""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := migrate.Diff(live, c.shadow)
			if diff := cmp.Diff(c.want, briefs(got)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			for _, b := range got {
				if !strings.Contains(b.Message, b.Table) || !strings.Contains(b.Message, "live release") {
					t.Errorf("message %q does not name the table and say what breaks for the live release", b.Message)
				}
			}
		})
	}
}

func TestSchemaChanges(t *testing.T) {
	live := schema(items())
	shadow := schema(items(col("email", "text")), migrate.Table{Name: "audit",
		Indexes: []migrate.Index{{Name: "audit_idx"}}})
	shadow.Tables[0].Indexes = []migrate.Index{{Name: "items_email_idx"}, {Name: "items_name_idx"}}
	if got, want := live.Changes(shadow), "1 table, 1 column, 2 indexes added"; got != want {
		t.Errorf("Changes = %q, want %q", got, want)
	}
	if got := live.Changes(live); got != "nothing added" {
		t.Errorf("Changes of a schema with itself = %q, want nothing added", got)
	}
}

// FuzzDiff builds two schemas from the input and checks the diff's
// invariants: a schema never breaks itself, adding never breaks, and every
// breakage is about something the live schema has.
func FuzzDiff(f *testing.F) {
	f.Add([]byte("items:id integer,name text;orders:id bigint"), []byte("items:id bigint;audit:id integer!"))
	f.Add([]byte("v*recent:id integer"), []byte("recent:id integer"))
	f.Add([]byte(""), []byte("a:b c!"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		live, shadow := fuzzSchema(string(a)), fuzzSchema(string(b))
		if bs := migrate.Diff(live, live); len(bs) != 0 {
			t.Fatalf("Diff(s, s) = %v, want nothing", bs)
		}
		if bs := migrate.Diff(schema(), shadow); len(bs) != 0 {
			t.Fatalf("Diff(empty, s) = %v, want nothing: adding never breaks", bs)
		}
		for _, br := range migrate.Diff(live, shadow) {
			tb := live.Table(br.Table)
			if tb == nil {
				t.Fatalf("breakage %v names a table the live schema does not have", br)
			}
			if br.Kind == migrate.ColumnGone || br.Kind == migrate.TypeChanged {
				if tb.Column(br.Column) == nil {
					t.Fatalf("breakage %v names a column the live table does not have", br)
				}
			}
		}
	})
}

// fuzzSchema reads "table:col type,col type;…", a leading "v*" making a
// view and a trailing "!" on a column making it NOT NULL.
func fuzzSchema(s string) *migrate.Schema {
	out := &migrate.Schema{}
	for _, part := range strings.Split(s, ";") {
		name, cols, _ := strings.Cut(part, ":")
		tb := migrate.Table{Name: name}
		if rest, ok := strings.CutPrefix(name, "v*"); ok {
			tb.Name, tb.View = rest, true
		}
		if out.Table(tb.Name) != nil {
			continue
		}
		for _, c := range strings.Split(cols, ",") {
			cname, typ, _ := strings.Cut(c, " ")
			notNull := strings.HasSuffix(typ, "!")
			if tb.Column(cname) == nil {
				tb.Columns = append(tb.Columns, migrate.Column{Name: cname, Type: strings.TrimSuffix(typ, "!"), NotNull: notNull})
			}
		}
		out.Tables = append(out.Tables, tb)
	}
	return out
}

// A new constraint, unique index or NOT NULL on a table the live release
// writes breaks nothing it reads, so Diff is silent; Risks lists it.
func TestRisks(t *testing.T) {
	live := schema(items(), migrate.Table{Name: "recent", View: true, Columns: []migrate.Column{col("id", "integer")}})
	check := migrate.Constraint{Name: "items_name_required", Kind: migrate.Check, Def: "CHECK ((name IS NOT NULL)) NOT VALID"}
	after := items()
	after.Constraints = append(after.Constraints, check)
	after.Indexes = append(after.Indexes, migrate.Index{Name: "items_legacy_key", Unique: true,
		Def: "CREATE UNIQUE INDEX items_legacy_key ON public.items USING btree (legacy_note)"})
	after.Columns[1].NotNull = true
	shadow := schema(after, live.Tables[1], migrate.Table{Name: "fresh", Constraints: []migrate.Constraint{check}})
	if bs := migrate.Diff(live, shadow); len(bs) != 0 {
		t.Errorf("Diff = %v, want nothing that breaks reads", bs)
	}
	want := []migrate.Risk{
		{Table: "items", What: "constraint items_name_required CHECK ((name IS NOT NULL)) NOT VALID"},
		{Table: "items", What: "CREATE UNIQUE INDEX items_legacy_key ON public.items USING btree (legacy_note)"},
		{Table: "items", What: "column name NOT NULL"},
	}
	if diff := cmp.Diff(want, migrate.Risks(live, shadow)); diff != "" {
		t.Errorf("Risks (-want +got):\n%s", diff)
	}
	if got := migrate.Risks(live, live); len(got) != 0 {
		t.Errorf("Risks of an unchanged schema = %v, want none", got)
	}

	// Validating a NOT VALID constraint, or a constraint that only covers
	// a column the live release does not know and lets its NULLs through,
	// narrows nothing it writes.
	before := items()
	before.Constraints = []migrate.Constraint{check}
	validated := items(col("discount", "numeric"))
	validated.Constraints = []migrate.Constraint{{Name: check.Name, Kind: migrate.Check, Def: "CHECK ((name IS NOT NULL))"},
		{Name: "items_discount_positive", Kind: migrate.Check, Def: "CHECK ((discount >= (0)::numeric)) NOT VALID"}}
	validated.Indexes = []migrate.Index{{Name: "items_discount_key", Unique: true, Def: "CREATE UNIQUE INDEX items_discount_key ON public.items USING btree (discount)"}}
	if got := migrate.Risks(schema(before), schema(validated)); len(got) != 0 {
		t.Errorf("Risks(validation, constraints on a new column) = %v, want none", got)
	}
	validated.Constraints[1].Def = "CHECK ((discount IS NOT NULL)) NOT VALID"
	if got := migrate.Risks(schema(before), schema(validated)); len(got) != 1 {
		t.Errorf("Risks(CHECK (new column IS NOT NULL)) = %v, want it: the live release leaves the column NULL", got)
	}
}
