package sinopac_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The faults of issue #9 §1, each driven end to end through qpaytest
// against a create and a refund. What the SDK reports is checked against
// the bank's book (sim.Order), and then the error's advice is followed —
// resend the create; for a refund, look again with ResolveRefund — and
// the book must still hold one order and at most one new refund.

// faultCase is one fault. The zero values mean: no lag, the bank's clock is
// ours, no deadline, no gateway holding the request.
type faultCase struct {
	name     string
	fault    qpaytest.Fault // Service is set per call
	lag      time.Duration  // qpaytest.WithQueryLag
	skew     time.Duration  // the bank's clock minus ours
	deadline time.Duration  // the caller's context deadline
	hold     bool           // a gateway holds the Order request until the client gave up, then forwards it
	// done: the bank carries the request out (when held: once forwarded).
	done bool
	// settled: the SDK can see it at once (no lag, not held): reported
	// Resolved (or, for resent, plainly done) rather than unknown.
	settled bool
	resent  bool // the SDK resends it by itself (a verified refusal)
	// earlier is a partial refund made before the one under test, amount
	// the refund under test (0 = the rest); refunds only.
	earlier, amount sinopac.Amount
}

// faultDeadline is the caller's deadline in the cases that cut a call
// short. It covers a refund's baseline OrderQuery on a loaded machine: cut
// there, the refund is provably not sent (a truthful answer, but not the
// case under test).
const faultDeadline = 3 * time.Second

const longDelay = time.Minute // a reply later than any deadline here; the server stops waiting when the client leaves

var faultCases = []faultCase{
	{name: "reply dropped", fault: qpaytest.Fault{DropReply: true}, done: true, settled: true},
	{name: "reply delayed past the deadline", fault: qpaytest.Fault{AfterProcessing: true, Delay: longDelay},
		deadline: faultDeadline, done: true, settled: true},
	{name: "request delayed past the deadline, never processed", fault: qpaytest.Fault{Delay: longDelay},
		deadline: faultDeadline},
	{name: "gateway holds the request and forwards it after the client gave up", hold: true, deadline: faultDeadline, done: true},
	{name: "504 after processing", fault: qpaytest.Fault{AfterProcessing: true, Status: http.StatusGatewayTimeout, Body: "upstream timeout"},
		done: true, settled: true},
	{name: "settle query lagging", fault: qpaytest.Fault{DropReply: true}, lag: qpaytest.NonceLifetime * 5, done: true},
	{name: "bank clock 3 minutes behind", fault: qpaytest.Fault{DropReply: true}, skew: -3 * time.Minute, done: true, settled: true},
	{name: "bank clock 3 minutes ahead", fault: qpaytest.Fault{DropReply: true}, skew: 3 * time.Minute, done: true, settled: true},
	{name: "unsigned F before processing", fault: qpaytest.Fault{Plain: true, Code: sinopac.CodeNonceError}},
	{name: "unsigned F after processing", fault: qpaytest.Fault{AfterProcessing: true, Plain: true, Code: sinopac.CodeNonceError},
		done: true, settled: true},
	{name: "429 after processing", fault: qpaytest.Fault{AfterProcessing: true, Status: http.StatusTooManyRequests},
		done: true, settled: true},
	{name: "503 before processing", fault: qpaytest.Fault{Status: http.StatusServiceUnavailable}},
	{name: "503 before processing, full refund after an earlier refund", fault: qpaytest.Fault{Status: http.StatusServiceUnavailable},
		earlier: sinopac.TWD(200), amount: 0},
	{name: "503 before processing, a second equal partial refund", fault: qpaytest.Fault{Status: http.StatusServiceUnavailable},
		earlier: sinopac.TWD(200), amount: sinopac.TWD(200)},
	{name: "verified E9900 before processing", fault: qpaytest.Fault{Code: sinopac.CodeBusy}, done: true, settled: true, resent: true},
}

