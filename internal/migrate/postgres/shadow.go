package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/migrate"
)

// shadowPrefix starts the name of every shadow database, so that shadows
// a crashed bascule left behind can be recognised and dropped.
const shadowPrefix = "bascule_shadow_"

// staleAfter is the age past which a shadow database is an orphan: a
// rehearsal takes seconds.
const staleAfter = time.Hour

// Shadow creates a scratch database on the production server (or on the
// server of opts.At) and recreates the production schema in it.
//
// Why not the obvious ways: CREATE DATABASE … TEMPLATE production needs
// production to have no other connection, which it always has; pg_dump
// --schema-only is not guaranteed to be installed next to bascule, nor to
// match the server's version; replaying the history of applied files
// misses everything done outside bascule (the schema before adoption,
// hot fixes, a user's own migration tool). So the schema is rebuilt from
// pg_catalog, with the server's own deparsers (pg_get_indexdef,
// pg_get_constraintdef, pg_get_viewdef, pg_get_functiondef, format_type,
// pg_get_expr): the same catalog Inspect reads, so what Inspect sees on
// production it sees again on the shadow. See copySchema for what is
// copied and what is only attempted.
//
// The database user needs the CREATEDB privilege on that server.
func (d Dialect) Shadow(ctx context.Context, db *sql.DB, opts migrate.ShadowOptions) (*migrate.Shadow, error) {
	serverURL := opts.LiveURL
	if opts.At != "" {
		serverURL = opts.At
	}
	note := opts.Note
	if note == nil {
		note = func(string) {}
	}
	admin, err := d.Open(ctx, serverURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the shadow server: %w", err)
	}
	defer admin.Close()
	dropStale(ctx, admin, note)
	name := shadowPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + randomHex(4)
	if err := createDatabase(ctx, db, admin, name); err != nil {
		return nil, err
	}
	sh := &migrate.Shadow{Name: name, Drop: func(ctx context.Context) error { return d.dropShadow(ctx, serverURL, name) }}
	if sh.URL, err = withDatabase(serverURL, name); err == nil {
		err = d.fill(ctx, db, sh.URL, note)
	}
	if err != nil {
		return nil, errors.Join(err, sh.Drop(context.WithoutCancel(ctx)))
	}
	return sh, nil
}

// createDatabase creates the shadow with production's encoding and
// locale, from template0 so that nothing added to template1 leaks in.
func createDatabase(ctx context.Context, live, admin *sql.DB, name string) error {
	var enc, collate, ctype string
	err := live.QueryRowContext(ctx, `SELECT pg_encoding_to_char(encoding), datcollate, datctype
FROM pg_database WHERE datname = current_database()`).Scan(&enc, &collate, &ctype)
	if err != nil {
		return fmt.Errorf("read database encoding: %w", err)
	}
	q := fmt.Sprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING %s LC_COLLATE %s LC_CTYPE %s",
		name, quoteLiteral(enc), quoteLiteral(collate), quoteLiteral(ctype))
	if _, err := admin.ExecContext(ctx, q); err != nil {
		// Another server (migrate.shadow_url) may lack the locale: its
		// default will do for comparing schemas.
		if _, err2 := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err2 != nil {
			return fmt.Errorf("create shadow database (the database user needs the CREATEDB privilege, "+
				"or set migrate.shadow_url to a server where it has it): %w", err)
		}
	}
	return nil
}

// fill copies the live schema into the shadow at url.
func (d Dialect) fill(ctx context.Context, live *sql.DB, url string, note func(string)) error {
	shadow, err := d.Open(ctx, url)
	if err != nil {
		return err
	}
	defer shadow.Close()
	return copySchema(ctx, live, shadow, note)
}

func (d Dialect) dropShadow(ctx context.Context, serverURL, name string) error {
	admin, err := d.Open(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("drop shadow %s: %w", name, err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop shadow %s: %w", name, err)
	}
	return nil
}

// dropStale drops the shadows that a bascule which died mid-rehearsal left
// on the server.
func dropStale(ctx context.Context, admin *sql.DB, note func(string)) {
	var names []string
	err := migrate.EachRow(ctx, admin, `SELECT datname FROM pg_database WHERE datname LIKE 'bascule\_shadow\_%'`, func(rows *sql.Rows) error {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
		return nil
	})
	if err != nil {
		return
	}
	for _, n := range names {
		ts, _, _ := strings.Cut(strings.TrimPrefix(n, shadowPrefix), "_")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < staleAfter {
			continue
		}
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(n)+" WITH (FORCE)"); err == nil {
			note("dropped " + n + ", left behind by an earlier run")
		}
	}
}

// withDatabase returns connString with its database replaced by db.
func withDatabase(connString, db string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := neturl.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse database url: %w", err)
		}
		u.Path, u.RawPath = "/"+db, ""
		return u.String(), nil
	}
	// A keyword/value string: a later dbname overrides an earlier one.
	return connString + " dbname=" + db, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
