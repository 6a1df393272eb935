package sinopac

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// billReply seals a BillQuery reply with the given lines.
func billReply(t *testing.T, lines string) *mockBank {
	t.Helper()
	bank := newMockBank(t)
	bank.replyOrder(func(req recorded) *reply {
		assert.Equal(t, "BillQuery", req.Env.APIService)
		return sealedReply(json.RawMessage(`{"ShopNo":"NA0249_001","Date":"202611260900","Status":"S",` +
			`"Description":"S0000 – 處理成功","BillDate":"20261120","OrderList":[` + lines + `]}`))
	})
	return bank
}

func TestDiffBillRefusesUnknownTSType(t *testing.T) {
	t.Parallel()
	bank := billReply(t, `{"TSNo":"T1","OrderNo":"A1","TSType":"P","Amount":10000},{"TSNo":"T2","OrderNo":"A2","TSType":"X","Amount":10000}`)
	d, err := bank.client(WithRetryPolicy(fastRetry)).DiffBill(t.Context(), time.Now().AddDate(0, 0, -3), slices.Values([]LedgerEntry{}))
	assert.Nil(t, d, "no diff that leaves a line out")
	var me *MessageError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "BillQuery", me.Service)
	assert.Contains(t, me.Reason, `OrderList[1] has TSType "X"`)
}
