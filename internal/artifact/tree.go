package artifact

import (
	"archive/tar"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// What a release archive may hold. Each entry is judged against the tree the
// entries before it built, before anything is written, so that the same
// rules refuse an archive when it is registered and, for a release
// registered before these rules, when it is unpacked:
//
//   - Names are relative and have no ".." component; an entry is never
//     written through a symlink or under a file: every directory on its way
//     is a directory of the archive (or implied by its names).
//   - A name is created once. A second entry for it is refused, except a
//     directory entry for a directory that exists, which changes nothing.
//   - A symlink's target is relative and, resolved from the link's
//     directory through the links already in the tree, stays inside the
//     release directory at every step. A component that does not exist yet
//     may not be followed by "..": a later entry could make it a link.
//   - A hard link names an earlier regular file of the archive.
//   - Character and block devices, fifos and every other type are refused.
//     A pax global header (git archive writes one) carries no file and is
//     skipped.
//   - The declared sizes of the regular files and the number of entries are
//     bounded (Store.MaxUnpackedSize, Store.MaxEntries), checked on each
//     header before its data is read.

// UnsafeEntryError is returned when an archive holds an entry bascule will
// not unpack. The whole archive is refused and nothing of it is kept.
type UnsafeEntryError struct {
	Entry  string // the entry's name as the archive spells it
	Reason string
}

func (e *UnsafeEntryError) Error() string {
	return fmt.Sprintf("archive entry %q %s", e.Entry, e.Reason)
}

// ErrInvalidArchive is returned when an artifact detected as a tar or a
// tar.gz cannot be read as one (truncated, corrupt).
var ErrInvalidArchive = errors.New("invalid archive")

// Linux's limits: a longer name cannot be created, so it is refused when
// the archive is registered rather than when it is deployed.
const (
	maxComponent = 255  // NAME_MAX
	maxPath      = 4095 // PATH_MAX without the NUL
	maxLinks     = 40   // MAXSYMLINKS: links followed resolving one path
	// maxSteps bounds the components walked resolving one symlink target,
	// so that an archive of long, chained targets cannot make checking it
	// quadratic. Real targets ("../lib/app.so") take a handful.
	maxSteps = 1024
)

type kind uint8

const (
	dirNode kind = iota
	fileNode
	linkNode
)

type node struct {
	kind     kind
	target   string           // a symlink's target
	children map[string]*node // a directory's entries
}

// limits bound one unpacked release.
type limits struct {
	size    int64 // bytes of regular files
	entries int   // entries, counting the directories their names imply
}

// tree is the release directory as the entries so far have built it. It
// holds one node per name, so its memory is bounded by limits.entries.
type tree struct {
	root    node
	entries int
	size    int64
	lim     limits
}

// entry is what an admitted header does.
type entry struct {
	name string // clean, slash-separated, relative to the release directory
	link string // a hard link's target, clean likewise
	skip bool   // nothing to create
}

func newTree(lim limits) *tree {
	return &tree{root: node{kind: dirNode, children: map[string]*node{}}, lim: lim}
}

// admit checks h against the rules and records it in the tree.
func (t *tree) admit(h *tar.Header) (entry, error) {
	e, reason := t.place(h)
	if reason != "" {
		return entry{}, &UnsafeEntryError{Entry: h.Name, Reason: reason}
	}
	return e, nil
}

// place finds where h goes and adds it there; reason tells why it may not.
func (t *tree) place(h *tar.Header) (e entry, reason string) {
	if reason := t.count(); reason != "" {
		return e, reason
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return entry{skip: true}, ""
	}
	if reason := typeReason(h.Typeflag); reason != "" {
		return e, reason
	}
	parts, reason := split(h.Name)
	switch {
	case reason != "":
		return e, reason
	case len(parts) == 0 && h.Typeflag == tar.TypeDir:
		return entry{skip: true}, "" // "./": the release directory itself
	case len(parts) == 0:
		return e, "names the release directory itself"
	}
	dirs, reason := t.parents(parts)
	if reason != "" {
		return e, reason
	}
	e.name = strings.Join(parts, "/")
	last := parts[len(parts)-1]
	if old := dirs[len(dirs)-1].children[last]; old != nil {
		if h.Typeflag == tar.TypeDir && old.kind == dirNode {
			e.skip = true
			return e, ""
		}
		return e, "is in the archive twice: a later entry may not replace an earlier one"
	}
	e.link, reason = t.add(h, dirs, last)
	return e, reason
}

// add makes the node for h as last in the directory that ends dirs. It
// returns a hard link's clean target.
func (t *tree) add(h *tar.Header, dirs []*node, last string) (link, reason string) {
	n := &node{kind: fileNode}
	switch h.Typeflag {
	case tar.TypeDir:
		n.kind, n.children = dirNode, map[string]*node{}
	case tar.TypeSymlink:
		// In the tree before its target is resolved, so that a loop
		// through the link itself is seen.
		n.kind, n.target = linkNode, h.Linkname
		dirs[len(dirs)-1].children[last] = n
		if reason := checkTarget(dirs, h.Linkname); reason != "" {
			return "", fmt.Sprintf("is a symlink to %q: %s", h.Linkname, reason)
		}
	case tar.TypeLink:
		var ok bool
		if link, ok = t.regularFile(h.Linkname); !ok {
			return "", fmt.Sprintf("is a hard link to %q, which is not an earlier regular file of the archive", h.Linkname)
		}
	default: // a regular file, sparse or not
		if h.Size < 0 || h.Size > t.lim.size-t.size {
			return "", fmt.Sprintf("declares %d bytes, which would take the release over its limit of %d bytes unpacked", h.Size, t.lim.size)
		}
		t.size += h.Size
	}
	dirs[len(dirs)-1].children[last] = n
	return link, ""
}

// count counts one entry against the limit.
func (t *tree) count() string {
	if t.entries >= t.lim.entries {
		return fmt.Sprintf("is over the limit of %d entries for a release", t.lim.entries)
	}
	t.entries++
	return ""
}

func typeReason(flag byte) string {
	switch flag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		return ""
	case tar.TypeChar:
		return "is a character device; a release may hold only files, directories and links"
	case tar.TypeBlock:
		return "is a block device; a release may hold only files, directories and links"
	case tar.TypeFifo:
		return "is a fifo; a release may hold only files, directories and links"
	}
	return fmt.Sprintf("has type %q, which bascule does not unpack; a release may hold only files, directories and links", flag)
}

