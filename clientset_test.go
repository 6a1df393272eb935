package sinopac_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two shops, each with its own keys and its own bank (simulator).
var (
	shopA = "NA0001_001"
	shopB = "NA0002_001"
	keysA = sinopac.HashKeys{A1: "1F2E3D4C5B6A7988", A2: "0A1B2C3D4E5F6071", B1: "C0FFEE1234567890", B2: "7788990011AABBCC"}
	keysB = sinopac.HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}
)

// twoShops starts a bank per shop, each with one paid order (A1 at shop
// A, B1 at shop B) announced by token PT-A or PT-B, and an unpaid order
// (B2, token PT-B2) at shop B.
func twoShops(t *testing.T) (set *sinopac.ClientSet, bankA, bankB *qpaytest.Server) {
	t.Helper()
	bankA = qpaytest.NewServer(qpaytest.WithShop(shopA, keysA))
	t.Cleanup(bankA.Close)
	bankB = qpaytest.NewServer(qpaytest.WithShop(shopB, keysB))
	t.Cleanup(bankB.Close)
	order := func(no string, status sinopac.PayStatus) sinopac.Order {
		return sinopac.Order{OrderNo: no, TSNo: "TS" + no, Amount: sinopac.TWD(500), PayType: sinopac.PayTypeATM, PayStatus: status, RefundFlag: "N"}
	}
	bankA.AddOrders(order("A1", "1A400"))
	bankA.RegisterPayToken("PT-A", "A1", sinopac.APTypePayOut)
	bankB.AddOrders(order("B1", "1A400"), order("B2", "1A200"))
	bankB.RegisterPayToken("PT-B", "B1", sinopac.APTypePayOut)
	bankB.RegisterPayToken("PT-B2", "B2", sinopac.APTypePayOut)
	var clients []*sinopac.Client
	for _, bank := range []*qpaytest.Server{bankA, bankB} {
		c, err := bank.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))
		require.NoError(t, err)
		clients = append(clients, c)
	}
	set, err := sinopac.NewClientSet(clients...)
	require.NoError(t, err)
	return set, bankA, bankB
}

func payQueries(b *qpaytest.Server) int { return b.Stats().Requests["OrderPayQuery"] }

func TestClientSet(t *testing.T) {
	t.Parallel()
	set, _, _ := twoShops(t)
	assert.Equal(t, []string{shopA, shopB}, set.Shops())
	c, err := set.Client(t.Context(), shopB)
	require.NoError(t, err)
	assert.Equal(t, shopB, c.ShopNo())
	_, err = set.Client(t.Context(), "NA0003_001")
	assert.ErrorIs(t, err, sinopac.ErrUnknownShop)

	_, err = sinopac.NewClientSet(c, c)
	var ve *sinopac.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "ClientSet", ve.Field)
	_, err = sinopac.NewClientSet(c, nil)
	require.ErrorAs(t, err, &ve)
}

// One BackendURL for two shops: each notification is asked of its own
// shop's bank; a ShopNo pointing shop A's token at shop B is answered by
// B's bank, which does not know it; an unknown shop reaches no bank.
func TestClientSetBackendHandler(t *testing.T) {
	t.Parallel()
	set, bankA, bankB := twoShops(t)
	var mu sync.Mutex
	var got []string // ShopNo/OrderNo/paid of every result fn saw
	h := set.BackendHandler(func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
		mu.Lock()
		defer mu.Unlock()
		paid := "unpaid"
		if n.Paid() {
			paid = "paid"
		}
		got = append(got, n.ShopNo+"/"+n.TSResultContent.OrderNo+"/"+n.PayToken+"/"+paid)
		return nil
	})
	cases := []struct {
		name           string
		body           string
		status         int
		answer         string
		saw            string // what fn saw; "" it did not run
		askedA, askedB int    // OrderPayQuery requests at each bank
	}{
		{"shop A", `{"ShopNo":"NA0001_001","PayToken":"PT-A"}`, 200, `{"Status":"S"}`, "NA0001_001/A1/PT-A/paid", 1, 0},
		{"shop B", `{"ShopNo":"NA0002_001","PayToken":"PT-B"}`, 200, `{"Status":"S"}`, "NA0002_001/B1/PT-B/paid", 0, 1},
		{"shop B, not paid yet", `{"ShopNo":"NA0002_001","PayToken":"PT-B2"}`, 202, `{"Status":"F"}`, "NA0002_001/B2/PT-B2/unpaid", 0, 1},
		{"forged: shop A's token sent as shop B's", `{"ShopNo":"NA0002_001","PayToken":"PT-A"}`, 400, `{"Status":"F"}`, "", 0, 1},
		{"forged: shop B's token sent as shop A's", `{"ShopNo":"NA0001_001","PayToken":"PT-B"}`, 400, `{"Status":"F"}`, "", 1, 0},
		{"unknown shop", `{"ShopNo":"NA0003_001","PayToken":"PT-A"}`, 400, `{"Status":"F"}`, "", 0, 0},
		{"no shop", `{"PayToken":"PT-A"}`, 400, `{"Status":"F"}`, "", 0, 0},
	}
	for _, tc := range cases { // sequential: the banks' counters are shared
		mu.Lock()
		got = nil
		mu.Unlock()
		a0, b0 := payQueries(bankA), payQueries(bankB)
		r := httptest.NewRequest(http.MethodPost, "/qpay/notify", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, tc.status, w.Code, tc.name)
		assert.Equal(t, tc.answer, w.Body.String(), tc.name)
		mu.Lock()
		if tc.saw == "" {
			assert.Empty(t, got, tc.name)
		} else {
			assert.Equal(t, []string{tc.saw}, got, tc.name)
		}
		mu.Unlock()
		assert.Equal(t, tc.askedA, payQueries(bankA)-a0, "%s: requests at shop A's bank", tc.name)
		assert.Equal(t, tc.askedB, payQueries(bankB)-b0, "%s: requests at shop B's bank", tc.name)
	}
}

