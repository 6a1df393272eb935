package sinopac

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill gives every field a distinct value, recursively: strings, amounts,
// times, pointers and one-element slices, so that a field the one-pass
// reader forgot decodes differently from encoding/json.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Type() {
	case reflect.TypeFor[Amount]():
		v.SetInt(int64(*n) * 100)
		return
	case reflect.TypeFor[Timestamp]():
		v.Set(reflect.ValueOf(At(time.Date(2026, 1, 1, 0, *n, 0, 0, Taipei))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), n)
	case reflect.Struct:
		for i := range v.NumField() {
			if tag := v.Type().Field(i).Tag.Get("json"); tag != "" && tag != "-" {
				fill(v.Field(i), n)
			}
		}
	}
}

func TestReplyDecodeEveryField(t *testing.T) {
	for _, pair := range replyTypes {
		full, got := pair()
		n := 0
		fill(reflect.ValueOf(full).Elem(), &n)
		t.Run(fmt.Sprintf("%T", full), func(t *testing.T) {
			b, err := json.Marshal(full)
			require.NoError(t, err)
			_, decodeErr, err := readReply(b, got)
			require.NoError(t, err)
			require.NoError(t, decodeErr)
			assert.Equal(t, full, got)
		})
	}
}

// The fold lists hold exactly the names the field methods switch on: a
// member in another case reaches the same field.
func TestReplyDecodeFoldedNames(t *testing.T) {
	for _, pair := range replyTypes {
		full, _ := pair()
		n := 0
		fill(reflect.ValueOf(full).Elem(), &n)
		b, err := json.Marshal(full)
		require.NoError(t, err)
		var generic map[string]any
		require.NoError(t, json.Unmarshal(b, &generic))
		lower := lowerKeys(generic)
		lb, err := json.Marshal(lower)
		require.NoError(t, err)
		got, want := pair()
		_, decodeErr, err := readReply(lb, got)
		require.NoError(t, err)
		require.NoError(t, decodeErr)
		require.NoError(t, json.Unmarshal(lb, want))
		assert.Equal(t, want, got)
		assert.Equal(t, full, got, "%T: every field read under a lower-case name", full)
	}
}

func lowerKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[toLowerASCII(k)] = lowerKeys(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = lowerKeys(x[i])
		}
	}
	return v
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

// A 300-order page allocates its orders and what they point to (here
// every order has all three parameter structs and a RefundList), not a
// value per string.
func TestReplyDecodeAllocations(t *testing.T) {
	var page ResponseOrderQuery
	n := 0
	fill(reflect.ValueOf(&page).Elem(), &n)
	for len(page.OrderList) < 300 {
		var o Order
		fill(reflect.ValueOf(&o).Elem(), &n)
		page.OrderList = append(page.OrderList, o)
	}
	plain, err := json.Marshal(&page)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(5, func() {
		var r ResponseOrderQuery
		_, decodeErr, err := readReply(plain, &r)
		if err != nil || decodeErr != nil || len(r.OrderList) != 300 {
			t.Fatal(err, decodeErr)
		}
	})
	// 4 per order, the order slice's growth, the string copy, the members.
	assert.Less(t, allocs, 4*300+30.0)
	t.Logf("%d bytes, %.0f allocations", len(plain), allocs)
}

// marshalEnvelope writes what json.Marshal writes, for plain envelopes
// and for every field that needs escaping.
func TestMarshalEnvelope(t *testing.T) {
	env := APIMessage{Version: Version, ShopNo: "NA0249_001", APIService: "OrderQuery",
		Sign: "A1B2", Nonce: "NjM4MDk5MzEy+/=", Message: "00FF"}
	for _, odd := range []string{"", `"`, `\`, "<", ">", "&", "\n", "\x7f", "é", "\u2028", "\xff"} {
		for i := range 6 {
			e := env
			p := [...]*string{&e.Version, &e.ShopNo, &e.APIService, &e.Sign, &e.Nonce, &e.Message}[i]
			*p += odd
			want, err := json.Marshal(&e)
			require.NoError(t, err)
			got, err := marshalEnvelope(&e)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		}
	}
}
