package artifact

import (
	"fmt"
	"regexp"
	"strings"
)

// The grammar of an image reference, as the OCI distribution reference
// defines it: an optional registry host[:port], lowercase path components,
// an optional tag, and here a required digest.
const (
	domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domain          = domainComponent + `(?:\.` + domainComponent + `)*(?::[0-9]+)?`
	pathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	imageName       = `(?:` + domain + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
)

var (
	imageNameRE = regexp.MustCompile(`^` + imageName + `$`)
	imageTagRE  = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	sha256RE    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// maxImageName is the longest repository name registries accept.
const maxImageName = 255

// ImageError says why an image reference was refused.
type ImageError struct {
	Ref    string
	Reason string
}

func (e *ImageError) Error() string { return fmt.Sprintf("image %q: %s", e.Ref, e.Reason) }

// CheckImage accepts a container image named by digest,
// NAME[:TAG]@sha256:<64 hex>, and refuses anything else with an
// *ImageError. A tag alone is refused: it can be moved to other bytes, and
// a release is the exact bytes that were tested (build once). A tag before
// the digest is allowed, as registries allow it, and only informs: the
// digest decides what runs.
func CheckImage(ref string) error {
	if ref == "" {
		return &ImageError{ref, "empty"}
	}
	name, digest, hasDigest := strings.Cut(ref, "@")
	if !hasDigest {
		return &ImageError{ref, "names no digest; a tag can be moved to other bytes, and a release must be " +
			"the exact bytes that were tested (build once). Register the image by digest: NAME@sha256:<64 hex digits>, " +
			"as `docker buildx imagetools inspect NAME:TAG` or `crane digest NAME:TAG` prints it"}
	}
	if !sha256RE.MatchString(digest) {
		return &ImageError{ref, fmt.Sprintf("digest %q: want sha256: followed by 64 lowercase hex digits", digest)}
	}
	// A colon after the last slash starts a tag; one before it is a port.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		tag := name[i+1:]
		if !imageTagRE.MatchString(tag) {
			return &ImageError{ref, fmt.Sprintf("tag %q: want letters, digits, '_', '.', '-', at most 128", tag)}
		}
		name = name[:i]
	}
	if len(name) > maxImageName || !imageNameRE.MatchString(name) {
		return &ImageError{ref, fmt.Sprintf("name %q: want an optional registry host[:port]/ then lowercase path "+
			"components (letters, digits, '.', '_', '-') separated by '/', at most %d characters", name, maxImageName)}
	}
	return nil
}
