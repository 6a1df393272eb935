package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac/qpaytest"
)

// dirState is every file of a directory: name, bytes, mtime.
type dirState map[string]struct {
	data  []byte
	mtime time.Time
}

func snapshot(t *testing.T, dir string) dirState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := dirState{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		s[e.Name()] = struct {
			data  []byte
			mtime time.Time
		}{b, fi.ModTime()}
	}
	return s
}

func sameDir(t *testing.T, before, after dirState) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("files before %d, after %d", len(before), len(after))
	}
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("%s is gone", name)
		case !bytes.Equal(a.data, b.data):
			t.Errorf("%s changed its bytes", name)
		case !a.mtime.Equal(b.mtime):
			t.Errorf("%s changed its mtime: %v -> %v", name, b.mtime, a.mtime)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("new file %s", name)
		}
	}
}

// Issue #9: "qpay reconcile --db real.db" under a cron without QPAY_*
// gave up real orders against the demo bank and exited 0. Without
// credentials every command that creates, changes or records state
// refuses (exit 2) and touches nothing, unless --demo is given.
func TestStateChangingCommandsRefuseDemoMode(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "real.db")
	// A real store, with a real order that the demo bank does not have.
	wantCode(t, qpay(t, serverEnv(srv), "", "reconcile", "track", "--db", db, "--order-no", "REAL-0001",
		"--created", "2026-09-01T10:00", "--expires", "2026-09-02"), 0)
	before := snapshot(t, dir)
	if _, ok := before["real.db"]; !ok {
		t.Fatalf("no store file: %v", before)
	}

	for _, args := range [][]string{
		{"reconcile", "--db", db},
		{"reconcile", "--db", db, "-o", "json"},
		{"reconcile", "track", "--db", db, "--order-no", "X-1", "--created", "2026-10-01T10:00", "--expires", "2026-10-08"},
		{"create", "--order-no", "A1", "--amount", "799", "--product", "x"},
		{"maintain", "refund", "--order-no", qpaytest.SeedOrderNo},
		{"maintain", "cancel", "--order-no", qpaytest.SeedOrderNo},
	} {
		r := qpay(t, nil, "", args...)
		wantCode(t, r, 2)
		if !strings.Contains(r.stderr, "refusing to run it against the built-in demo simulator") || !strings.Contains(r.stderr, "--demo") {
			t.Errorf("%v: stderr %s", args, r.stderr)
		}
		if strings.Contains(r.stderr, "demo mode:") || r.stdout != "" {
			t.Errorf("%v started the demo: stdout %q stderr %q", args, r.stdout, r.stderr)
		}
	}
	sameDir(t, before, snapshot(t, dir))

	// Partial credentials are an error too, not demo mode.
	r := qpay(t, map[string]string{"QPAY_SHOP_NO": "NA0249_001"}, "", "reconcile", "--db", db)
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "QPAY_HASH_A1, QPAY_HASH_A2, QPAY_HASH_B1, QPAY_HASH_B2 are not set") {
		t.Errorf("partial: %s", r.stderr)
	}
	sameDir(t, before, snapshot(t, dir))

	// Queries keep working in demo mode (the README's main command).
	r = qpay(t, nil, "", "query", "--order-no", qpaytest.SeedOrderNo)
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "NT$799.00") || !strings.Contains(r.stdout, "1A400 付款完成 (paid)") {
		t.Errorf("demo query: %s", r.stdout)
	}

	// --demo asks for it.
	r = qpay(t, nil, "", "--demo", "create", "--order-no", "DEMO-1", "--amount", "799", "--product", "試用")
	wantCode(t, r, 0)
	if !strings.Contains(r.stderr, "demo mode: --demo") || !strings.Contains(r.stdout, "DEMO-1") {
		t.Errorf("--demo create: %s %s", r.stdout, r.stderr)
	}
	other := filepath.Join(t.TempDir(), "demo.db")
	wantCode(t, qpay(t, nil, "", "--demo", "reconcile", "track", "--db", other, "--order-no", qpaytest.SeedOrderNo,
		"--created", "2021-10-01T22:43", "--expires", "2021-10-11"), 0)
	r = qpay(t, nil, "", "--demo", "reconcile", "--db", other)
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "A202110507397") {
		t.Errorf("--demo reconcile: %s", r.stdout)
	}
}
