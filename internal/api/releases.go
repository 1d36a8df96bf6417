package api

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$`)

func (h *Handler) listReleases(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	list, err := h.opts.Store.ListReleases(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Release{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"releases": list})
	return nil
}

func (h *Handler) getRelease(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	rel, err := h.opts.Store.Release(r.Context(), r.PathValue("version"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rel)
	return nil
}

// addRelease registers an artifact streamed as the request body:
// POST /api/v1/releases?version=v2&filename=app.tar.gz, optionally with
// X-Bascule-Digest: sha256:… to have the server verify the bytes. Releases
// are immutable: the same version with the same bytes answers 200 (CI may
// retry), with other bytes 409. An archive that would not unpack under the
// artifact package's rules is refused with 422, naming the entry.
//
// With image=NAME@sha256:<hex> the release is that container image, named
// by digest (a tag alone is refused: 400 invalid_image), and the body is
// the archive of its migrations, stored as any release's artifact so that
// the same gates run; then the same version answers 200 only with the same
// image and the same migrations.
func (h *Handler) addRelease(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	version := q.Get("version")
	if !versionRE.MatchString(version) {
		return errorf(http.StatusBadRequest, "bad_request", "version %q: want 1-63 letters, digits, '.', '_', '+', '-', starting with a letter or digit", version)
	}
	filename := q.Get("filename")
	if filename == "" {
		filename = "app"
	}
	image := q.Get("image")
	if q.Has("image") {
		if err := artifact.CheckImage(image); err != nil {
			h.audit(r, p, "release.add", version, "refused", err.Error())
			return errorf(http.StatusBadRequest, "invalid_image", "%v", err)
		}
	}
	body := bufio.NewReaderSize(r.Body, 64<<10)
	head, _ := body.Peek(512)
	format := artifact.DetectFormat(head)
	if image != "" && format == artifact.FormatFile {
		return errorf(http.StatusBadRequest, "bad_request",
			"a release that is an image uploads its migrations as a tar or tar.gz archive with a migrations/ directory "+
				"(bascule release add VERSION --image REF --migrations DIR packs one)")
	}
	// The archive is checked now, against the rules it will be unpacked
	// under, so that CI learns at once that a release cannot be deployed.
	blob, err := h.opts.Artifacts.PutRelease(r.Context(), body, r.Header.Get("X-Bascule-Digest"), format)
	var unsafe *artifact.UnsafeEntryError
	if errors.As(err, &unsafe) || errors.Is(err, artifact.ErrInvalidArchive) {
		h.audit(r, p, "release.add", version, "refused", err.Error())
	}
	if err != nil {
		return err
	}
	rel := store.Release{Version: version, Digest: blob.Digest, Size: blob.Size, Format: format,
		Filename: filename, Notes: q.Get("notes"), CreatedBy: p.Name, CreatedAt: time.Now().UTC(), Image: image}
	err = h.opts.Store.CreateRelease(r.Context(), rel)
	if errors.Is(err, store.ErrConflict) {
		old, gerr := h.opts.Store.Release(r.Context(), version)
		if gerr != nil {
			return gerr
		}
		if old.Digest == rel.Digest && old.Image == rel.Image && old.Collected() {
			// The bytes just stored go with the next collection.
			h.audit(r, p, "release.add", version, "refused", "artifact collected")
			return errorf(http.StatusConflict, "release_collected",
				"release %s is registered and its artifact was collected; a version is registered once: "+
					"add the same files under a new version (bascule release add %s-again PATH)", version, version)
		}
		if old.Digest == rel.Digest && old.Image == rel.Image {
			writeJSON(w, http.StatusOK, old)
			return nil
		}
		if old.Image != rel.Image {
			h.audit(r, p, "release.add", version, "refused", "different image: "+orNone(rel.Image))
			return errorf(http.StatusConflict, "release_exists",
				"release %s is already registered with image %s; this one names %s. Releases are immutable: register a new version",
				version, orNone(old.Image), orNone(rel.Image))
		}
		h.audit(r, p, "release.add", version, "refused", "different bytes: "+rel.Digest)
		return errorf(http.StatusConflict, "release_exists",
			"release %s is already registered with digest %s; these bytes hash to %s. Releases are immutable: register a new version",
			version, old.Digest, rel.Digest)
	}
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("%s, %d bytes", rel.Digest, rel.Size)
	if rel.Image != "" {
		detail = fmt.Sprintf("image %s, migrations %s", rel.Image, rel.Digest)
	}
	h.audit(r, p, "release.add", version, "ok", detail)
	writeJSON(w, http.StatusCreated, rel)
	return nil
}

// pruneReleases serves POST /api/v1/releases/prune: the leader collects
// now the artifacts the retention rule lets go (artifacts.keep) and
// answers what it deleted; with dry_run=true it deletes nothing and
// answers what it would.
func (h *Handler) pruneReleases(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	dry, err := queryBool(r, "dry_run")
	if err != nil {
		return err
	}
	c, err := h.opts.Deploy.Prune(r.Context(), p.Name, dry)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// orNone names a release's image, or says it has none.
func orNone(image string) string {
	if image == "" {
		return "none (an artifact release)"
	}
	return image
}

func (h *Handler) audit(r *http.Request, p auth.Principal, action, target, outcome, detail string) {
	e := &store.AuditEntry{At: time.Now().UTC(), Actor: p.Name, Action: action, Target: target, Outcome: outcome, Detail: detail}
	if err := h.opts.Store.AppendAudit(r.Context(), e); err != nil {
		h.log.Error("append audit", "action", action, "err", err)
	}
}