// testClock is the bank's clock: ours plus skew, moved on by the test.
type testClock struct{ off atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// faultBank is the simulator of one case, a client wired to it (through
// the holding gateway when the case has one) and the bank's clock.
type faultBank struct {
	sim   *qpaytest.Server
	c     *sinopac.Client
	clock *testClock
	gw    *holdingGateway
}

func newFaultBank(t *testing.T, tc faultCase, service string) *faultBank {
	t.Helper()
	b := &faultBank{clock: &testClock{}}
	b.clock.advance(tc.skew)
	opts := []qpaytest.Option{qpaytest.WithClock(b.clock.now)}
	if tc.lag > 0 {
		opts = append(opts, qpaytest.WithQueryLag(tc.lag))
	}
	b.sim = qpaytest.NewServer(opts...)
	t.Cleanup(b.sim.Close)
	var copts []sinopac.Option
	if tc.hold {
		b.gw = newHoldingGateway(t, b.sim, service)
		copts = append(copts, sinopac.WithBaseURL(b.gw.URL()))
	}
	c, err := b.sim.NewClient(copts...)
	require.NoError(t, err)
	b.c = c
	return b
}

// inject arms the case's fault for service (a held request is the
// gateway's doing).
func (b *faultBank) inject(tc faultCase, service string) {
	if !tc.hold {
		f := tc.fault
		f.Service = service
		b.sim.InjectFault(f)
	}
}

// catchUp is what following "look again later" means: a held request has
// been forwarded and processed, and the query lag has passed.
func (b *faultBank) catchUp(t *testing.T, tc faultCase) {
	t.Helper()
	if b.gw != nil {
		b.gw.forward(t)
	}
	if tc.lag > 0 {
		b.clock.advance(tc.lag + 2*time.Minute)
	}
}

func callContext(t *testing.T, tc faultCase) context.Context {
	ctx := t.Context()
	if tc.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tc.deadline)
		t.Cleanup(cancel)
	}
	return ctx
}

func TestFaultCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		if tc.earlier != 0 {
			continue // a refund's baseline
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newFaultBank(t, tc, "OrderCreate")
			req := atmOrder("A202611269001", "")
			b.inject(tc, "OrderCreate")

			r, err := b.c.CreateOrder(callContext(t, tc), req)
			stored, exists := b.sim.Order(req.OrderNo)
			require.Equal(t, tc.done && !tc.hold, exists, "the bank's book (%v)", err)
			assert.NotErrorIs(t, err, sinopac.ErrNotProcessed, "the request left: absence is no proof")
			if tc.settled {
				require.NoError(t, err, "the bank created it and OrderQuery shows it")
				assert.Equal(t, !tc.resent, r.Resolved)
				assert.Equal(t, stored.TSNo, r.TSNo)
				assert.Equal(t, req.Amount, r.Amount)
				assert.Equal(t, map[bool]int{false: 1, true: 2}[tc.resent], b.sim.Stats().Requests["OrderCreate"],
					"resent by the SDK only after a verified refusal")
				return
			}
			require.Nil(t, r, "never reported created when the bank did not, or not visibly")
			var u *sinopac.OutcomeUnknownError
			require.ErrorAs(t, err, &u)
			assert.ErrorIs(t, err, sinopac.ErrNoTrace)
			assert.True(t, u.SafeToResend(), "a create is idempotent by OrderNo")
			assert.Contains(t, u.Error(), "sending the same request again is safe")
			assert.False(t, u.CheckAfter.IsZero(), "says when to look again")
			assert.Equal(t, map[bool]int{false: 1, true: 0}[tc.hold], b.sim.Stats().Requests["OrderCreate"],
				"never resent by the SDK (a held one has not arrived yet)")

			// Follow the advice: send the same request again.
			b.catchUp(t, tc)
			r, err = b.c.CreateOrder(t.Context(), req)
			require.NoError(t, err)
			stored, exists = b.sim.Order(req.OrderNo)
			require.True(t, exists)
			assert.Equal(t, stored.TSNo, r.TSNo)
			assert.Equal(t, tc.done, r.Resolved, "the bank's own order, recognised in its E0302")
			assert.Len(t, b.sim.Orders(), 1, "one order, however often the create was sent")
		})
	}
}

