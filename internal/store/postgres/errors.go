package postgres

import (
	"errors"
	"fmt"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// uniqueViolation is SQLSTATE 23505.
const uniqueViolation = "23505"

// adaptError turns pgx's errors into the store's: a broken uniqueness rule
// (a version registered twice, a second active deployment) becomes
// store.ErrConflict, no row becomes store.ErrNotFound. Other errors,
// including foreign-key violations, pass through as the SQLite store lets
// them.
func adaptError(err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == uniqueViolation:
		return fmt.Errorf("%w: %s (%s)", store.ErrConflict, pe.Message, pe.ConstraintName)
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	}
	return err
}
