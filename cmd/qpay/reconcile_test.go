package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
		if !strings.Contains(r.stderr, "tracking "+o[0]+" of shop NA0249_001") {
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
	if e := kinds["A202110507397"]; e.Kind != "paid" || e.Amount != 79900 || e.PaidAt == nil || *e.PaidAt != "2021-10-01T22:45:00+08:00" || e.Key != "NA0249_001/A202110507397/paid" || e.ShopNo != "NA0249_001" {
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
	if !strings.Contains(r.stderr, "left 1 order for later") || !strings.Contains(r.stderr, "HTTP 503") {
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
	if err != nil || len(recs) != 2 || recs[1][1] != "paid" || recs[1][2] != "NA0249_001" || recs[1][3] != "QP202610010001" || recs[1][10] != "7950.00" {
		t.Errorf("CSV %v %v", recs, err)
	}

	db = filepath.Join(t.TempDir(), "third.db")
	track("QP202610010001")
	r = qpay(t, env, "", "reconcile", "--db", db)
	wantCode(t, r, 0)
	golden(t, "reconcile.table", r.stdout)
}

// track adds an order to a store with the demo simulator's credentials.
func trackDemo(t *testing.T, env map[string]string, store []string, no, created, expires string, extra ...string) {
	t.Helper()
	args := append([]string{"reconcile", "track"}, store...)
	args = append(args, "--order-no", no, "--created", created, "--expires", expires)
	wantCode(t, qpay(t, env, "", append(args, extra...)...), 0)
}

// cron appends each run to one file: the CSV header comes once.
func TestReconcileCSVHeaderOncePerFile(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	db := filepath.Join(t.TempDir(), "pending.db")
	trackDemo(t, env, []string{"--db", db}, "QP202610010001", "2026-10-01T01:24", "2026-10-08")
	trackDemo(t, env, []string{"--db", db}, "NEVER-SEEN", "2026-10-01T10:00", "2099-12-31")
	out := filepath.Join(t.TempDir(), "reconcile.csv")
	appendRun := func() {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(qpayBin, "reconcile", "--db", db, "-o", "csv")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TZ=UTC"}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = f, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %s", err, stderr.String())
		}
	}
	appendRun()
	appendRun() // nothing due: no header, no rows
	appendRun()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if strings.Count(string(b), "key,kind,shop_no") != 1 || recs[0][0] != "key" {
		t.Errorf("one header at the top:\n%s", b)
	}
	if len(recs) != 3 || recs[1][3] != "NEVER-SEEN" || recs[1][1] != "pending" || recs[2][1] != "paid" {
		t.Errorf("records %v", recs)
	}

	// To a terminal or pipe, every run has its header.
	r := qpay(t, env, "", "reconcile", "--db", db, "-o", "csv")
	wantCode(t, r, 0)
	if !strings.HasPrefix(r.stdout, "key,kind,shop_no,order_no") {
		t.Errorf("piped CSV without header: %q", r.stdout)
	}
}

// -o jsonl writes one event per line as it is delivered; the summary goes
// to stderr.
func TestReconcileJSONLines(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	db := filepath.Join(t.TempDir(), "pending.db")
	trackDemo(t, env, []string{"--db", db}, "QP202610010001", "2026-10-01T01:24", "2026-10-08")
	trackDemo(t, env, []string{"--db", db}, "QP202610010003", "2026-10-01T03:14", "2026-10-01T03:44")
	r := qpay(t, env, "", "reconcile", "--db", db, "-o", "jsonl")
	wantCode(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", r.stdout)
	}
	kinds := map[string]string{}
	for _, l := range lines {
		var e eventJSON
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		kinds[e.OrderNo] = e.Kind
	}
	if kinds["QP202610010001"] != "paid" || kinds["QP202610010003"] != "expired" {
		t.Errorf("events %v", kinds)
	}
	if !strings.Contains(r.stderr, "Checked 2 orders") {
		t.Errorf("stderr %q", r.stderr)
	}
	wantCode(t, qpay(t, env, "", "query", "--order-no", "X", "-o", "jsonl"), exitMissing) // jsonl is every command's; X is no order
}

