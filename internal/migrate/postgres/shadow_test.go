package postgres

import "testing"

func TestWithDatabase(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://app:s3cret@db.internal:5432/shop?sslmode=require", "postgres://app:s3cret@db.internal:5432/bascule_shadow_1?sslmode=require"},
		{"postgresql://db.internal/shop", "postgresql://db.internal/bascule_shadow_1"},
		{"host=db.internal dbname=shop user=app", "host=db.internal dbname=shop user=app dbname=bascule_shadow_1"},
	}
	for _, c := range cases {
		got, err := withDatabase(c.in, "bascule_shadow_1")
		if err != nil || got != c.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
