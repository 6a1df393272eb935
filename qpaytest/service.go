package qpaytest

import (
	"strconv"

	"github.com/funbiz-go/sinopac"
)

// handlerFunc serves one APIService. It gets a request whose nonce and
// Sign were verified and returns the reply object, which the server
// encodes (no HTML escaping), signs and seals. Use ok / s.fail for the
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

// models are the scalar parts of the bank's typed request and reply models
// for each APIService (its .NET sample; protocol §2a). This is qpaytest's
// own copy of the lists the SDK declares in its service descriptors: the
// stand-in bank must not share a mistake with the client it tests.
type models struct {
	// request is the model a request's Sign may follow (besides the
	// raw-JSON rule). Every number is marked int: a client whose model
	// has int? signs an absent number as the raw-JSON rule does.
	request model
	// reply lists every top-level scalar a reply of the service may have;
	// replies are signed by the model rule over exactly these.
	reply model
}

var serviceModels = map[string]models{
	"OrderQuery": {
		model{str("ShopNo"), str("OrderNo"), str("PayType"), str("OrderDateTimeS"), str("OrderDateTimeE"),
			str("PayDateTimeS"), str("PayDateTimeE"), str("PayFlag")},
		model{str("ShopNo"), str("Date"), str("Status"), str("Description")}},
	"OrderPayQuery": {
		model{str("ShopNo"), str("PayToken")},
		model{str("ShopNo"), echo(str("PayToken")), str("Date"), str("Status"), str("Description")}},
	"OrderCreate": {
		model{str("ShopNo"), str("OrderNo"), num("Amount"), str("CurrencyID"), str("PayType"), str("PrdtName"),
			str("Memo"), str("Param1"), str("Param2"), str("Param3"), str("ReturnURL"), str("BackendURL"),
			str("QRCodeStatus"), num("QRCodeSize")},
		model{echo(str("OrderNo")), str("ShopNo"), str("TSNo"), num("Amount"), str("Status"), str("Description"),
			str("Param1"), str("Param2"), str("Param3"), str("PayType"), str("QRCodeURL")}},
	"OrderMaintain": {
		model{str("ShopNo"), str("OrderNo"), str("Command"), num("Amount"), str("Remark"), str("RefundToken"),
			str("ExpireDateTime")},
		model{echo(str("OrderNo")), str("ShopNo"), str("TSNo"), echo(str("Command")), echo(num("Amount")), str("Date"),
			str("Status"), str("Description"), str("RefundToken")}},
	"OrderUnCapturedQuery": {
		model{str("ShopNo"), str("OrderNo")},
		model{str("ShopNo"), str("Date"), str("Status"), str("Description")}},
	"BillQuery": {
		model{str("ShopNo"), str("BillDate")},
		model{str("ShopNo"), str("Date"), str("Status"), str("Description"), echo(str("BillDate"))}},
	"AllotQuery": {
		model{str("ShopNo"), str("AllotDateS"), str("AllotDateE"), str("PayType")},
		model{str("ShopNo"), str("Date"), str("Status"), str("Description")}},
}

// genericReply is the reply model for an APIService the bank does not
// have (E3401): the fields every query reply carries.
var genericReply = model{str("ShopNo"), str("Date"), str("Status"), str("Description")}

// replyModel is the reply model of service.
func replyModel(service string) model {
	if m, ok := serviceModels[service]; ok {
		return m.reply
	}
	return genericReply
}

// request is one call to an APIService.
type request struct {
	Service string   // APIService
	ShopNo  string   // envelope ShopNo (equal to the server's shop)
	Body    []byte   // the decrypted, verified request JSON (nil if the call was refused before)
	fields  []member // Body's top-level members
}

// decode unmarshals the request JSON into v as the bank reads it (see
// decodeLenient).
func (r *request) decode(v any) error { return decodeLenient(r.Body, v) }

// result is the Status/Description pair every reply carries.
type result struct {
	Status      string `json:"Status"`
	Description string `json:"Description"`
}

// ok is the success result for code (sinopac.CodeOK or CodeNoData).
func ok(code sinopac.Code) result { return result{Status: "S", Description: description(code)} }

// fail is the sealed reply of a call refused with code: the service's
// reply model filled with what the bank knows without the order: ShopNo,
// Date when the model has it, Status F and Description, and the fields it
// repeats from the request (OrderNo, Command, PayToken, BillDate). An int
// field the request did not give is left out, as the bank leaves out
// OrderCreate's Amount, and signed as 0 (OrderMaintain's Amount is always
// present, the request's or 0).
func (s *Server) fail(req *request, code sinopac.Code) reply {
	return s.failDetail(req, code, "")
}

// failDetail is fail with a Description naming the offending field after
// the bank's text, e.g. "E0001 – 請求格式錯誤 (PrdtName)".
func (s *Server) failDetail(req *request, code sinopac.Code, detail string) reply {
	desc := description(code)
	if detail != "" {
		desc += " (" + detail + ")"
	}
	var r reply
	for _, f := range replyModel(req.Service) {
		switch {
		case f.name == "ShopNo":
			r = append(r, replyField{f.name, s.cfg.shopNo})
		case f.name == "Date":
			r = append(r, replyField{f.name, wireMinute(s.now())})
		case f.name == "Status":
			r = append(r, replyField{f.name, "F"})
		case f.name == "Description":
			r = append(r, replyField{f.name, desc})
		case f.echo && f.num:
			v, _ := intValue(lookup(req.fields, f.name))
			r = append(r, replyField{f.name, v})
		case f.echo && !f.num:
			if m, found := lookup(req.fields, f.name); found && m.kind == '"' && m.value != "" {
				r = append(r, replyField{f.name, m.value})
			}
		}
	}
	return r
}

// reply is a refusal's top-level fields in the order of the reply model.
type reply []replyField

// replyField is one field of a reply: a string or an int64.
type replyField struct {
	name  string
	value any
}

// MarshalJSON writes the fields in order.
func (r reply) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.name)
		b = append(b, ':')
		v, err := marshal(f.value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// description is "CODE – text" for code, from the SDK's one code table;
// a code the table lacks gets the generic text 錯誤.
func description(code sinopac.Code) string {
	if code.Known() {
		return code.Description()
	}
	return string(code) + " – 錯誤"
}
