package riverpg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/riverqueue/river/rivertype"
)

// River's reconciler has no pass of its own: every order is a job, run on
// whichever replica fetches it. It reports to the Observer of each shop's
// client (sinopac.Client.Observer) in two ways:
//
//   - each check of an order (a job run) as a pass of one order,
//     ReconcileInfo.Check set: its bank lookup, its event once committed,
//     or its failure. Events are so counted where they commit, on every
//     replica, once each (a redelivery after a crash counts again, as it
//     is delivered again).
//   - each run of the periodic job (on the leader, every WithRangeQueries
//     interval; it runs with range queries off too) as a pass of every
//     shop with orders tracked: its range walks and the shop's backlog,
//     from one aggregate over River's job table.
//
// Only the periodic pass measures the backlog (ReconcileDone.Backlog), so
// that one process reports the pending count and oldest age, not every
// check on every replica.

// report is one ReconcileStart … ReconcileEnd pair on a shop's Observer.
type report struct {
	obs   sinopac.Observer
	ctx   context.Context
	done  sinopac.ReconcileDone
	begun time.Time
}

// begin reports the start of a check or pass of shop to client's Observer
// (none when client is nil) and returns the context to run it with.
func begin(ctx context.Context, client *sinopac.Client, info sinopac.ReconcileInfo) (context.Context, *report) {
	rp := &report{ctx: ctx, begun: time.Now(), done: sinopac.ReconcileDone{ReconcileInfo: info, Events: map[string]int{}}}
	if client != nil {
		rp.obs = client.Observer()
	}
	if rp.obs.ReconcileStart != nil {
		if c := rp.obs.ReconcileStart(ctx, info); c != nil {
			rp.ctx = c
		}
	}
	return rp.ctx, rp
}

// end reports the result; err is the job's. A snooze is no failure: it
// schedules the order's next check.
func (rp *report) end(err error) {
	if rp.obs.ReconcileEnd == nil {
		return
	}
	var snooze *rivertype.JobSnoozeError
	if errors.As(err, &snooze) {
		err = nil
	}
	if err != nil && rp.done.Check {
		rp.done.Failed = 1
	}
	rp.done.Class = sinopac.ErrorClassOf(err)
	rp.done.Duration = time.Since(rp.begun)
	rp.obs.ReconcileEnd(rp.ctx, rp.done)
}

// backlog is a shop's tracked orders: how many, and the age of the
// oldest (since its CreatedAt) at the database's clock.
type backlog struct {
	pending int
	oldest  time.Duration
}

// backlogs counts each shop's tracked orders — jobs of OrderKind not
// finished — in one aggregate over River's job table.
func (r *Reconciler) backlogs(ctx context.Context) (map[string]backlog, error) {
	rows, err := r.pool.Query(ctx, `SELECT args->>'shop_no', count(*),
	extract(epoch FROM now() - min((args->>'created_at')::timestamptz))::float8
FROM `+qualify(r.schema, "river_job")+`
WHERE kind = $1 AND state IN ('available', 'scheduled', 'retryable', 'running', 'pending')
GROUP BY 1`, OrderKind)
	if err != nil {
		return nil, fmt.Errorf("riverpg: backlog: %w", err)
	}
	defer rows.Close()
	out := map[string]backlog{}
	for rows.Next() {
		var (
			shop    string
			pending int
			seconds float64
		)
		if err := rows.Scan(&shop, &pending, &seconds); err != nil {
			return nil, fmt.Errorf("riverpg: backlog: %w", err)
		}
		out[shop] = backlog{pending: pending, oldest: max(0, time.Duration(seconds*float64(time.Second)))}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("riverpg: backlog: %w", err)
	}
	return out, nil
}
