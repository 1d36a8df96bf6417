package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/jackc/pgx/v5"
)

var _ store.Notifications = (*DB)(nil)

// RecordEvent appends e and sets its ID.
func (db *DB) RecordEvent(ctx context.Context, e *store.Event) error {
	err := db.write(ctx, func(q querier) error {
		return q.QueryRow(ctx, `INSERT INTO notify_events (at, source, payload) VALUES ($1, $2, $3) RETURNING id`,
			e.At, e.Source, string(e.Payload)).Scan(&e.ID)
	})
	if err != nil {
		return fmt.Errorf("record %s event: %w", e.Source, err)
	}
	return nil
}

// PendingEvents returns the events not dispatched yet, oldest first.
func (db *DB) PendingEvents(ctx context.Context, limit int) ([]store.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT id, at, source, payload FROM notify_events
		WHERE NOT dispatched ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Event, error) {
		var e store.Event
		var payload string
		err := row.Scan(&e.ID, &e.At, &e.Source, &payload)
		e.Payload = []byte(payload)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("scan event: %w", err)
	}
	return out, nil
}

// DispatchEvents marks the events dispatched and inserts their deliveries
// in one transaction, or returns store.ErrConflict and writes nothing. Of
// two instances dispatching the same event, the second waits on the row
// lock of the first's UPDATE, then finds it dispatched.
func (db *DB) DispatchEvents(ctx context.Context, eventIDs []int64, ds []store.Delivery) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notify_events SET dispatched = true WHERE id = ANY($1) AND NOT dispatched`, eventIDs)
		if err != nil {
			return fmt.Errorf("dispatch events: %w", err)
		}
		if tag.RowsAffected() != int64(len(eventIDs)) {
			return fmt.Errorf("dispatch events: some were already dispatched: %w", store.ErrConflict)
		}
		for i := range ds {
			d := &ds[i]
			next := d.CreatedAt
			if d.NextAt != nil {
				next = *d.NextAt
			}
			err := tx.QueryRow(ctx, `INSERT INTO notify_deliveries (event_id, endpoint, target, event_type,
				summary, body, state, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
				d.EventID, d.Endpoint, d.Target, d.EventType, d.Summary, d.Body, d.State, d.CreatedAt, next).Scan(&d.ID)
			if err != nil {
				return fmt.Errorf("insert delivery of event %d: %w", d.EventID, adaptError(err))
			}
		}
		return nil
	})
}

const deliveryColumns = `id, event_id, endpoint, target, event_type, summary, body, state, attempts,
	last_status, last_error, created_at, last_at, next_at, done_at`

func scanDelivery(row pgx.CollectableRow) (store.Delivery, error) {
	var d store.Delivery
	var next time.Time
	err := row.Scan(&d.ID, &d.EventID, &d.Endpoint, &d.Target, &d.EventType, &d.Summary, &d.Body, &d.State,
		&d.Attempts, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.LastAt, &next, &d.DoneAt)
	if d.State == store.DeliveryPending {
		d.NextAt = &next
	}
	return d, err
}

// ClaimDeliveries returns the pending deliveries due at now, each with its
// attempt counted and its next attempt moved to now+lease. SKIP LOCKED
// lets instances claiming at the same moment take different deliveries.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	rows, err := db.pool.Query(ctx, `UPDATE notify_deliveries SET attempts = attempts + 1, last_at = $1, next_at = $2
		WHERE id IN (SELECT id FROM notify_deliveries WHERE state = 'pending' AND next_at <= $1
			ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// RETURNING does not keep the subquery's order, and the claim made
	// every next attempt equal: the IDs give a stable order.
	slices.SortFunc(out, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// FinishDelivery records how attempt d.Attempts of delivery d.ID ended, or
// returns store.ErrConflict if it is no longer that attempt's to record.
func (db *DB) FinishDelivery(ctx context.Context, d store.Delivery) error {
	tag, err := db.pool.Exec(ctx, `UPDATE notify_deliveries SET state = $1, last_status = $2, last_error = $3,
		next_at = COALESCE($4, next_at), done_at = $5 WHERE id = $6 AND attempts = $7 AND state = 'pending'`,
		d.State, d.LastStatus, d.LastError, d.NextAt, d.DoneAt, d.ID, d.Attempts)
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", d.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish delivery %d attempt %d: no longer pending at that attempt: %w", d.ID, d.Attempts, store.ErrConflict)
	}
	return nil
}

// NextDeliveryAt returns when the earliest pending delivery is due, or
// store.ErrNotFound.
func (db *DB) NextDeliveryAt(ctx context.Context) (time.Time, error) {
	var next *time.Time
	if err := db.pool.QueryRow(ctx, `SELECT min(next_at) FROM notify_deliveries WHERE state = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next delivery: %w", err)
	}
	if next == nil {
		return time.Time{}, store.ErrNotFound
	}
	return *next, nil
}

// ListDeliveries returns deliveries newest first.
func (db *DB) ListDeliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE $1 = '' OR state = $1 ORDER BY id DESC LIMIT $2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// PruneNotifications deletes dispatched events and finished deliveries
// older than before.
func (db *DB) PruneNotifications(ctx context.Context, before time.Time) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM notify_deliveries WHERE state <> 'pending' AND done_at < $1`, before); err != nil {
			return fmt.Errorf("prune deliveries: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM notify_events WHERE dispatched AND at < $1`, before); err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		return nil
	})
}
