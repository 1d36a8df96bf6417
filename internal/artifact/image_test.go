package artifact

import (
	"errors"
	"strings"
	"testing"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCheckImage(t *testing.T) {
	good := []string{
		"registry.example.com/shop@sha256:" + hex64,
		"shop@sha256:" + hex64,
		"localhost:5000/team/shop@sha256:" + hex64,
		"registry.example.com/team/shop-web_2@sha256:" + hex64,
		"registry.example.com/shop:v3@sha256:" + hex64, // the tag only informs
	}
	for _, ref := range good {
		if err := CheckImage(ref); err != nil {
			t.Errorf("CheckImage(%q) = %v, want accepted", ref, err)
		}
	}
	bad := []struct{ ref, want string }{
		{"", "empty"},
		{"registry.example.com/shop:v3", "names no digest"},
		{"registry.example.com/shop", "names no digest"},
		{"registry.example.com/shop@sha256:" + hex64[:63], "64 lowercase hex"},
		{"registry.example.com/shop@sha256:" + strings.ToUpper(hex64), "64 lowercase hex"},
		{"registry.example.com/shop@sha512:" + hex64 + hex64, "want sha256:"},
		{"registry.example.com/Shop@sha256:" + hex64, "name"},
		{"registry.example.com//shop@sha256:" + hex64, "name"},
		{"shop:-v3@sha256:" + hex64, "tag"},
		{"shop@sha256:" + hex64 + "@sha256:" + hex64, "digest"},
	}
	for _, tc := range bad {
		err := CheckImage(tc.ref)
		var ie *ImageError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckImage(%q) = %v, want an *ImageError saying %q", tc.ref, err, tc.want)
		}
	}
}

func FuzzCheckImage(f *testing.F) {
	f.Add("registry.example.com/shop@sha256:" + hex64)
	f.Add("localhost:5000/shop:v1@sha256:" + hex64)
	f.Fuzz(func(t *testing.T, ref string) {
		if CheckImage(ref) != nil {
			return
		}
		// Whatever is accepted names a sha256 digest at its end and has no
		// whitespace a shell or a manifest would split on.
		if !sha256RE.MatchString(ref[strings.LastIndexByte(ref, '@')+1:]) || strings.ContainsAny(ref, " \t\n") {
			t.Errorf("CheckImage accepted %q", ref)
		}
	})
}
