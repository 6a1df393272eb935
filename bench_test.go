package sinopac_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/require"
)

// Benchmarks of BENCHMARKS.md. Reproduce them with
//
//	go test -run '^$' -bench 'Open|Seal|QueryOrders$|Prefetch' -benchmem -benchtime 200x .
//
// and the range walks, whose iterations are seeds or whole walks, with
//
//	go test -run '^$' -bench 'QueryAllOrdersCalls' -benchtime 30x .
//	go test -run '^$' -bench 'AllOrders60k' -benchmem -benchtime 3x .

const benchNonce = "NjM4MDk5MzEyMjU1NTUuMTIzNDU2Nzg5MDpCRU5DSA=="

// reply300 is a realistic full OrderQuery page: 300 orders of every pay
// type with their parameters, Chinese product names and some refunds.
func reply300() map[string]any {
	orders := make([]map[string]any, 300)
	day := time.Date(2026, 10, 1, 9, 0, 0, 0, sinopac.Taipei)
	for i := range orders {
		at := day.Add(time.Duration(i) * 97 * time.Minute)
		o := map[string]any{
			"OrderNo": fmt.Sprintf("A2026100%05d", i), "TSNo": fmt.Sprintf("NA02490%07d", 100000+i),
			"TSDate": at.Format("200601021504"), "Amount": (i%40 + 1) * 19900,
			"ExpireDate": at.Add(72 * time.Hour).Format("200601021504"), "RefundFlag": "N",
			"RefundStatus": "", "RefundDate": "", "RefundAmount": 0,
			"PrdtName": fmt.Sprintf("豐收款測試商品－第%d號（限量款）", i), "Memo": "備註：請於期限內付款",
			"Param1": fmt.Sprintf("member=%d", 7000+i), "Param2": "campaign=autumn-2026", "Param3": "",
			"ApprovedDate": "", "PayDate": "",
		}
		switch i % 3 {
		case 0:
			o["PayType"], o["PayStatus"] = "A", []string{"1A200", "1A400", "1A250", "1A900"}[i%4]
			o["ATMParam"] = map[string]any{"AtmPayNo": fmt.Sprintf("99922530%06d", i), "WebAtmURL": fmt.Sprintf("https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=NA02490%07d&TK=3f9c1e2a-6b7d-4e1f-8a2b-%012d", 100000+i, i),
				"OtpURL": "", "BankNo": "807", "AcctNo": "01700100003411"}
		case 1:
			o["PayType"], o["PayStatus"] = "C", []string{"1C200", "1C300", "1C400", "1C900"}[i%4]
			o["CardParam"] = map[string]any{"CardPayURL": fmt.Sprintf("https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayCard?TD=NA02490%07d&TK=8c1d", 100000+i),
				"StagingFirstAmount": "", "StagingEachAmount": "", "BonusCount": "", "BonusAmount": "", "BonusPayAmount": "", "BonusLastCount": "",
				"LeftCCNo": "414352", "RightCCNo": "0127", "AuthCode": fmt.Sprintf("%06d", 100000+i), "CCExpDate": "1235", "CCToken": ""}
		default:
			o["PayType"], o["PayStatus"] = "M", []string{"1M200", "1M400", "1M250", "1M900"}[i%4]
			o["MobileParam"] = map[string]any{"MobilePayURL": "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayMobile?TD=x", "LeftCCNo": "414352", "RightCCNo": "0127", "AuthCode": "654321", "Paymenthod": "A"}
		}
		if st := o["PayStatus"].(string); st[2:] == "400" || st[2:] == "900" {
			o["PayDate"] = at.Add(35 * time.Minute).Format("200601021504")
			o["ApprovedDate"] = o["PayDate"]
		}
		if i%25 == 0 {
			o["RefundFlag"], o["RefundStatus"], o["RefundAmount"] = "Y", "2C900", 19900
			o["RefundDate"] = at.Add(48 * time.Hour).Format("200601021504")
			o["RefundList"] = []any{map[string]any{"RefundNo": fmt.Sprintf("R%07d", i), "RefundDate": o["RefundDate"], "RefundAmount": 19900, "RefundStatus": "2C900"}}
		}
		orders[i] = o
	}
	return map[string]any{"ShopNo": qpaytest.DemoShopNo, "Date": "202610312359", "Status": "S", "Description": "S0000 – 處理成功", "OrderList": orders}
}

