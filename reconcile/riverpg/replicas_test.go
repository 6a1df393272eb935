package riverpg_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/funbiz-go/sinopac/reconcile/riverpg"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The replica tests: the test binary runs itself as reconciler processes
// (childMain, selected by childEnv), the parent runs one simulator per
// shop, tracks the orders, kills processes and checks the outcome.
const (
	childEnv   = "QPAY_RIVERPG_CHILD"
	secondShop = "NA0249_777"
	// Per shop: the simulated gateway refuses above simRate (burst
	// simBurst); the replicas together keep to shopRate.
	simRate, simBurst = 60.0, 10
	shopRate          = 40.0
)

var secondKeys = sinopac.HashKeys{A1: "0123456789ABCDEF", A2: "FEDCBA9876543210", B1: "00112233445566AA", B2: "AA66554433221100"}

// The compressed schedule every replica uses.
var (
	testWaits = []time.Duration{time.Millisecond, time.Second, 2 * time.Second}
	testGrace = 2 * time.Second
)

// childMain is one reconciler process: both shops, a handler that records
// every key in the reconciler's transaction, until SIGTERM (or SIGKILL).
func childMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := runChild(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func runChild(ctx context.Context) error {
	schema := os.Getenv("QPAY_RIVERPG_SCHEMA")
	pool, err := pgxpool.New(ctx, os.Getenv("QPAY_RIVERPG_DSN"))
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := sinopac.NewClient(qpaytest.DemoShopNo, qpaytest.DemoKeys, sinopac.WithBaseURL(os.Getenv("QPAY_RIVERPG_SIM_A")))
	if err != nil {
		return err
	}
	b, err := sinopac.NewClient(secondShop, secondKeys, sinopac.WithBaseURL(os.Getenv("QPAY_RIVERPG_SIM_B")))
	if err != nil {
		return err
	}
	set, err := sinopac.NewClientSet(a, b)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r, err := riverpg.New(pool, set.Client, recordKeys(schema), append(replicaOptions(schema), riverpg.WithLogger(logger))...)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.Stop(sctx)
}

func replicaOptions(schema string) []riverpg.Option {
	return []riverpg.Option{riverpg.WithSchema(schema), riverpg.WithSchedule(testWaits...), riverpg.WithGrace(testGrace),
		riverpg.WithRangeQueries(reconcile.DefaultRangeMin, reconcile.DefaultRangeSpan, time.Second),
		riverpg.WithShopRate(shopRate), riverpg.WithMaxWait(time.Second), riverpg.WithWorkers(8),
		riverpg.WithRiverConfig(func(cfg *river.Config) {
			cfg.FetchPollInterval, cfg.FetchCooldown = 200*time.Millisecond, 20*time.Millisecond
			cfg.JobTimeout, cfg.RescueStuckJobsAfter = 3*time.Second, 4*time.Second
			cfg.RetryPolicy = fastRetry{}
			cfg.TestOnly = true // no staggered start of maintenance
		})}
}

// recordKeys applies an event by recording its key in the reconciler's
// transaction; a key seen before is a repeated delivery, recorded apart.
func recordKeys(schema string) riverpg.Handler {
	return func(ctx context.Context, tx pgx.Tx, e reconcile.Event) error {
		tag, err := tx.Exec(ctx, `INSERT INTO `+schema+`.applied (key, shop_no, order_no, kind) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO NOTHING`, e.Key, e.ShopNo, e.OrderNo, string(e.Kind))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO `+schema+`.repeats (key) VALUES ($1)`, e.Key)
		}
		return err
	}
}

// fate is how an order ends at the simulated bank.
type fate int

const (
	paidAtOnce fate = iota // paid before the first check
	paidLater              // waiting, paid a few seconds in
	expired                // expires a few seconds in
	waiting                // waiting for ever: given up
	unknown                // never reached the bank: given up
)

// fateOf deals the fates: of every 20 orders, 8 paid at once, 4 paid
// later, 4 expired, 3 waiting for ever, 1 unknown to the bank.
func fateOf(i int) fate {
	switch n := i % 20; {
	case n < 8:
		return paidAtOnce
	case n < 12:
		return paidLater
	case n < 16:
		return expired
	case n < 19:
		return waiting
	}
	return unknown
}

var fateKind = map[fate]reconcile.Kind{paidAtOnce: reconcile.Paid, paidLater: reconcile.Paid, expired: reconcile.Expired,
	waiting: reconcile.GaveUp, unknown: reconcile.GaveUp}

type replicaRun struct {
	orders, events, repeats, finalRepeats int
	bankCalls                             map[string]int
	rateLimited                           int
	kills                                 int
	duration                              time.Duration
}

func TestReplicas(t *testing.T) {
	run := runReplicas(t, 3, 0)
	assert.Zero(t, run.repeats, "without crashes no event is delivered twice")
}

func TestReplicasKilled(t *testing.T) {
	runReplicas(t, 3, 2*time.Second)
}

// runReplicas tracks 1,000 orders in each of two shops, runs n reconciler
// processes (one SIGKILLed and restarted every killEvery, if set) until
// every order's job has finished, and checks every order's final event.
func runReplicas(t *testing.T, n int, killEvery time.Duration) replicaRun {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	pool, schema := pgSchema(t)
	ctx := t.Context()
	migrate(t, pool, schema)
	_, err := pool.Exec(ctx, `CREATE TABLE `+schema+`.applied (key TEXT PRIMARY KEY, shop_no TEXT NOT NULL, order_no TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE `+schema+`.repeats (key TEXT NOT NULL)`)
	require.NoError(t, err)

	sims := map[string]*qpaytest.Server{
		qpaytest.DemoShopNo: qpaytest.NewServer(qpaytest.WithRateLimit(simRate, simBurst)),
		secondShop:          qpaytest.NewServer(qpaytest.WithRateLimit(simRate, simBurst), qpaytest.WithShop(secondShop, secondKeys)),
	}
	for _, s := range sims {
		defer s.Close()
	}
	tracker, err := riverpg.New(pool, reconcile.SingleShop(nil), discard, replicaOptions(schema)...)
	require.NoError(t, err)

	// 1,000 orders per shop created over the last hour, a known share of
	// each fate.
	start := time.Now()
	now := start.In(sinopac.Taipei)
	want := map[reconcile.OrderKey]reconcile.Kind{}
	later := map[string][]string{}   // shop → orders paid a few seconds in
	expires := map[string][]string{} // shop → orders expiring a few seconds in
	const perShop = 1000
	for shopNo, sim := range sims {
		var book []sinopac.Order
		var tracked []reconcile.PendingOrder
		for i := range perShop {
			no := fmt.Sprintf("R%05d", i)
			f := fateOf(i)
			created := now.Add(-time.Hour + time.Duration(i)*3*time.Second)
			o := reconcile.PendingOrder{ShopNo: shopNo, OrderNo: no, PayType: sinopac.PayTypeATM, Amount: sinopac.TWD(100),
				CreatedAt: created, ExpiresAt: now.Add(time.Hour)}
			rec := sinopac.Order{OrderNo: no, TSNo: "TS" + no, TSDate: sinopac.At(created), Amount: sinopac.TWD(100),
				PayType: sinopac.PayTypeATM, PayStatus: "1A200", RefundFlag: "N"}
			switch f {
			case paidAtOnce:
				rec.PayStatus, rec.PayDate = "1A400", sinopac.At(created.Add(time.Minute))
			case paidLater:
				later[shopNo] = append(later[shopNo], no)
			case expired:
				expires[shopNo] = append(expires[shopNo], no)
			case waiting, unknown:
				o.ExpiresAt = now.Add(4 * time.Second)
			}
			if f != unknown {
				book = append(book, rec)
			}
			want[o.Key()] = fateKind[f]
			tracked = append(tracked, o)
		}
		sim.AddOrders(book...)
		// In the merchant's transactions, 100 orders each.
		for i := 0; i < len(tracked); i += 100 {
			require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				for _, o := range tracked[i:min(i+100, len(tracked))] {
					if err := tracker.TrackTx(ctx, tx, o); err != nil {
						return err
					}
				}
				return nil
			}))
		}
	}

	procs := newChildren(t, n, map[string]string{
		"QPAY_RIVERPG_DSN": baseDSN(), "QPAY_RIVERPG_SCHEMA": schema,
		"QPAY_RIVERPG_SIM_A": sims[qpaytest.DemoShopNo].URL(), "QPAY_RIVERPG_SIM_B": sims[secondShop].URL(),
	})
	defer procs.stopAll()

	// The bank moves on: payments and expiries a few seconds in.
	bankMoved := time.AfterFunc(3*time.Second, func() {
		for shopNo, sim := range sims {
			for _, no := range later[shopNo] {
				_, _ = sim.Pay(no)
			}
			for _, no := range expires[shopNo] {
				o, _ := sim.Order(no)
				o.PayStatus = "1A250"
				sim.AddOrders(o)
			}
		}
	})
	defer bankMoved.Stop()

	kills := 0
	deadline := time.Now().Add(150 * time.Second)
	var tick <-chan time.Time
	if killEvery > 0 {
		ticker := time.NewTicker(killEvery)
		defer ticker.Stop()
		tick = ticker.C
	}
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		var finished, total int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'completed'), count(*) FROM `+schema+
			`.river_job WHERE kind = $1`, riverpg.OrderKind).Scan(&finished, &total))
		if finished == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s only %d of %d orders finished; jobs: %v\n%s", time.Since(start).Round(time.Second), finished, total,
				jobStates(t, pool, schema), procs.output())
		}
		select {
		case <-tick:
			if kills < 5 { // then let the survivors finish
				procs.killOne()
				kills++
			}
		case <-poll.C:
		}
	}
	run := replicaRun{orders: len(want), kills: kills, duration: time.Since(start), bankCalls: map[string]int{}}

	// Every order ended with its correct final event, applied once.
	rows, err := pool.Query(ctx, `SELECT shop_no, order_no, kind FROM `+schema+`.applied WHERE kind <> 'pending'`)
	require.NoError(t, err)
	got := map[reconcile.OrderKey]reconcile.Kind{}
	for rows.Next() {
		var k reconcile.OrderKey
		var kind string
		require.NoError(t, rows.Scan(&k.ShopNo, &k.OrderNo, &kind))
		_, dup := got[k]
		require.False(t, dup, "%s got two final events", k)
		got[k] = reconcile.Kind(kind)
	}
	require.NoError(t, rows.Err())
	wrong := 0
	for k, kind := range want {
		if got[k] != kind {
			wrong++
			if wrong < 10 {
				t.Errorf("%s ended %q, want %q", k, got[k], kind)
			}
		}
	}
	require.Zero(t, wrong, "orders with a wrong or missing final event")
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.applied`).Scan(&run.events))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE key NOT LIKE '%/pending/%') FROM `+schema+`.repeats`).
		Scan(&run.repeats, &run.finalRepeats))
	assert.Zero(t, run.finalRepeats, "a final event is applied in the transaction that completes its job: never delivered twice")
	for shopNo, sim := range sims {
		st := sim.Stats()
		run.bankCalls[shopNo] = st.Requests["OrderQuery"]
		run.rateLimited += st.RateLimited
	}
	assert.Zero(t, run.rateLimited, "no 429 from the per-shop limit")
	t.Logf("%d processes, %d orders in 2 shops: %d events (%d repeated pending deliveries, %d final), bank calls (OrderQuery) %v, 429s %d, kills %d, %s",
		n, run.orders, run.events, run.repeats, run.finalRepeats, run.bankCalls, run.rateLimited, run.kills, run.duration.Round(100*time.Millisecond))
	if os.Getenv("QPAY_RIVERPG_DEBUG") != "" {
		t.Log(procs.output())
	}
	return run
}