// The set's handler answers like a Client's (they share one
// implementation): options, the merchant function's error, bad input.
func TestClientSetBackendHandlerLikeClient(t *testing.T) {
	t.Parallel()
	set, _, _ := twoShops(t)
	cB, err := set.Client(t.Context(), shopB)
	require.NoError(t, err)
	for _, body := range []string{
		`{"ShopNo":"NA0002_001","PayToken":"PT-B"}`, `{"ShopNo":"NA0002_001","PayToken":"PT-B2"}`,
		`{"ShopNo":"NA0002_001","PayToken":"PT-nope"}`, `{"ShopNo":"NA0002_001"}`, `garbage`,
	} {
		for _, opts := range [][]sinopac.HandlerOption{nil, {sinopac.AcknowledgeFailed()}} {
			for _, fnErr := range []error{nil, errors.New("db down")} {
				fn := func(context.Context, *sinopac.ResponseOrderPayQuery) error { return fnErr }
				serve := func(h http.Handler) (int, string) {
					r := httptest.NewRequest(http.MethodPost, "/qpay/notify", strings.NewReader(body))
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					return w.Code, w.Body.String()
				}
				wantCode, wantBody := serve(cB.BackendHandler(fn, opts...))
				code, answer := serve(set.BackendHandler(fn, opts...))
				assert.Equal(t, wantCode, code, "%s %d %v", body, len(opts), fnErr)
				assert.Equal(t, wantBody, answer, "%s %d %v", body, len(opts), fnErr)
			}
		}
	}
}

// End to end: both banks post their own notifications to one merchant URL.
func TestClientSetBackendHandlerEndToEnd(t *testing.T) {
	t.Parallel()
	set, bankA, bankB := twoShops(t)
	results := make(chan string, 4)
	merchant := httptest.NewServer(set.BackendHandler(sinopac.NewDeduper(0, 0).Once(
		func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
			if n.Paid() {
				results <- n.ShopNo + "/" + n.TSResultContent.OrderNo
			}
			return nil
		})))
	t.Cleanup(merchant.Close)
	order := func(no string) sinopac.Order {
		return sinopac.Order{OrderNo: no, TSNo: "TS" + no, Amount: sinopac.TWD(800), PayType: sinopac.PayTypeATM, PayStatus: "1A200", RefundFlag: "N"}
	}
	for bank, no := range map[*qpaytest.Server]string{bankA: "A7", bankB: "B7"} {
		bank.AddOrders(order(no))
		require.NoError(t, bank.SetCallbackURLs(no, "", merchant.URL+"/qpay/notify"))
		_, err := bank.Pay(no)
		require.NoError(t, err)
	}
	var got []string
	for range 2 {
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(time.Minute): // a bound for failure, not a wait for success
			t.Fatal("a notification never arrived")
		}
	}
	assert.ElementsMatch(t, []string{shopA + "/A7", shopB + "/B7"}, got)
}
