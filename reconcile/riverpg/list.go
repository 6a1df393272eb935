package riverpg

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// List returns the tracked orders as reconcile.Entry values: those still
// pending first (by NextCheck, the job's scheduled time), then those
// finished within the retention (Done, with Outcome; given-up ones among
// them). With pendingOnly, only the pending ones.
func (r *Reconciler) List(ctx context.Context, pendingOnly bool) ([]reconcile.Entry, error) {
	states := []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled,
		rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStatePending}
	if !pendingOnly {
		states = append(states, rivertype.JobStateCompleted)
	}
	params := river.NewJobListParams().Kinds(OrderKind).States(states...).First(1000)
	var out []reconcile.Entry
	for {
		res, err := r.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("riverpg: list: %w", err)
		}
		for _, j := range res.Jobs {
			var a orderArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				continue
			}
			p := progressOf(j)
			e := reconcile.Entry{PendingOrder: a.pending(), Attempts: p.Checks}
			if j.State == rivertype.JobStateCompleted {
				e.Done, e.Outcome = true, p.Outcome
				if j.FinalizedAt != nil {
					e.DoneAt = j.FinalizedAt.In(sinopac.Taipei)
				}
			} else {
				e.NextCheck = j.ScheduledAt.In(sinopac.Taipei)
			}
			out = append(out, e)
		}
		if len(res.Jobs) < 1000 {
			break
		}
		params = params.After(res.LastCursor)
	}
	slices.SortFunc(out, func(a, b reconcile.Entry) int {
		if a.Done != b.Done {
			if a.Done {
				return 1
			}
			return -1
		}
		ta, tb := a.NextCheck, b.NextCheck
		if a.Done {
			ta, tb = a.DoneAt, b.DoneAt
		}
		return cmp.Or(ta.Compare(tb), strings.Compare(a.ShopNo, b.ShopNo), strings.Compare(a.OrderNo, b.OrderNo))
	})
	return out, nil
}
