package reconcile_test

import (
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/stretchr/testify/assert"
)

func TestDefaultScheduleIsACopy(t *testing.T) {
	t.Parallel()
	s := reconcile.DefaultSchedule()
	s[0] = time.Nanosecond
	assert.Equal(t, 10*time.Minute, reconcile.DefaultSchedule()[0])
	assert.Equal(t, 10*time.Minute, reconcile.DefaultPolicy().Waits[0])
}

func TestPolicyDecide(t *testing.T) {
	t.Parallel()
	p := reconcile.Policy{Waits: []time.Duration{10 * time.Minute, 30 * time.Minute, time.Hour}, Grace: time.Hour}
	o := reconcile.PendingOrder{ShopNo: "S1", OrderNo: "O1", CreatedAt: t0, ExpiresAt: t0.Add(3 * time.Hour)}
	deadline := t0.Add(4 * time.Hour)
	assert.Equal(t, t0.Add(10*time.Minute), p.FirstCheck(o))
	assert.Equal(t, deadline, p.Deadline(o))
	found := o
	found.FirstCheck = t0.Add(time.Second)
	assert.Equal(t, t0.Add(time.Second), p.FirstCheck(found), "an order found elsewhere is checked when asked")

	rec := func(status string) *sinopac.Order {
		return &sinopac.Order{OrderNo: "O1", PayStatus: sinopac.PayStatus(status), Amount: sinopac.TWD(5), PayDate: sinopac.At(t0.Add(time.Minute))}
	}
	refunded := rec("1C400")
	refunded.RefundFlag, refunded.RefundAmount = "Y", sinopac.TWD(2)
	for _, tc := range []struct {
		name    string
		bank    *sinopac.Order
		attempt int
		now     time.Time
		kind    reconcile.Kind
		key     string
		next    time.Time
	}{
		{"no record, first check", nil, 1, t0.Add(10 * time.Minute), reconcile.StillPending, "S1/O1/pending/1", t0.Add(40 * time.Minute)},
		{"waiting, second check", rec("1A200"), 2, t0.Add(time.Hour), reconcile.StillPending, "S1/O1/pending/2", t0.Add(2 * time.Hour)},
		{"the last wait repeats", rec("1A200"), 7, t0.Add(time.Hour), reconcile.StillPending, "S1/O1/pending/7", t0.Add(2 * time.Hour)},
		{"never past the deadline", nil, 3, t0.Add(3*time.Hour + 30*time.Minute), reconcile.StillPending, "S1/O1/pending/3", deadline},
		{"at the deadline", nil, 4, deadline, reconcile.GaveUp, "S1/O1/gave_up", time.Time{}},
		{"paid", rec("1A400"), 1, t0.Add(10 * time.Minute), reconcile.Paid, "S1/O1/paid", time.Time{}},
		{"paid after the deadline still counts", rec("1A900"), 9, deadline.Add(time.Hour), reconcile.Paid, "S1/O1/paid", time.Time{}},
		{"authorized", rec("1C300"), 1, t0, reconcile.Authorized, "S1/O1/authorized", time.Time{}},
		{"expired", rec("1A250"), 1, t0, reconcile.Expired, "S1/O1/expired", time.Time{}},
		{"cancelled", rec("1C351"), 1, t0, reconcile.Cancelled, "S1/O1/cancelled", time.Time{}},
		{"refunded", refunded, 1, t0, reconcile.Refunded, "S1/O1/refunded", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := p.Decide(o, tc.bank, tc.attempt, tc.now)
			assert.Equal(t, tc.kind, ev.Kind)
			assert.Equal(t, tc.key, ev.Key)
			assert.Equal(t, tc.next, ev.NextCheck)
			assert.Equal(t, tc.attempt, ev.Attempt)
			assert.Equal(t, tc.now, ev.CheckedAt)
			assert.Equal(t, o, ev.Tracked)
			assert.Equal(t, tc.bank, ev.Order)
			if tc.kind == reconcile.Refunded {
				assert.Equal(t, sinopac.TWD(2), ev.RefundAmount)
			}
			assert.Equal(t, ev, p.Decide(o, tc.bank, tc.attempt, tc.now), "a pure function")
		})
	}
	assert.Error(t, reconcile.Policy{}.Validate())
	assert.Error(t, reconcile.Policy{Waits: []time.Duration{time.Minute, 0}}.Validate())
	assert.Error(t, reconcile.Policy{Waits: []time.Duration{time.Minute}, Grace: -1}.Validate())
	assert.NoError(t, reconcile.DefaultPolicy().Validate())
}
