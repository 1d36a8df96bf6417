package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bascule/bascule/internal/store"
)

// leaseMargin is added to the client's timeout to make a claim's lease:
// a delivery whose claimer died is tried again after that.
const leaseMargin = 5 * time.Second

// deliverDue claims the deliveries that are due, as many as there are free
// slots, and sends each in its own goroutine. It looks first, so that an
// idle notifier only reads the store.
func (n *Notifier) deliverDue(ctx context.Context) error {
	free := cap(n.slots) - len(n.slots)
	if free == 0 || ctx.Err() != nil {
		return nil
	}
	now := n.opts.Now().UTC()
	next, err := n.opts.Store.NextDeliveryAt(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && next.After(now)) {
		return nil
	}
	if err != nil {
		return err
	}
	claimed, err := n.opts.Store.ClaimDeliveries(ctx, now, n.lease(), free)
	if err != nil {
		return err
	}
	for _, d := range claimed {
		n.slots <- struct{}{}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.deliver(ctx, d)
			<-n.slots
			n.poke()
		}()
	}
	return nil
}

// lease is how long a claimed delivery is left to its claimer.
func (n *Notifier) lease() time.Duration { return n.timeout() + leaseMargin }

// timeout bounds one attempt, whatever the client's own timeout: an
// attempt must end within its lease, or another could start beside it.
func (n *Notifier) timeout() time.Duration {
	if t := n.client.Timeout; t > 0 {
		return t
	}
	return time.Minute
}

// deliver makes one attempt and records how it ended.
func (n *Notifier) deliver(ctx context.Context, d store.Delivery) {
	e, ok := n.byKey[d.Endpoint]
	var status int
	var err error
	if ok {
		status, err = n.send(ctx, e, d)
	} else {
		err = errors.New("this webhook is no longer in the configuration")
	}
	now := n.opts.Now().UTC()
	d.LastStatus, d.LastError, d.NextAt, d.DoneAt = status, "", nil, nil
	log := n.log.With("webhook", d.Target, "event", d.EventType, "delivery", d.ID, "attempt", d.Attempts)
	switch {
	case err == nil:
		d.State, d.DoneAt = store.DeliveryDelivered, &now
		log.Debug("webhook delivered", "status", status)
	case !ok || now.Sub(d.CreatedAt) >= n.opts.GiveUpAfter:
		d.State, d.LastError, d.DoneAt = store.DeliveryFailed, err.Error(), &now
		log.Error("webhook delivery given up", "err", d.LastError)
	case ctx.Err() != nil:
		// bascule is stopping: the next start tries again at once.
		d.State, d.LastError, d.NextAt = store.DeliveryPending, "interrupted: bascule stopped during the attempt", &now
	default:
		next := now.Add(n.backoff(d.Attempts))
		d.State, d.LastError, d.NextAt = store.DeliveryPending, err.Error(), &next
		log.Warn("webhook delivery failed", "err", d.LastError, "retry_in", next.Sub(now).Round(time.Millisecond))
	}
	if err := n.opts.Store.FinishDelivery(context.WithoutCancel(ctx), d); err != nil {
		log.Error("record webhook delivery", "err", err)
	}
}

// backoff is the wait after the attempt-th failed attempt: MinBackoff
// doubled each time up to MaxBackoff, less a random part of up to half, so
// that the deliveries of a receiver that was down do not all come back at
// once.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.opts.MinBackoff
	for i := 1; i < attempt && d < n.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, n.opts.MaxBackoff)
	return d - rand.N(d/2+1)
}

// send POSTs the delivery's body, signed when the endpoint has a secret.
// The error never names the URL, whose path may be a secret.
func (n *Notifier) send(ctx context.Context, e Endpoint, d store.Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, errors.New("the URL cannot be used for a request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bascule-webhook/1")
	req.Header.Set(HeaderEvent, d.EventType)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	if e.Secret != "" {
		ts := n.opts.Now().Unix()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(HeaderSignature, Sign([]byte(e.Secret), ts, d.Body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, requestError(err, n.timeout())
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Errorf("HTTP %d: redirected; configure the URL it redirects to", resp.StatusCode)
	}
	msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if s := printable(string(head)); s != "" {
		msg += ": " + s
	}
	return resp.StatusCode, errors.New(msg)
}

// requestError describes a failed request without its URL: net/http's
// *url.Error quotes the whole URL.
func requestError(err error, timeout time.Duration) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if ue.Timeout() {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return ue.Err
}

// printable keeps the first line of a receiver's answer, short and
// without control characters, for the delivery's last error.
func printable(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