func TestFaultRefund(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newFaultBank(t, tc, "OrderMaintain")
			const orderNo = "C202611269001"
			_, err := b.c.CreateOrder(t.Context(), cardOrder(orderNo, "Y"))
			require.NoError(t, err)
			_, err = b.sim.Pay(orderNo)
			require.NoError(t, err)
			if tc.earlier != 0 {
				_, err = b.c.Refund(t.Context(), orderNo, tc.earlier)
				require.NoError(t, err)
			}
			if tc.lag > 0 {
				b.clock.advance(tc.lag + 2*time.Minute) // the order and earlier refunds are visible
			}
			amount := sinopac.TWD(200)
			if tc.earlier != 0 {
				amount = tc.amount
			}
			want := amount
			if want == 0 {
				want = sinopac.TWD(799) - tc.earlier
			}
			before, _ := b.sim.Order(orderNo)
			sent := func() int { return b.sim.Stats().Requests["OrderMaintain"] - len(before.RefundList) }
			b.inject(tc, "OrderMaintain")

			r, err := b.c.Refund(callContext(t, tc), orderNo, amount)
			after, _ := b.sim.Order(orderNo)
			added := len(after.RefundList) - len(before.RefundList)
			require.Equal(t, map[bool]int{false: 0, true: 1}[tc.done && !tc.hold], added, "the bank's book (%v)", err)
			assert.NotErrorIs(t, err, sinopac.ErrNotProcessed, "the request left: absence is no proof")
			if tc.settled {
				require.NoError(t, err, "the bank refunded and OrderQuery shows it")
				assert.Equal(t, !tc.resent, r.Resolved)
				assert.Equal(t, want, r.Amount)
				assert.Equal(t, map[bool]int{false: 1, true: 2}[tc.resent], sent(),
					"resent by the SDK only after a verified refusal")
				return
			}
			require.Nil(t, r, "never reported refunded when the bank did not, or not visibly")
			var u *sinopac.OutcomeUnknownError
			require.ErrorAs(t, err, &u)
			assert.ErrorIs(t, err, sinopac.ErrNoTrace)
			assert.False(t, u.SafeToResend())
			assert.Contains(t, u.Error(), "do not refund again")
			assert.NotContains(t, u.Error(), "safe")
			assert.False(t, u.CheckAfter.IsZero(), "says when to look again")
			assert.Equal(t, map[bool]int{false: 1, true: 0}[tc.hold], sent(),
				"never resent by the SDK (a held one has not arrived yet)")

			// Follow the advice: look again later.
			b.catchUp(t, tc)
			r, err = b.c.ResolveRefund(t.Context(), u)
			after, _ = b.sim.Order(orderNo)
			added = len(after.RefundList) - len(before.RefundList)
			if tc.done {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
				assert.Equal(t, want, r.Amount)
				assert.Equal(t, 1, added)
			} else {
				require.Nil(t, r)
				var again *sinopac.OutcomeUnknownError
				require.ErrorAs(t, err, &again)
				assert.ErrorIs(t, err, sinopac.ErrNoTrace)
				assert.Zero(t, added)
			}
			assert.Equal(t, 1, sent(), "following the advice sends no refund")
		})
	}
}

// holdingGateway is a gateway in front of the simulator that holds the
// first Order request of one APIService until the client has given up on
// it and the test says forward: the bank then acts on a request the client
// saw go unanswered. Every other request passes at once.
type holdingGateway struct {
	srv       *httptest.Server
	sim       *qpaytest.Server
	service   string
	held      atomic.Bool
	release   chan struct{}
	once      sync.Once
	forwarded chan struct{}
	out       *http.Client
}

func newHoldingGateway(t *testing.T, sim *qpaytest.Server, service string) *holdingGateway {
	g := &holdingGateway{sim: sim, service: service, release: make(chan struct{}), forwarded: make(chan struct{}), out: &http.Client{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() {
		g.once.Do(func() { close(g.release) })
		g.srv.Close()
		g.out.CloseIdleConnections()
	})
	return g
}

// URL is the base URL to give the client.
func (g *holdingGateway) URL() string { return g.srv.URL + qpaytest.BasePath }

// forward lets the held request go on and waits until the bank answered it.
func (g *holdingGateway) forward(t *testing.T) {
	t.Helper()
	require.True(t, g.held.Load(), "a request was held")
	g.once.Do(func() { close(g.release) })
	<-g.forwarded
}

func (g *holdingGateway) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var env struct{ APIService string }
	_ = json.Unmarshal(body, &env)
	hold := strings.HasSuffix(r.URL.Path, "/Order") && env.APIService == g.service && g.held.CompareAndSwap(false, true)
	if hold {
		defer close(g.forwarded)
		<-r.Context().Done() // the client gave up
		<-g.release
	}
	req, err := http.NewRequest(http.MethodPost, g.sim.URL()+strings.TrimPrefix(r.URL.Path, qpaytest.BasePath), bytes.NewReader(body))
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := g.out.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(reply)
}