func jobStates(t *testing.T, pool *pgxpool.Pool, schema string) map[string]int {
	rows, err := pool.Query(context.Background(), `SELECT state::text, count(*) FROM `+schema+`.river_job GROUP BY state`)
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for rows.Next() {
		var s string
		var c int
		_ = rows.Scan(&s, &c)
		out[s] = c
	}
	return out
}

// children are the reconciler processes.
type children struct {
	t     *testing.T
	env   []string
	mu    sync.Mutex
	cmds  []*exec.Cmd
	outs  []*syncBuffer
	waits []chan struct{}
}

func newChildren(t *testing.T, n int, env map[string]string) *children {
	c := &children{t: t, env: append(os.Environ(), childEnv+"=1")}
	for k, v := range env {
		c.env = append(c.env, k+"="+v)
	}
	for i := range n {
		c.cmds = append(c.cmds, nil)
		c.outs = append(c.outs, &syncBuffer{})
		c.waits = append(c.waits, nil)
		c.start(i)
	}
	return c
}

func (c *children) start(i int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(c.env, "QPAY_RIVERPG_CHILD_ID="+strconv.Itoa(i))
	cmd.Stdout, cmd.Stderr = c.outs[i], c.outs[i]
	require.NoError(c.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.cmds[i], c.waits[i] = cmd, done
}

// killOne SIGKILLs a random process and starts a new one in its place.
func (c *children) killOne() {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := rand.IntN(len(c.cmds))
	_ = c.cmds[i].Process.Signal(syscall.SIGKILL)
	<-c.waits[i]
	c.start(i)
}

func (c *children) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, cmd := range c.cmds {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.waits[i]:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-c.waits[i]
		}
	}
}

func (c *children) output() string {
	var b bytes.Buffer
	for i, o := range c.outs {
		fmt.Fprintf(&b, "--- process %d:\n%s\n", i, o.String())
	}
	return b.String()
}

// syncBuffer is a bytes.Buffer for a process's output, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