// split turns an entry name into its components, dropping "." and empty
// ones ("./bin//app" is bin, app). An absolute name or one with ".." is
// refused rather than rewritten: an archive that has them was not made
// from a release directory.
func split(name string) ([]string, string) {
	if strings.HasPrefix(name, "/") {
		return nil, "has an absolute name"
	}
	if len(name) > maxPath {
		return nil, fmt.Sprintf("has a name over %d bytes", maxPath)
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch {
		case p == "" || p == ".":
		case p == "..":
			return nil, `has ".." in its name, which could leave the release directory`
		case len(p) > maxComponent:
			return nil, fmt.Sprintf("has a name component over %d bytes", maxComponent)
		default:
			parts = append(parts, p)
		}
	}
	return parts, ""
}

// parents returns the directories from the root down to the one that
// holds parts' last component, adding the directories the name implies. It
// refuses a way through a symlink or a file: entries are never written
// through a link, so what an entry creates is where its name says.
func (t *tree) parents(parts []string) ([]*node, string) {
	dir := &t.root
	dirs := []*node{dir}
	for i, p := range parts[:len(parts)-1] {
		next := dir.children[p]
		if next == nil {
			if reason := t.count(); reason != "" {
				return nil, reason
			}
			next = &node{kind: dirNode, children: map[string]*node{}}
			dir.children[p] = next
		}
		switch next.kind {
		case linkNode:
			return nil, fmt.Sprintf("is under %q, a symlink: entries are never written through a symlink", strings.Join(parts[:i+1], "/"))
		case fileNode:
			return nil, fmt.Sprintf("is under %q, which is not a directory", strings.Join(parts[:i+1], "/"))
		}
		dir = next
		dirs = append(dirs, dir)
	}
	return dirs, ""
}

// regularFile looks name up as a regular file of the tree, without going
// through links, and returns its clean name.
func (t *tree) regularFile(name string) (string, bool) {
	parts, reason := split(name)
	if reason != "" || len(parts) == 0 {
		return "", false
	}
	n := &t.root
	for _, p := range parts {
		if n.kind != dirNode {
			return "", false
		}
		if n = n.children[p]; n == nil {
			return "", false
		}
	}
	return strings.Join(parts, "/"), n.kind == fileNode
}

// checkTarget resolves a symlink target from the link's directory, the
// last of dirs (the directories from the root down), the way the kernel
// would, through the links in the tree, and tells why it could leave the
// release directory ("" if it cannot). Where resolution reaches a name that
// does not exist yet (or a file), it stops: the rest descends from there if
// it has no "..", and then stays inside whatever later entries create,
// since they obey these rules too.
func checkTarget(dirs []*node, target string) string {
	switch {
	case target == "":
		return "an empty target"
	case strings.HasPrefix(target, "/"):
		return "an absolute target leaves the release directory"
	case len(target) > maxPath:
		return fmt.Sprintf("a target over %d bytes", maxPath)
	}
	stack := append([]*node(nil), dirs...)
	pending := strings.Split(target, "/")
	for links, steps := 0, 0; len(pending) > 0; steps++ {
		if steps == maxSteps {
			return fmt.Sprintf("resolving it takes over %d steps", maxSteps)
		}
		p := pending[0]
		pending = pending[1:]
		switch {
		case p == "" || p == ".":
			continue
		case p == ".." && len(stack) == 1:
			return "it resolves outside the release directory"
		case p == "..":
			stack = stack[:len(stack)-1]
			continue
		}
		switch next := stack[len(stack)-1].children[p]; {
		case next == nil || next.kind == fileNode:
			if slices.Contains(pending, "..") {
				return fmt.Sprintf("it goes up with \"..\" after %q, which is not a directory of the archive (yet): where that leads depends on later entries", p)
			}
			return ""
		case next.kind == dirNode:
			stack = append(stack, next)
		case links == maxLinks:
			return "it goes through too many levels of symlinks"
		default:
			links++
			pending = append(strings.Split(next.target, "/"), pending...)
		}
	}
	return ""
}