// page300 is a full page as the client receives it: the sealed envelope
// as JSON, and its plaintext.
func page300(b *testing.B) (body, plain []byte, hashID string) {
	b.Helper()
	hashID, err := qpaytest.DemoKeys.HashID()
	if err != nil {
		b.Fatal(err)
	}
	env, err := sinopac.Seal("OrderQuery", qpaytest.DemoShopNo, reply300(), benchNonce, hashID)
	if err != nil {
		b.Fatal(err)
	}
	// The benchmark must decode what it claims to: 300 orders.
	plain, err = env.Open(hashID)
	if err != nil {
		b.Fatal(err)
	}
	var r sinopac.ResponseOrderQuery
	if err := json.Unmarshal(plain, &r); err != nil || len(r.OrderList) != 300 || !r.Truncated() || r.OrderList[1].CardParam == nil {
		b.Fatalf("bad fixture: %v", err)
	}
	body, err = json.Marshal(env)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC() // start each benchmark from the same heap, not the fixture's garbage
	return body, plain, hashID
}

func benchClient(b *testing.B) *sinopac.Client {
	c, err := sinopac.NewClient(qpaytest.DemoShopNo, qpaytest.DemoKeys, sinopac.WithBaseURL("http://127.0.0.1:1/api"))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkOpenOrderQuery300 is what the client does with a full page as
// it comes off the wire: read the envelope, decode the hex and decrypt,
// verify the Sign, decode into ResponseOrderQuery. Its ns/op and allocs/op
// are that alone. In the same loop, call by call, it runs plain
// encoding/json.Unmarshal of the same plaintext into the same type (no
// envelope, no hex, no AES, no Sign), timed apart, and reports the
// medians of both, their ratio (ns-ratio), the baseline's allocations and
// that ratio (allocs-ratio). The target is ≤ 0.5 for both: verified
// decoding cheaper than unverified encoding/json.
func BenchmarkOpenOrderQuery300(b *testing.B) {
	body, plain, _ := page300(b)
	c := benchClient(b)
	open := func() {
		var r sinopac.ResponseOrderQuery
		if err := c.OpenOrderQueryReply(body, &r); err != nil || len(r.OrderList) != 300 {
			b.Fatal(err)
		}
	}
	baseline := func() {
		var r sinopac.ResponseOrderQuery
		if err := json.Unmarshal(plain, &r); err != nil {
			b.Fatal(err)
		}
	}
	openAllocs, baseAllocs := testing.AllocsPerRun(10, open), testing.AllocsPerRun(10, baseline)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var sdk, v1 []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		open()
		sdk = append(sdk, time.Since(start))
		b.StopTimer()
		start = time.Now()
		baseline()
		v1 = append(v1, time.Since(start))
		b.StartTimer()
	}
	b.StopTimer()
	p50 := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	b.ReportMetric(float64(p50(sdk)), "open-p50-ns")
	b.ReportMetric(float64(p50(v1)), "json-p50-ns")
	b.ReportMetric(float64(p50(sdk))/float64(p50(v1)), "ns-ratio")
	b.ReportMetric(baseAllocs, "json-allocs")
	b.ReportMetric(openAllocs/baseAllocs, "allocs-ratio")
}