func TestReconcileList(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	db := filepath.Join(t.TempDir(), "pending.db")
	trackDemo(t, env, []string{"--db", db}, "QP202610010001", "2026-10-01T01:24", "2026-10-08")
	trackDemo(t, env, []string{"--db", db}, "LONG-GONE", "2026-09-01T10:00", "2026-09-02")
	trackDemo(t, env, []string{"--db", db}, "FUTURE", "2099-01-01T10:00", "2099-01-02")

	list := func(args ...string) entriesView {
		t.Helper()
		r := qpay(t, nil, "", append([]string{"reconcile", "list", "--db", db, "-o", "json"}, args...)...)
		wantCode(t, r, 0)
		var v entriesView
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		return v
	}
	states := func(v entriesView) map[string]string {
		m := map[string]string{}
		for _, e := range v.Entries {
			m[e.OrderNo] = e.State
		}
		return m
	}
	v := list()
	if got := states(v); got["QP202610010001"] != "due" || got["LONG-GONE"] != "due" || got["FUTURE"] != "pending" || v.Summary.Pending != 3 || v.Summary.Due != 2 {
		t.Errorf("before a run: %v %+v", got, v.Summary)
	}
	wantCode(t, qpay(t, env, "", "reconcile", "--db", db), 0)
	v = list()
	if got := states(v); len(got) != 2 || got["LONG-GONE"] != "gave_up" || got["FUTURE"] != "pending" || v.Summary.Resolved != 1 || v.Summary.GaveUp != 1 {
		t.Errorf("after a run: %v %+v", got, v.Summary)
	}
	if got := states(list("--all")); got["QP202610010001"] != "paid" {
		t.Errorf("--all: %v", got)
	}
	r := qpay(t, nil, "", "reconcile", "list", "--db", db)
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "LONG-GONE") || !strings.Contains(r.stdout, "1 pending (0 due), 1 given up, 1 resolved.") {
		t.Errorf("table:\n%s", r.stdout)
	}
}

func TestReconcileStoreFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"reconcile"},
		{"reconcile", "--db", "a.db", "--dsn", "postgres://x"},
		{"reconcile", "list", "--db", "a.db", "--schema", "s"},
		{"reconcile", "migrate", "--db", "a.db"},
	} {
		r := runInProcess(nil, "", args...)
		wantCode(t, r, 2)
	}
}

// The River backend from the command line: migrate (twice), track, list,
// and a run that stops once nothing is due.
func TestReconcileRiver(t *testing.T) {
	t.Parallel()
	dsn := pgSchemaDSN(t)
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	st := []string{"--dsn", dsn.url, "--schema", dsn.schema}

	r := qpay(t, nil, "", append([]string{"reconcile", "migrate"}, st...)...)
	wantCode(t, r, 0)
	if !strings.HasPrefix(r.stdout, "Applied River migrations") {
		t.Errorf("migrate: %s", r.stdout)
	}
	r = qpay(t, nil, "", append([]string{"reconcile", "migrate"}, st...)...)
	wantCode(t, r, 0)
	if !strings.HasPrefix(r.stdout, "Up to date") {
		t.Errorf("second migrate: %s", r.stdout)
	}
	trackDemo(t, env, st, "QP202610010001", "2026-10-01T01:24", "2026-10-08")
	trackDemo(t, env, st, "LONG-GONE", "2026-09-01T10:00", "2026-09-02")
	trackDemo(t, env, st, "FUTURE", "2099-01-01T10:00", "2099-01-02")

	r = qpay(t, env, "", append([]string{"reconcile", "--once", "-o", "jsonl"}, st...)...)
	wantCode(t, r, 0)
	kinds := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e eventJSON
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %q\nstderr: %s", err, l, r.stderr)
		}
		kinds[e.OrderNo] = e.Kind
	}
	if len(kinds) != 2 || kinds["QP202610010001"] != "paid" || kinds["LONG-GONE"] != "gave_up" {
		t.Errorf("events %v\nstderr: %s", kinds, r.stderr)
	}
	r = qpay(t, nil, "", append([]string{"reconcile", "list", "-o", "json"}, st...)...)
	wantCode(t, r, 0)
	var v entriesView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if v.Summary.Pending != 1 || v.Summary.GaveUp != 1 || v.Summary.Resolved != 1 || len(v.Entries) != 2 {
		t.Errorf("list %+v", v)
	}
}

type pgTarget struct{ url, schema string }

// pgSchemaDSN makes a schema of its own on the test PostgreSQL server,
// dropped afterwards; without a server the test is skipped, or fails when
// CI or QPAY_REQUIRE_PG is set.
func pgSchemaDSN(t *testing.T) pgTarget {
	t.Helper()
	dsn := os.Getenv("QPAY_TEST_PG_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable (set QPAY_TEST_PG_DSN): %v", err)
		if os.Getenv("CI") != "" || os.Getenv("QPAY_REQUIRE_PG") != "" {
			t.Fatal(msg + " — required because CI or QPAY_REQUIRE_PG is set")
		}
		t.Skip(msg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "qpay_cli_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop %s: %v", schema, err)
		}
	})
	return pgTarget{dsn, schema}
}
