package qpaytest_test

import (
	"context"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBillAndAllotQueryRefusals(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	for _, tc := range []struct {
		service string
		req     map[string]any
	}{
		{"BillQuery", map[string]any{"BillDate": "2026-11-01"}},
		{"BillQuery", map[string]any{"BillDate": time.Now().In(sinopac.Taipei).AddDate(0, 0, -31).Format("20060102")}},
		{"AllotQuery", map[string]any{"AllotDateS": "20261101", "AllotDateE": "20261102"}},
		{"AllotQuery", map[string]any{"AllotDateS": "20261103", "AllotDateE": "20261102", "PayType": "C"}},
	} {
		tc.req["ShopNo"] = srv.ShopNo()
		_, err := c.Call(t.Context(), tc.service, tc.req)
		var ae *sinopac.APIError
		require.ErrorAs(t, err, &ae, "%v", tc.req)
		assert.Equal(t, sinopac.CodeBadFormat, ae.Code)
	}
	_, err := c.Call(context.Background(), "OrderUnCapturedQuery", map[string]any{"ShopNo": "XX0001_001"})
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeShopWrong, ae.Code)
}
