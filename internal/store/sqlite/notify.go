package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/bascule/bascule/internal/store"
)

var _ store.Notifications = (*DB)(nil)

// RecordEvent appends e and sets its ID.
func (s *DB) RecordEvent(ctx context.Context, e *store.Event) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO notify_events (at, source, payload) VALUES (?, ?, ?)`,
		formatTime(e.At), e.Source, string(e.Payload))
	if err != nil {
		return fmt.Errorf("record %s event: %w", e.Source, err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

// PendingEvents returns the events not dispatched yet, oldest first.
func (s *DB) PendingEvents(ctx context.Context, limit int) ([]store.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, source, payload FROM notify_events
		WHERE dispatched = 0 ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var at, payload string
		if err := rows.Scan(&e.ID, &at, &e.Source, &payload); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		e.At, e.Payload = parseTime(at), []byte(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DispatchEvents marks the events dispatched and inserts their deliveries
// in one transaction, or returns store.ErrConflict and writes nothing.
func (s *DB) DispatchEvents(ctx context.Context, eventIDs []int64, ds []store.Delivery) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("dispatch events: %w", err)
	}
	defer tx.Rollback()
	for _, id := range eventIDs {
		res, err := tx.ExecContext(ctx, `UPDATE notify_events SET dispatched = 1 WHERE id = ? AND dispatched = 0`, id)
		if err != nil {
			return fmt.Errorf("dispatch event %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("dispatch event %d: already dispatched: %w", id, store.ErrConflict)
		}
	}
	for i := range ds {
		d := &ds[i]
		res, err := tx.ExecContext(ctx, `INSERT INTO notify_deliveries (event_id, endpoint, target, event_type,
			summary, body, state, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.EventID, d.Endpoint, d.Target, d.EventType, d.Summary, d.Body, d.State,
			d.CreatedAt.UnixMicro(), microPtr(d.NextAt, d.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert delivery of event %d: %w", d.EventID, adaptError(err))
		}
		if d.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("dispatch events: %w", err)
	}
	return nil
}

const deliveryColumns = `id, event_id, endpoint, target, event_type, summary, body, state, attempts,
	last_status, last_error, created_at, last_at, next_at, done_at`

// ClaimDeliveries returns the pending deliveries due at now, each with its
// attempt counted and its next attempt moved to now+lease. The transaction
// is BEGIN IMMEDIATE (see Open), so two claims never return one delivery.
func (s *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`, now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	next := now.Add(lease)
	for i := range out {
		d := &out[i]
		if _, err := tx.ExecContext(ctx, `UPDATE notify_deliveries SET attempts = attempts + 1, last_at = ?, next_at = ?
			WHERE id = ?`, now.UnixMicro(), next.UnixMicro(), d.ID); err != nil {
			return nil, fmt.Errorf("claim delivery %d: %w", d.ID, err)
		}
		d.Attempts++
		d.LastAt, d.NextAt = timePtr(fromMicro(now.UnixMicro())), timePtr(fromMicro(next.UnixMicro()))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// FinishDelivery records how attempt d.Attempts of delivery d.ID ended, or
// returns store.ErrConflict if it is no longer that attempt's to record.
func (s *DB) FinishDelivery(ctx context.Context, d store.Delivery) error {
	res, err := s.db.ExecContext(ctx, `UPDATE notify_deliveries SET state = ?, last_status = ?, last_error = ?,
		next_at = COALESCE(?, next_at), done_at = ? WHERE id = ? AND attempts = ? AND state = 'pending'`,
		d.State, d.LastStatus, d.LastError, microOrNil(d.NextAt), microOrNil(d.DoneAt), d.ID, d.Attempts)
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", d.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish delivery %d attempt %d: no longer pending at that attempt: %w", d.ID, d.Attempts, store.ErrConflict)
	}
	return nil
}

// NextDeliveryAt returns when the earliest pending delivery is due, or
// store.ErrNotFound.
func (s *DB) NextDeliveryAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_at) FROM notify_deliveries WHERE state = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, store.ErrNotFound
	}
	return fromMicro(next.Int64), nil
}

// ListDeliveries returns deliveries newest first.
func (s *DB) ListDeliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE ? = '' OR state = ? ORDER BY id DESC LIMIT ?`, state, state, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// PruneNotifications deletes dispatched events and finished deliveries
// older than before. Event times are text copied from the rows they
// report, compared as times by julianday.
func (s *DB) PruneNotifications(ctx context.Context, before time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("prune notifications: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM notify_deliveries WHERE state <> 'pending' AND done_at < ?`,
		before.UnixMicro()); err != nil {
		return fmt.Errorf("prune deliveries: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM notify_events WHERE dispatched = 1 AND julianday(at) < julianday(?)`,
		formatTime(before)); err != nil {
		return fmt.Errorf("prune events: %w", err)
	}
	return tx.Commit()
}

func scanDeliveries(rows *sql.Rows) ([]store.Delivery, error) {
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		var d store.Delivery
		var created, next int64
		var last, done sql.NullInt64
		if err := rows.Scan(&d.ID, &d.EventID, &d.Endpoint, &d.Target, &d.EventType, &d.Summary, &d.Body, &d.State,
			&d.Attempts, &d.LastStatus, &d.LastError, &created, &last, &next, &done); err != nil {
			return nil, fmt.Errorf("scan delivery: %w", err)
		}
		d.CreatedAt, d.LastAt, d.DoneAt = fromMicro(created), nullMicro(last), nullMicro(done)
		if d.State == store.DeliveryPending {
			d.NextAt = timePtr(fromMicro(next))
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

func timePtr(t time.Time) *time.Time { return &t }

func nullMicro(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	return timePtr(fromMicro(v.Int64))
}

func microOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// microPtr is *t in microseconds, or def's when t is nil.
func microPtr(t *time.Time, def time.Time) int64 {
	if t == nil {
		return def.UnixMicro()
	}
	return t.UnixMicro()
}