// A held create that the client resends before the gateway forwards the
// first: the resend creates the order, the late one is refused (E0302).
func TestFaultCreateResentBeforeHeldOneArrives(t *testing.T) {
	t.Parallel()
	tc := faultCase{hold: true, deadline: faultDeadline}
	b := newFaultBank(t, tc, "OrderCreate")
	req := atmOrder("A202611269002", "")
	_, err := b.c.CreateOrder(callContext(t, tc), req)
	var u *sinopac.OutcomeUnknownError
	require.ErrorAs(t, err, &u)
	r, err := b.c.CreateOrder(t.Context(), req)
	require.NoError(t, err)
	assert.False(t, r.Resolved)
	b.gw.forward(t)
	assert.Len(t, b.sim.Orders(), 1)
	stored, _ := b.sim.Order(req.OrderNo)
	assert.Equal(t, r.TSNo, stored.TSNo, "the late create changed nothing")
	// Looking again finds the order the resend made: it is this request's.
	r, err = b.c.ResolveCreate(t.Context(), u)
	require.NoError(t, err)
	assert.True(t, r.Resolved)
}

// An E0302 for another order under the OrderNo stays the bank's refusal.
func TestFaultCreateDuplicateOfAnotherOrder(t *testing.T) {
	t.Parallel()
	_, c := e2e(t)
	req := atmOrder("A202611269003", "")
	_, err := c.CreateOrder(t.Context(), req)
	require.NoError(t, err)
	req.Amount = sinopac.TWD(900)
	_, err = c.CreateOrder(t.Context(), req)
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeDuplicateOrder, ae.Code)
	var u *sinopac.OutcomeUnknownError
	assert.False(t, errors.As(err, &u), "a verified E0302 for another order is an answer")
}

// A refund whose reply was lost while the bank's query results lag: the
// SDK says the outcome is unknown, not to refund again, and when to look
// again; ResolveRefund then finds the refund by comparing the order's
// refunds with those before it was sent.
func ExampleClient_ResolveRefund() {
	var waited atomic.Int64 // how far the bank's clock has moved on
	bankClock := func() time.Time { return time.Now().Add(time.Duration(waited.Load())) }
	srv := qpaytest.NewServer(qpaytest.WithClock(bankClock), qpaytest.WithQueryLag(2*time.Minute))
	defer srv.Close()
	srv.AddOrders(sinopac.Order{OrderNo: "C202611260005", TSNo: "NA024900000005", TSDate: sinopac.At(time.Now().Add(-time.Hour)),
		Amount: sinopac.TWD(799), PayType: sinopac.PayTypeCard, PayStatus: "1C400", RefundFlag: "N"})
	c, _ := srv.NewClient()
	ctx := context.Background()

	srv.InjectFault(qpaytest.Fault{Service: "OrderMaintain", DropReply: true})
	_, err := c.Refund(ctx, "C202611260005", sinopac.TWD(200))
	var unknown *sinopac.OutcomeUnknownError
	if !errors.As(err, &unknown) {
		fmt.Println(err)
		return
	}
	fmt.Println("outcome unknown; safe to refund again:", unknown.SafeToResend())

	waited.Store(int64(5 * time.Minute)) // in real life: wait until unknown.CheckAfter
	r, err := c.ResolveRefund(ctx, unknown)
	if err != nil {
		fmt.Println(err)
		return
	}
	o, _ := srv.Order("C202611260005")
	fmt.Println("resolved:", r.Resolved, r.Amount)
	fmt.Println("refunds at the bank:", len(o.RefundList))
	// Output:
	// outcome unknown; safe to refund again: false
	// resolved: true NT$200.00
	// refunds at the bank: 1
}
