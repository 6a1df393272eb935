package qpaytest

import (
	"encoding/json"

	"github.com/funbiz-go/sinopac"
)

// handlerFunc serves one APIService. It gets a request whose nonce and
// Sign were verified and returns the reply object, which the server
// encodes (no HTML escaping), signs and seals. Use s.ok / s.fail for the
// Status and Description fields. A handler must not block: it may take
// s.mu only through the book helpers (see doc.go).
type handlerFunc func(s *Server, req *request) any

// handlers is the dispatch map: one line per APIService, each handler in
// the file named after its service. Unknown services get E3401.
var handlers = map[string]handlerFunc{
	"OrderQuery":    (*Server).orderQuery,
	"OrderPayQuery": (*Server).orderPayQuery,

	"OrderCreate":          (*Server).orderCreate,
	"OrderMaintain":        (*Server).orderMaintain,
	"OrderUnCapturedQuery": (*Server).orderUnCapturedQuery,
	"BillQuery":            (*Server).billQuery,
	"AllotQuery":           (*Server).allotQuery,
}

// request is one verified call.
type request struct {
	Service string // APIService
	ShopNo  string // envelope ShopNo (equal to the server's shop)
	Body    []byte // the decrypted, verified request JSON
}

// decode unmarshals the request JSON into v.
func (r *request) decode(v any) error { return json.Unmarshal(r.Body, v) }

// result is the Status/Description pair every reply carries.
type result struct {
	Status      string `json:"Status"`
	Description string `json:"Description"`
}

// ok is the success result for code (sinopac.CodeOK or CodeNoData).
func ok(code string) result { return result{Status: "S", Description: description(code)} }

// failed is the failure result for code.
func failed(code string) result { return result{Status: "F", Description: description(code)} }

// failReply is the whole sealed reply of a refused call.
type failReply struct {
	ShopNo string `json:"ShopNo"`
	Date   string `json:"Date"`
	result
}

// fail is the sealed reply for a call refused with code.
func (s *Server) fail(code string) any {
	return failReply{ShopNo: s.cfg.shopNo, Date: wireMinute(s.now()), result: failed(code)}
}

// descriptions are the bank's texts for the codes the simulator sends
// (spec §10.1). The separator is an EN DASH with spaces, as the bank's.
var descriptions = map[string]string{
	sinopac.CodeOK:              "處理成功",
	sinopac.CodeNoData:          "處理成功，查無資料",
	sinopac.CodeBadSign:         "安全簽章錯誤",
	sinopac.CodeBadFormat:       "請求格式錯誤",
	sinopac.CodeShopWrong:       "商店代號錯誤",
	sinopac.CodeShopUnknown:     "商店代號不存在",
	sinopac.CodeDuplicateOrder:  "訂單編號重複",
	sinopac.CodeAmount:          "金額錯誤",
	"E1901":                     "訂單日期格式錯誤",
	"E1903":                     "訂單起訖日期皆須輸入",
	"E1904":                     "訂單起日不可大於迄日",
	sinopac.CodeNoCondition:     "訂單查詢條件不足",
	sinopac.CodeQueryFailed:     "查詢失敗",
	sinopac.CodePayTokenInvalid: "付款查詢 Token 錯誤",
	sinopac.CodeNotFound:        "資料不存在",
	sinopac.CodeNonceError:      "Nonce 錯誤",
	sinopac.CodeNonceInvalid:    "Nonce 無效",
	sinopac.CodeNonceExpired:    "Nonce 已逾期",
	"E3201":                     "付款日期格式錯誤",
	"E3203":                     "付款起日不可大於迄日",
	"E3204":                     "付款起訖日期皆須輸入",
	sinopac.CodeVersion:         "版本錯誤",
	sinopac.CodeNoService:       "查無此服務",
	sinopac.CodeMessageContent:  "訊息內容錯誤",
	sinopac.CodeBusy:            "系統忙碌中",
	sinopac.CodeSystem:          "系統發生未知錯誤",
	sinopac.CodeMaintenance:     "系統維護中",
}

// description is "CODE – text" for code.
func description(code string) string {
	if t, ok := descriptions[code]; ok {
		return code + " – " + t
	}
	return code + " – 錯誤"
}
