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
func ok(code sinopac.Code) result { return result{Status: "S", Description: description(code)} }

// failed is the failure result for code.
func failed(code sinopac.Code) result { return result{Status: "F", Description: description(code)} }

// failReply is the whole sealed reply of a refused call.
type failReply struct {
	ShopNo string `json:"ShopNo"`
	Date   string `json:"Date"`
	result
}

// fail is the sealed reply for a call refused with code.
func (s *Server) fail(code sinopac.Code) any {
	return failReply{ShopNo: s.cfg.shopNo, Date: wireMinute(s.now()), result: failed(code)}
}

// description is "CODE – text" for code, from the SDK's one code table;
// a code the table lacks gets the generic text 錯誤.
func description(code sinopac.Code) string {
	if code.Known() {
		return code.Description()
	}
	return string(code) + " – 錯誤"
}