// BenchmarkOpenOrderQuery300Before is the same page through the steps the
// client took before it read replies once (v0 in BENCHMARKS.md), built
// from the public API: encoding/json for the envelope, OpenReply (decrypt,
// scan, verify), encoding/json again for the typed reply.
func BenchmarkOpenOrderQuery300Before(b *testing.B) {
	body, _, hashID := page300(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var env sinopac.APIMessage
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
		plain, err := env.OpenReply(hashID)
		if err != nil {
			b.Fatal(err)
		}
		var r sinopac.ResponseOrderQuery
		if err := json.Unmarshal(plain, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealOrderQuery seals a typical OrderQuery request.
func BenchmarkSealOrderQuery(b *testing.B) {
	hashID, _ := qpaytest.DemoKeys.HashID()
	req := struct {
		ShopNo         string `json:"ShopNo"`
		PayType        string `json:"PayType,omitempty"`
		OrderDateTimeS string `json:"OrderDateTimeS,omitempty"`
		OrderDateTimeE string `json:"OrderDateTimeE,omitempty"`
		PayFlag        string `json:"PayFlag,omitempty"`
	}{qpaytest.DemoShopNo, "A", "202610010000", "202610312359", "Y"}
	b.ReportAllocs()
	for range b.N {
		if _, err := sinopac.Seal("OrderQuery", qpaytest.DemoShopNo, req, benchNonce, hashID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryOrders is one single-order QueryOrders end to end against
// qpaytest on loopback: nonce, seal, POST, verify, decode. The simulator
// runs in the same process, so B/op and allocs/op include its side too.
func BenchmarkQueryOrders(b *testing.B) {
	s := qpaytest.NewServer(qpaytest.WithDemoData())
	defer s.Close()
	c, err := s.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	q := sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := c.QueryOrders(b.Context(), q)
		if err != nil || len(r.OrderList) != 1 || r.OrderList[0].Amount != sinopac.TWD(799) {
			b.Fatalf("%v %+v", err, r)
		}
	}
}

// BenchmarkPrefetchLatency measures the latency of single-order
// QueryOrders calls with the simulator adding 20 ms to every request,
// without and with WithNoncePrefetch, alternating call by call so both see
// the same machine. It reports each median and their ratio (the target is
// ≤ 0.6: one round trip instead of two).
func BenchmarkPrefetchLatency(b *testing.B) {
	const latency = 20 * time.Millisecond
	s := qpaytest.NewServer(qpaytest.WithDemoData(), qpaytest.WithLatency(latency))
	defer s.Close()
	plain, err := s.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	prefetch, err := s.NewClient(sinopac.WithNoncePrefetch(2))
	if err != nil {
		b.Fatal(err)
	}
	q := sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}
	call := func(c *sinopac.Client) time.Duration {
		start := time.Now()
		if _, err := c.QueryOrders(b.Context(), q); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	call(prefetch) // fills the pool, as any long-running client's first call does
	var withoutPool, withPool []time.Duration
	b.ResetTimer()
	for range b.N {
		withoutPool = append(withoutPool, call(plain))
		withPool = append(withPool, call(prefetch))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	without, with := p50(withoutPool), p50(withPool)
	b.ReportMetric(float64(without)/1e6, "p50-ms-without")
	b.ReportMetric(float64(with)/1e6, "p50-ms-prefetch")
	b.ReportMetric(float64(with)/float64(without), "p50-ratio")
	if st := s.Stats(); st.NoncesReused != 0 || st.NoncesExpired != 0 {
		b.Fatalf("nonces reused %d, expired %d", st.NoncesReused, st.NoncesExpired)
	}
}

// BenchmarkQueryAllOrdersCalls counts the OrderQuery calls QueryAllOrders
// makes for N orders spread over October 2026, against the least possible,
// ceil(N/300). Every iteration is one seed (one set of orders, one random
// stream for the random server), so -benchtime 30x averages 30 sets. The
// servers: the fake bank returning the earliest, latest, an arbitrary
// (random, fresh on every call) or the first-by-OrderNo 300 of a full page,
// and qpaytest (the earliest by TSDate). It reports the mean and the worst
// ratio, and the mean calls; ns/op is the walk's time on loopback. The
// daily cases put 80 % of the orders between 09:00 and 21:00, as shops
// sell (dailyOrders).
func BenchmarkQueryAllOrdersCalls(b *testing.B) {
	type tc struct {
		server string
		n      int
		daily  bool
	}
	var cases []tc
	for _, server := range []string{"earliest", "latest", "random", "orderno", "qpaytest"} {
		cases = append(cases, tc{server, 1000, false}, tc{server, 10000, false})
	}
	cases = append(cases, tc{"earliest", 10000, true}, tc{"random", 10000, true})
	for _, tc := range cases {
		server, n := tc.server, tc.n
		name := fmt.Sprintf("%s/%d", server, n)
		if tc.daily {
			name += "/daily"
		}
		b.Run(name, func(b *testing.B) {
			minCalls := math.Ceil(float64(n) / sinopac.MaxOrdersPerQuery)
			var sum, worst float64
			for i := range b.N {
				seed := uint64(1000*n + i)
				orders := spreadOrders(n, seed)
				if tc.daily {
					orders = dailyOrders(n, seed)
				}
				var c *sinopac.Client
				var calls func() int
				if server == "qpaytest" {
					sim := qpaytest.NewServer()
					sim.AddOrders(orders...)
					var err error
					if c, err = sim.NewClient(); err != nil {
						b.Fatal(err)
					}
					calls = func() int { return sim.Stats().Requests["OrderQuery"] }
					b.Cleanup(sim.Close)
				} else {
					var bank *fakeBank
					bank, c = newFakeBank(b, orders, pageOrder(server))
					bank.rnd = rand.New(rand.NewPCG(seed, 3))
					calls = func() int { return bank.calls }
				}
				got, err := c.QueryAllOrders(b.Context(), octoberQuery())
				if err != nil || len(got) != n {
					b.Fatalf("seed %d: %d of %d orders, %v", seed, len(got), n, err)
				}
				ratio := float64(calls()) / minCalls
				sum += ratio
				worst = max(worst, ratio)
			}
			b.ReportMetric(sum/float64(b.N), "ratio-mean")
			b.ReportMetric(worst, "ratio-max")
			b.ReportMetric(sum/float64(b.N)*minCalls, "calls-mean")
		})
	}
}

// dailyOrders makes n orders over October 2026 as a shop sells: 80 % of
// them between 09:00 and 21:00 (Taipei), the rest at night.
func dailyOrders(n int, seed uint64) []sinopac.Order {
	rnd := rand.New(rand.NewPCG(seed, 1))
	mins := int(october.AddDate(0, 1, 0).Sub(october) / time.Minute)
	types := []sinopac.PayType{"A", "C", "M", "P"}
	sfx := []string{"200", "400", "250"}
	out := make([]sinopac.Order, n)
	for i := range out {
		m := rnd.IntN(mins)
		// Night minutes are kept one time in four: 12 busy hours hold 4×12
		// parts against 12 quiet hours' 1×12.
		for h := m / 60 % 24; (h < 9 || h >= 21) && rnd.IntN(4) != 0; h = m / 60 % 24 {
			m = rnd.IntN(mins)
		}
		out[i] = fakeOrder(fmt.Sprintf("D%08X%05d", rnd.Uint32(), i), october.Add(time.Duration(m)*time.Minute), types[rnd.IntN(4)], sfx[rnd.IntN(3)])
	}
	return out
}

// BenchmarkQueryAllOrders60k collects 60,000 orders from qpaytest (spread
// over October 2026) with QueryAllOrders. ns/op, B/op and allocs/op are the
// timed walks; then one more walk, untimed, samples the live heap above the
// starting point after every 8th page and once it has returned, holding
// the result (see liveHeap), and reports the peak as peak-live-MB. B/op
// and allocs/op include the in-process simulator's side.
// BenchmarkAllOrders60k (queryall_sim_test.go) streams the same range.
// This one compiles against the walk before AllOrders too, for the
// before/after of BENCHMARKS.md.
func BenchmarkQueryAllOrders60k(b *testing.B) {
	const n = 60000
	_, c := heapSim(b, n)
	collect := func(opts ...sinopac.QueryAllOption) []sinopac.Order {
		all, err := c.QueryAllOrders(b.Context(), octoberQuery(), opts...)
		if err != nil || len(all) != n {
			b.Fatalf("%d orders, %v", len(all), err)
		}
		return all
	}
	runtime.GC() // from the same heap as the stream, not the setup's garbage
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		collect()
	}
	b.StopTimer()
	h := newHeapMeter(8)
	all := collect(h.option())
	h.sample()
	runtime.KeepAlive(all)
	b.ReportMetric(float64(h.peak)/1e6, "peak-live-MB")
}

// liveHeap forces a complete collection and returns the live heap, in
// bytes: what the process holds, not the garbage a collection has yet to
// free. A count of bytes, it does not depend on the machine's speed or
// load (a sampled HeapInuse does: it rises with whatever the collector has
// not reached yet).
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapMeter records the peak of the live heap above base, sampled after
// every pages-th page (WithProgress runs between pages, while the next
// ones are in flight) and when sample is called.
type heapMeter struct {
	base, peak uint64
	every      int
}

func newHeapMeter(every int) *heapMeter { return &heapMeter{base: liveHeap(), every: every} }

func (h *heapMeter) sample() {
	if l := liveHeap(); l > h.base {
		h.peak = max(h.peak, l-h.base)
	}
}

func (h *heapMeter) option() sinopac.QueryAllOption {
	return sinopac.WithProgress(func(p sinopac.Progress) {
		if p.Pages%h.every == 0 {
			h.sample()
		}
	})
}

// heapSim is qpaytest with n orders spread over October 2026, their
// OrderNo ending in their index.
func heapSim(tb testing.TB, n int) (*qpaytest.Server, *sinopac.Client) {
	tb.Helper()
	sim := qpaytest.NewServer()
	tb.Cleanup(sim.Close)
	sim.AddOrders(spreadOrders(n, uint64(n))...)
	c, err := sim.NewClient()
	require.NoError(tb, err)
	return sim, c
}

// orderIndex is the index spreadOrders gave the order (R, 8 hex digits,
// the index).
func orderIndex(tb testing.TB, o sinopac.Order) int {
	i, err := strconv.Atoi(o.OrderNo[9:])
	require.NoError(tb, err, o.OrderNo)
	return i
}
