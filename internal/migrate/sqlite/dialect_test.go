package sqlite

import "testing"

func TestPathAndSameForm(t *testing.T) {
	cases := []struct{ url, path, shadow string }{
		{"/var/lib/app/app.db", "/var/lib/app/app.db", "/tmp/s.db"},
		{"file:/var/lib/app/app.db?mode=rwc", "/var/lib/app/app.db", "file:/tmp/s.db"},
		{"sqlite:///var/lib/app/app.db", "/var/lib/app/app.db", "sqlite:///tmp/s.db"},
		{"sqlite:app.db", "app.db", "sqlite:/tmp/s.db"},
	}
	for _, c := range cases {
		if got := Path(c.url); got != c.path {
			t.Errorf("Path(%q) = %q, want %q", c.url, got, c.path)
		}
		if got := sameForm(c.url, "/tmp/s.db"); got != c.shadow {
			t.Errorf("sameForm(%q) = %q, want %q", c.url, got, c.shadow)
		}
	}
}
