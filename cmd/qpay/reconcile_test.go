package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/funbiz-go/sinopac/qpaytest"
)

func TestReconcilePass(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	db := filepath.Join(t.TempDir(), "pending.db")

	r := runInProcess(env, "", "reconcile", "--db", db)
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing store: %s", r.stderr)
	}
	for _, o := range [][]string{
		{"A202110507397", "2021-10-01T22:43", "2021-10-11"},        // the seed: paid
		{"QP202610010003", "2026-10-01T03:14", "2026-10-01T03:44"}, // card, expired
		{"NEVER-SEEN", "2026-10-01T10:00", "2099-12-31"},           // the bank has none: pending
		{"LONG-GONE", "2026-09-01T10:00", "2026-09-02"},            // none, past expiry + grace: gave up
	} {
		r := qpay(t, env, "", "reconcile", "track", "--db", db, "--order-no", o[0], "--created", o[1], "--expires", o[2])
		wantCode(t, r, 0)
		if !strings.Contains(r.stderr, "tracking "+o[0]) {
			t.Errorf("track stderr: %s", r.stderr)
		}
	}

	r = qpay(t, env, "", "reconcile", "--db", db, "-o", "json")
	wantCode(t, r, 0)
	var v eventsView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	kinds := map[string]eventJSON{}
	for _, e := range v.Events {
		kinds[e.OrderNo] = e
	}
	if e := kinds["A202110507397"]; e.Kind != "paid" || e.Amount != 79900 || e.PaidAt == nil || *e.PaidAt != "2021-10-01T22:45:00+08:00" || e.Key != "A202110507397/paid" {
		t.Errorf("seed event %+v", e)
	}
	if e := kinds["QP202610010003"]; e.Kind != "expired" || e.PayStatus != "1C250" {
		t.Errorf("expired event %+v", e)
	}
	if e := kinds["NEVER-SEEN"]; e.Kind != "pending" || e.NextCheck == nil {
		t.Errorf("pending event %+v", e)
	}
	if e := kinds["LONG-GONE"]; e.Kind != "gave_up" {
		t.Errorf("gave-up event %+v", e)
	}
	if v.Summary.Checked != 4 || v.Summary.Events["paid"] != 1 || v.Summary.Failed != 0 {
		t.Errorf("summary %+v", v.Summary)
	}

	// Resolved orders left the store: a second pass finds nothing due
	// (the pending one waits for its next check).
	r = qpay(t, env, "", "reconcile", "--db", db)
	wantCode(t, r, 0)
	if r.stdout != "No order was due for a check.\n" {
		t.Errorf("second pass: %q", r.stdout)
	}
}

func TestReconcileFormatsAndFailure(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	db := filepath.Join(t.TempDir(), "pending.db")
	track := func(no string) {
		wantCode(t, qpay(t, env, "", "reconcile", "track", "--db", db, "--order-no", no, "--created", "2026-10-01T01:24", "--expires", "2026-10-08"), 0)
	}
	track("QP202610010001")

	// The bank is down: the pass reports it (exit 3) and keeps the order.
	srv.InjectFault(qpaytest.Fault{Status: 503, Times: -1})
	r := qpay(t, env, "", "--retries", "0", "reconcile", "--db", db)
	wantCode(t, r, 3)
	if !strings.Contains(r.stderr, "left 1 order for a later pass") || !strings.Contains(r.stderr, "HTTP 503") {
		t.Errorf("stderr: %s", r.stderr)
	}
	srv.ClearFaults()

	// Its lease (5 min) still holds it; a new store file shows the
	// table and CSV forms.
	db = filepath.Join(t.TempDir(), "other.db")
	track("QP202610010001")
	r = qpay(t, env, "", "reconcile", "--db", db, "-o", "csv")
	wantCode(t, r, 0)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][1] != "paid" || recs[1][2] != "QP202610010001" || recs[1][9] != "7950.00" {
		t.Errorf("CSV %v %v", recs, err)
	}

	db = filepath.Join(t.TempDir(), "third.db")
	track("QP202610010001")
	r = qpay(t, env, "", "reconcile", "--db", db)
	wantCode(t, r, 0)
	golden(t, "reconcile.table", r.stdout)
}
