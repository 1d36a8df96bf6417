package feature

import (
	"strings"
)

// semver is a parsed semantic version. pre is the pre-release part (after "-"),
// a substring of the input, so parsing allocates nothing.
type semver struct {
	major, minor, patch uint64
	pre                 string
}

// parseSemver parses "1.2.3", "v1.2.3", "1.2.3-rc.1+build.5". Missing minor
// or patch numbers count as 0 ("v2" is 2.0.0), because app versions in the wild
// are often written short. Build metadata is ignored, as semver.org says.
func parseSemver(s string) (semver, bool) {
	var v semver
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		v.pre = s[i+1:]
		s = s[:i]
		if !validPrerelease(v.pre) {
			return semver{}, false
		}
	}
	nums := [3]*uint64{&v.major, &v.minor, &v.patch}
	for i := 0; i < 3; i++ {
		end := strings.IndexByte(s, '.')
		if end < 0 {
			end = len(s)
		}
		n, ok := parseUint(s[:end])
		if !ok {
			return semver{}, false
		}
		*nums[i] = n
		if end == len(s) {
			return v, true
		}
		s = s[end+1:]
	}
	return semver{}, false // a fourth component
}

// parseUint parses a non-empty string of decimal digits.
func parseUint(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// validPrerelease checks dot-separated, non-empty [0-9A-Za-z-] identifiers,
// scanning in place because it runs on the evaluation path.
func validPrerelease(pre string) bool {
	empty := true
	for i := 0; i < len(pre); i++ {
		c := pre[i]
		switch {
		case c == '.':
			if empty {
				return false
			}
			empty = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
			empty = false
		default:
			return false
		}
	}
	return !empty
}

// compare returns -1, 0 or +1 as v is lower than, equal to or higher than w.
func (v semver) compare(w semver) int {
	switch {
	case v.major != w.major:
		return cmpUint(v.major, w.major)
	case v.minor != w.minor:
		return cmpUint(v.minor, w.minor)
	case v.patch != w.patch:
		return cmpUint(v.patch, w.patch)
	}
	// A release is higher than any of its pre-releases.
	switch {
	case v.pre == w.pre:
		return 0
	case v.pre == "":
		return 1
	case w.pre == "":
		return -1
	}
	return comparePrerelease(v.pre, w.pre)
}

// comparePrerelease walks both identifier lists without splitting them (which
// would allocate on the evaluation path).
func comparePrerelease(a, b string) int {
	for a != "" && b != "" {
		var x, y string
		x, a = nextIdent(a)
		y, b = nextIdent(b)
		if c := compareIdent(x, y); c != 0 {
			return c
		}
	}
	// A longer list wins when all shared identifiers are equal.
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func nextIdent(s string) (ident, rest string) {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// compareIdent orders numeric identifiers numerically, below alphanumeric
// ones, which are ordered in ASCII order.
func compareIdent(x, y string) int {
	nx, xnum := parseUint(x)
	ny, ynum := parseUint(y)
	switch {
	case xnum && ynum:
		return cmpUint(nx, ny)
	case xnum:
		return -1
	case ynum:
		return 1
	}
	return strings.Compare(x, y)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
