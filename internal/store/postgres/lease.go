package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ store.Leases = (*DB)(nil)

// leaseColumns read a lease row with how long it has left by the
// database's clock.
const leaseColumns = `name, holder, url, token, acquired_at, renewed_at, expires_at,
	extract(epoch FROM expires_at - clock_timestamp())`

func scanLease(row pgx.Row) (store.Lease, error) {
	var l store.Lease
	var remaining float64
	err := row.Scan(&l.Name, &l.Holder, &l.URL, &l.Token, &l.AcquiredAt, &l.RenewedAt, &l.ExpiresAt, &remaining)
	l.Remaining = time.Duration(remaining * float64(time.Second))
	return l, err
}

// ttlInterval renders ttl for PostgreSQL, to the microsecond.
func ttlInterval(ttl time.Duration) string {
	return fmt.Sprintf("%d microseconds", ttl.Microseconds())
}

// AcquireLease takes the lease when it is free or expired, with a new
// token. The row lock the UPDATE takes waits for the writes in flight of
// the previous holder, which lock the row FOR SHARE: each of them commits
// before the takeover, or, started after, is refused.
func (db *DB) AcquireLease(ctx context.Context, name, holder, url string, ttl time.Duration) (store.Lease, bool, error) {
	l, err := scanLease(db.pool.QueryRow(ctx, `INSERT INTO leader_lease AS l
		(name, holder, url, token, acquired_at, renewed_at, expires_at)
		VALUES ($1, $2, $3, 1, clock_timestamp(), clock_timestamp(), clock_timestamp() + $4::interval)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, url = excluded.url, token = l.token + 1,
			acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
		WHERE l.expires_at <= clock_timestamp()
		RETURNING `+leaseColumns, name, holder, url, ttlInterval(ttl)))
	if errors.Is(err, pgx.ErrNoRows) {
		// Held, and renewed in time.
		l, err = db.CurrentLease(ctx, name)
		return l, false, err
	}
	if err != nil {
		return l, false, fmt.Errorf("acquire lease %s: %w", name, adaptError(err))
	}
	return l, true, nil
}

// RenewLease extends the lease of the term (holder, token), if it has not
// expired; ErrLeaseLost otherwise.
func (db *DB) RenewLease(ctx context.Context, name, holder string, token int64, ttl time.Duration) (store.Lease, error) {
	l, err := scanLease(db.pool.QueryRow(ctx, `UPDATE leader_lease
		SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + $4::interval
		WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > clock_timestamp()
		RETURNING `+leaseColumns, name, holder, token, ttlInterval(ttl)))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("renew lease %s with token %d: %w", name, token, store.ErrLeaseLost)
	}
	if err != nil {
		return l, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return l, nil
}

// ReleaseLease expires the lease now if the term (holder, token) still
// holds it. The token stays: the next holder bumps it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string, token int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE leader_lease SET expires_at = clock_timestamp()
		WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > clock_timestamp()`, name, holder, token)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// CurrentLease returns the lease as it stands, or ErrNotFound.
func (db *DB) CurrentLease(ctx context.Context, name string) (store.Lease, error) {
	l, err := scanLease(db.pool.QueryRow(ctx, `SELECT `+leaseColumns+` FROM leader_lease WHERE name = $1`, name))
	if err != nil {
		return l, fmt.Errorf("read lease %s: %w", name, adaptError(err))
	}
	return l, nil
}

// querier is what a pool and a transaction both offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// write runs fn on the pool, or, when ctx carries a fence
// (store.WithFence), in a transaction that first locks the lease row FOR
// SHARE and checks its token: the check and the write commit together,
// and a takeover waits for them. A write whose token is not the lease's
// any more fails with a *store.FencedError and changes nothing.
func (db *DB) write(ctx context.Context, fn func(q querier) error) error {
	f, ok := store.FenceFrom(ctx)
	if !ok {
		return fn(db.pool)
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var current int64
		err := tx.QueryRow(ctx, `SELECT token FROM leader_lease WHERE name = $1 FOR SHARE`, f.Lease).Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("check fencing token: %w", err)
		}
		if current != f.Token {
			return &store.FencedError{Lease: f.Lease, Token: f.Token, Current: current}
		}
		return fn(tx)
	})
}
