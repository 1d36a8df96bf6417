package migrate

import (
	"context"
	"database/sql"
)

// Querier is a database, a connection or a transaction: what the dialects'
// inspection reads from.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// EachRow runs query and calls fn for each row, closing the rows and
// returning the first error of the query, of fn or of the iteration.
func EachRow(ctx context.Context, q Querier, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
