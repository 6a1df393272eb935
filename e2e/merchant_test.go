package e2e_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/funbiz-go/sinopac"
)

// merchant is the small shop of the browser tests: /buy creates a card
// order and sends the browser to the bank's card page; /return is its
// ReturnURL, where it verifies the PayToken with OrderPayQuery before it
// says anything; /backend is its BackendURL (the SDK's BackendHandler).
type merchant struct {
	c   *sinopac.Client
	srv *httptest.Server

	mu       sync.Mutex
	backend  []*sinopac.ResponseOrderPayQuery // verified results from the BackendURL
	returned []*sinopac.ResponseOrderPayQuery // verified results from the ReturnURL
}

var returnPage = template.Must(template.New("r").Parse(`<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head><body>
<h1 id="verdict">{{.Verdict}}</h1><p>Order <span id="order-no">{{.OrderNo}}</span></p><p id="detail">{{.Detail}}</p></body></html>`))

func newMerchant(t *testing.T, c *sinopac.Client) *merchant {
	t.Helper()
	m := &merchant{c: c}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /buy", func(w http.ResponseWriter, r *http.Request) {
		no, auto := r.URL.Query().Get("no"), r.URL.Query().Get("auto")
		created, err := c.CreateOrder(r.Context(), sinopac.OrderCreateRequest{
			OrderNo: no, Amount: sinopac.TWD(1280), PayType: sinopac.PayTypeCard,
			CardParam: &sinopac.CardParamRequest{AutoBilling: auto}, PrdtName: "藍牙耳機 Bluetooth earbuds",
			ReturnURL: m.srv.URL + "/return", BackendURL: m.srv.URL + "/backend",
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, created.CardParam.CardPayURL, http.StatusSeeOther)
	})
	mux.HandleFunc("POST /return", func(w http.ResponseWriter, r *http.Request) {
		shopNo, token, err := sinopac.ParseReturnNotification(r)
		if err != nil || shopNo != c.ShopNo() {
			http.Error(w, "bad return", http.StatusBadRequest)
			return
		}
		pq, err := c.QueryPayment(r.Context(), token)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		m.mu.Lock()
		m.returned = append(m.returned, pq)
		m.mu.Unlock()
		v := struct{ Verdict, OrderNo, Detail string }{"checking", pq.TSResultContent.OrderNo, pq.TSResultContent.Description}
		switch {
		case pq.Paid():
			v.Verdict = "paid"
		case pq.Failed():
			v.Verdict = "failed"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = returnPage.Execute(w, v)
	})
	mux.Handle("POST /backend", c.BackendHandler(func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.backend = append(m.backend, n)
		return nil
	}))
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchant) buyURL(orderNo, autoBilling string) string {
	return fmt.Sprintf("%s/buy?no=%s&auto=%s", m.srv.URL, orderNo, autoBilling)
}
