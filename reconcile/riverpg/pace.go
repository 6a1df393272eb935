package riverpg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac/reconcile/internal/lookup"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pacer spaces each shop's requests across every replica: one row per
// shop holds when its next request may go, at the database's clock, and
// one UPDATE books a slot and advances it. A replica only learns how long
// to wait (a duration), so its own clock never matters.
type pacer struct {
	pool     *pgxpool.Pool
	table    string
	interval time.Duration // between two requests of a shop
}

// backlogError says the shop's next slot is further away than a check may
// wait: the job is snoozed for wait instead.
type backlogError struct{ wait time.Duration }

func (e *backlogError) Error() string { return fmt.Sprintf("riverpg: shop busy for %s", e.wait) }

// reserve books n requests of shop unless they could not start within
// maxWait (0: any wait). It returns how long to wait before sending them,
// or the backlog with ok false.
func (p *pacer) reserve(ctx context.Context, shop string, n int, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	step := (time.Duration(n) * p.interval).Seconds()
	limit := maxWait.Seconds()
	if maxWait == 0 {
		limit = 1e9
	}
	var secs float64
	err = p.pool.QueryRow(ctx, `INSERT INTO `+p.table+` AS p (shop_no, next_at) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
ON CONFLICT (shop_no) DO UPDATE SET next_at = GREATEST(p.next_at, clock_timestamp()) + make_interval(secs => $2)
	WHERE p.next_at <= clock_timestamp() + make_interval(secs => $3)
RETURNING EXTRACT(EPOCH FROM (next_at - clock_timestamp()))::float8 - $2`, shop, step, limit).Scan(&secs)
	if errors.Is(err, pgx.ErrNoRows) {
		// Not booked: the shop's backlog is too long.
		if err := p.pool.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM (next_at - clock_timestamp()))::float8 FROM `+p.table+
			` WHERE shop_no = $1`, shop).Scan(&secs); err != nil {
			return 0, false, fmt.Errorf("riverpg: pace %s: %w", shop, err)
		}
		return time.Duration(secs * float64(time.Second)), false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("riverpg: pace %s: %w", shop, err)
	}
	return max(0, time.Duration(secs*float64(time.Second))), true, nil
}

// paceFunc is reserve as a lookup.Pace: it waits for the booked slot, or
// fails with a *backlogError. A process that wakes well after its slot
// (starved of CPU, say) books a new one rather than send late, where its
// requests would bunch up with those of the slots after it.
func (p *pacer) paceFunc(shop string, maxWait time.Duration) lookup.Pace {
	return func(ctx context.Context, n int) error {
		late := time.Duration(n) * p.interval
		for try := 0; ; try++ {
			asked := time.Now()
			wait, ok, err := p.reserve(ctx, shop, n, maxWait)
			switch {
			case err != nil:
				return err
			case !ok:
				return &backlogError{wait: wait}
			}
			// The slot starts wait after the database's clock_timestamp(),
			// a moment between asking and the answer: wake at asked+wait.
			if d := time.Until(asked.Add(wait)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
			if time.Since(asked) <= wait+late || try == 2 {
				return nil
			}
		}
	}
}
