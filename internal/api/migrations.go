package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/store"
)

// Migrations is what the API needs of the app database's migrations
// (*migrate.Migrator provides it).
type Migrations interface {
	// Driver is the database's driver name.
	Driver() string
	// Applied reads the migration history from the app's database.
	Applied(ctx context.Context) ([]migrate.Record, error)
	// Lint lints set as the deployment gates would now: the files the
	// database has not applied yet.
	Lint(ctx context.Context, set *migrate.Set) (migrate.Report, error)
}

// listMigrations serves GET /api/v1/migrations: the applied files per
// phase with their checksums, and the newest release's pending files and
// drift. Without a database it answers an empty status with no driver.
func (h *Handler) listMigrations(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	if h.opts.Migrations == nil {
		writeJSON(w, http.StatusOK, migrate.NewStatus("", nil, "", nil))
		return nil
	}
	applied, err := h.opts.Migrations.Applied(r.Context())
	if err != nil {
		return errorf(http.StatusBadGateway, "database_unavailable", "read the migration history from the app's database: %v", err)
	}
	rel, set, err := h.newestMigrations(r.Context())
	st := migrate.NewStatus(h.opts.Migrations.Driver(), applied, rel, set)
	if err != nil {
		st.ReleaseError = err.Error()
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// newestMigrations reads the migrations of the newest registered release;
// rel is "" when there is none.
func (h *Handler) newestMigrations(ctx context.Context) (rel string, set *migrate.Set, err error) {
	list, err := h.opts.Store.ListReleases(ctx)
	if err != nil || len(list) == 0 {
		return "", nil, err
	}
	dir, err := h.releaseDir(ctx, list[0])
	if err != nil {
		return list[0].Version, nil, err
	}
	set, _, err = migrate.LoadRelease(dir)
	return list[0].Version, set, err
}

// releaseDir unpacks rel.
func (h *Handler) releaseDir(ctx context.Context, rel store.Release) (string, error) {
	if h.opts.Artifacts == nil {
		return "", errors.New("no artifact store")
	}
	return h.opts.Artifacts.Unpack(ctx, rel.Digest, rel.Format, rel.Filename)
}

// lintRelease serves POST /api/v1/releases/{version}/lint: the lint of the
// release's migrations, as `bascule migrate lint` prints it. With a
// database, only the files it has not applied are linted, as the gates
// would; without, the whole folder. A release whose files cannot be read
// answers 422 naming the file.
func (h *Handler) lintRelease(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	rel, err := h.opts.Store.Release(r.Context(), r.PathValue("version"))
	if err != nil {
		return err
	}
	if rel.Collected() {
		return errorf(http.StatusGone, "artifact_collected", "the artifact of %s was collected: its migrations are gone with it", rel.Version)
	}
	dir, err := h.releaseDir(r.Context(), rel)
	if err != nil {
		return err
	}
	set, found, err := migrate.LoadRelease(dir)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid_migrations", "%v", err)
	}
	rep := migrate.Lint(set)
	if h.opts.Migrations != nil {
		if rep, err = h.opts.Migrations.Lint(r.Context(), set); err != nil {
			return errorf(http.StatusBadGateway, "database_unavailable", "read the migration history from the app's database: %v", err)
		}
	}
	writeJSON(w, http.StatusOK, migrate.NewLintResult(rel.Version, found, rep))
	return nil
}
