package sinopac

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxATMAmount is the largest virtual-account order: NT$30,000.
const MaxATMAmount Amount = 3000000

// orderCreateService is OrderCreate (建立訂單): it creates an order, so it
// is never resent once it may have reached the bank.
var orderCreateService = &service{name: "OrderCreate",
	reply: replyModel{strField("OrderNo"), strField("ShopNo"), strField("TSNo"), intField("Amount"), strField("Status"),
		strField("Description"), strField("Param1"), strField("Param2"), strField("Param3"), strField("PayType"), strField("QRCodeURL")}}

// OrderCreateRequest is an OrderCreate (建立訂單) request. Its JSON is the
// wire form: empty fields and nil parameter blocks are left out.
//
// Required: OrderNo (unique per shop, at most 50 bytes), Amount (> 0, whole
// NT$), PayType, PrdtName, and the parameter block of the PayType: ATMParam
// with ExpireDate for PayTypeATM, CardParam with AutoBilling for
// PayTypeCard and PayTypeCardTrust, WalletParam with PayTypeSub for
// PayTypeWallet (MobileParam is optional for PayTypeMobile). A block that
// does not belong to the PayType must be nil or empty.
// ShopNo may be left empty (the client's is used); CurrencyID defaults to
// "TWD", the only currency.
type OrderCreateRequest struct {
	ShopNo      string              `json:"ShopNo"`
	OrderNo     string              `json:"OrderNo"`
	Amount      Amount              `json:"Amount"` // 1/100 TWD: TWD(500) is NT$500
	CurrencyID  string              `json:"CurrencyID,omitempty"`
	PayType     PayType             `json:"PayType"`
	ATMParam    *ATMParamRequest    `json:"ATMParam,omitempty"`
	CardParam   *CardParamRequest   `json:"CardParam,omitempty"`
	MobileParam *MobileParamRequest `json:"MobileParam,omitempty"`
	WalletParam *WalletParamRequest `json:"WalletParam,omitempty"`
	PrdtName    string              `json:"PrdtName,omitempty"` // X(60), bytes
	Memo        string              `json:"Memo,omitempty"`     // X(30)
	Param1      string              `json:"Param1,omitempty"`   // X(255), returned in notifications and queries
	Param2      string              `json:"Param2,omitempty"`
	Param3      string              `json:"Param3,omitempty"`
	// ReturnURL receives the customer's browser after a card or mobile
	// payment; BackendURL the bank's server-to-server notification.
	// Absolute http(s) URLs; the bank calls ports 80 and 443 only.
	ReturnURL    string `json:"ReturnURL,omitempty"`
	BackendURL   string `json:"BackendURL,omitempty"`
	QRCodeStatus string `json:"QRCodeStatus,omitempty"` // "Y": also return a QR code URL
	QRCodeSize   int    `json:"QRCodeSize,omitempty"`   // 350–800 pixels
}

// MarshalJSON writes the wire form, with CurrencyID "TWD" when it is
// empty, so that a request sealed directly (Seal) signs like one sent by
// CreateOrder. '&', '<' and '>' are not HTML-escaped by it: the bank signs
// them literally (json.Marshal still escapes its output; Seal does not).
func (r OrderCreateRequest) MarshalJSON() ([]byte, error) {
	type wire OrderCreateRequest // without this method
	w := wire(r)
	if w.CurrencyID == "" {
		w.CurrencyID = "TWD"
	}
	return marshalUnescaped(w)
}

// ATMParamRequest sets a virtual-account order's deadline, in Taipei time.
type ATMParamRequest struct {
	ExpireDate string `json:"ExpireDate,omitempty"` // yyyyMMdd, required
	ExpireTime string `json:"ExpireTime,omitempty"` // HHmm, optional
}

// ATMExpiry is the ATMParamRequest of a deadline: t's Taipei date and
// minute.
func ATMExpiry(t time.Time) *ATMParamRequest {
	t = t.In(Taipei)
	return &ATMParamRequest{ExpireDate: t.Format("20060102"), ExpireTime: t.Format("1504")}
}

// CardParamRequest sets a card order (PayTypeCard, PayTypeCardTrust).
type CardParamRequest struct {
	AutoBilling    string `json:"AutoBilling,omitempty"`    // "Y" capture automatically, "N" capture with OrderMaintain P; required
	ExpBillingDays int    `json:"ExpBillingDays,omitempty"` // 1–30: days until an uncaptured authorisation is captured or lapses
	ExpMinutes     int    `json:"ExpMinutes,omitempty"`     // 1–30 (bank default 10): minutes the payment page stays open
	PayTypeSub     string `json:"PayTypeSub,omitempty"`     // ONE, STAGING, BONUS, CUP or REGULAR
	Staging        int    `json:"Staging,omitempty"`        // instalments, with PayTypeSub STAGING
	CCToken        string `json:"CCToken,omitempty"`        // pay with a bound card
	DeductTotalNum int    `json:"DeductTotalNum,omitempty"` // recurring (REGULAR): number of deductions
	PeriodType     string `json:"PeriodType,omitempty"`     // recurring: D, W, M or Y
	DeductFreq     int    `json:"DeductFreq,omitempty"`     // recurring: every n periods
	BindNo         string `json:"BindNo,omitempty"`         // card binding
	BindToken      string `json:"BindToken,omitempty"`
	BindAuth       string `json:"BindAuth,omitempty"`
}

// MobileParamRequest sets a mobile-pay order (PayTypeMobile).
type MobileParamRequest struct {
	ExpMinutes int    `json:"ExpMinutes,omitempty"` // 1–30
	ChoosePay  string `json:"ChoosePay,omitempty"`  // A Apple Pay, G Google Pay, S Samsung Pay
}

// WalletParamRequest sets an e-wallet order (PayTypeWallet).
type WalletParamRequest struct {
	PayTypeSub string `json:"PayTypeSub,omitempty"` // Jko, Line, Plus, Px or IPass; required
}

// WalletParam is an e-wallet order's payment link.
type WalletParam struct {
	WalletPayURL string `json:"WalletPayURL,omitempty"`
}

// ResponseOrderCreate is a verified OrderCreate reply: where the customer
// pays. For PayTypeATM, ATMParam.AtmPayNo is the virtual account and
// WebAtmURL the web-ATM page; for cards CardParam.CardPayURL, for mobile
// pay MobileParam.MobilePayURL, for wallets WalletParam.WalletPayURL.
type ResponseOrderCreate struct {
	OrderNo     string       `json:"OrderNo"`
	ShopNo      string       `json:"ShopNo"`
	TSNo        string       `json:"TSNo"`
	Amount      Amount       `json:"Amount"`
	Status      string       `json:"Status"`
	Description string       `json:"Description"`
	Param1      string       `json:"Param1"`
	Param2      string       `json:"Param2"`
	Param3      string       `json:"Param3"`
	PayType     PayType      `json:"PayType"`
	QRCodeURL   string       `json:"QRCodeURL"`
	ATMParam    *ATMParam    `json:"ATMParam,omitempty"`
	CardParam   *CardParam   `json:"CardParam,omitempty"`
	MobileParam *MobileParam `json:"MobileParam,omitempty"`
	WalletParam *WalletParam `json:"WalletParam,omitempty"`

	// Resolved is true when the create's own reply did not decide it (lost,
	// an HTTP status, unverifiable, or the bank's E0302 for an OrderNo it
	// already holds) and the order was then found with OrderQuery with the
	// request's Amount and PayType: the bank did create it. The reply is then
	// built from the stored order: OrderNo, ShopNo, TSNo, Amount, PayType,
	// Param1–3 and the payment details OrderQuery returns (ATMParam
	// AtmPayNo and WebAtmURL, CardParam CardPayURL, MobileParam
	// MobilePayURL); Status is "S" and Description empty. QRCodeURL is not
	// available.
	Resolved bool `json:"-"`
	// Order is the stored order when Resolved, else nil.
	Order *Order `json:"-"`
}

// Validate checks the request as the bank would (protocol §7), and more
// strictly, without the client: CreateOrder also fills ShopNo and checks it
// against the client's. It returns a *ValidationError naming the field.
func (r OrderCreateRequest) Validate() error {
	if r.ShopNo != "" {
		if err := checkShopNo(r.ShopNo); err != nil {
			return err
		}
	}
	if r.OrderNo == "" {
		return &ValidationError{Field: "OrderNo", Reason: "is required"}
	}
	if err := checkText("OrderNo", r.OrderNo, 50); err != nil {
		return err
	}
	switch {
	case r.Amount <= 0:
		return &ValidationError{Field: "Amount", Reason: "must be greater than 0"}
	case r.Amount%100 != 0:
		return &ValidationError{Field: "Amount", Reason: "must be a whole number of NT$ (a multiple of 100 on the wire)"}
	case r.PayType == PayTypeATM && r.Amount > MaxATMAmount:
		return &ValidationError{Field: "Amount", Reason: "must be at most 3000000 (NT$30,000) for PayType A"}
	}
	if r.CurrencyID != "" && r.CurrencyID != "TWD" {
		return &ValidationError{Field: "CurrencyID", Reason: `must be "TWD"`}
	}
	if r.PrdtName == "" {
		return &ValidationError{Field: "PrdtName", Reason: "is required"}
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"PrdtName", r.PrdtName, 60}, {"Memo", r.Memo, 30}, {"Param1", r.Param1, 255},
		{"Param2", r.Param2, 255}, {"Param3", r.Param3, 255}} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if err := checkURL("ReturnURL", r.ReturnURL); err != nil {
		return err
	}
	if err := checkURL("BackendURL", r.BackendURL); err != nil {
		return err
	}
	switch r.QRCodeStatus {
	case "", "Y", "N":
	default:
		return &ValidationError{Field: "QRCodeStatus", Reason: `must be "Y" or "N"`}
	}
	if r.QRCodeSize != 0 && (r.QRCodeSize < 350 || r.QRCodeSize > 800) {
		return &ValidationError{Field: "QRCodeSize", Reason: "must be 350 to 800"}
	}
	return r.validateParams()
}

func (r OrderCreateRequest) validateParams() error {
	atm := r.ATMParam != nil && *r.ATMParam != ATMParamRequest{}
	card := r.CardParam != nil && *r.CardParam != CardParamRequest{}
	mobile := r.MobileParam != nil && *r.MobileParam != MobileParamRequest{}
	wallet := r.WalletParam != nil && *r.WalletParam != WalletParamRequest{}
	own := map[PayType]string{PayTypeATM: "ATMParam", PayTypeCard: "CardParam", PayTypeCardTrust: "CardParam",
		PayTypeMobile: "MobileParam", PayTypeWallet: "WalletParam"}[r.PayType]
	if own == "" {
		return &ValidationError{Field: "PayType", Reason: fmt.Sprintf("must be A, C, M, P or W, got %q", string(r.PayType))}
	}
	for _, b := range []struct {
		name string
		set  bool
	}{{"ATMParam", atm}, {"CardParam", card}, {"MobileParam", mobile}, {"WalletParam", wallet}} {
		if b.set && b.name != own {
			return &ValidationError{Field: b.name, Reason: "does not belong to PayType " + string(r.PayType)}
		}
	}
	switch r.PayType {
	case PayTypeATM:
		return validateATMParam(r.ATMParam)
	case PayTypeCard, PayTypeCardTrust:
		return validateCardParam(r.CardParam)
	case PayTypeMobile:
		if r.MobileParam != nil {
			return validateMobileParam(r.MobileParam)
		}
		return nil
	}
	if r.WalletParam == nil || r.WalletParam.PayTypeSub == "" {
		return &ValidationError{Field: "WalletParam.PayTypeSub", Reason: "is required for PayType W"}
	}
	switch r.WalletParam.PayTypeSub {
	case "Jko", "Line", "Plus", "Px", "IPass":
		return nil
	}
	return &ValidationError{Field: "WalletParam.PayTypeSub", Reason: "must be Jko, Line, Plus, Px or IPass"}
}

func validateATMParam(p *ATMParamRequest) error {
	if p == nil || p.ExpireDate == "" {
		return &ValidationError{Field: "ATMParam.ExpireDate", Reason: "is required for PayType A"}
	}
	if ts, err := ParseTimestamp(p.ExpireDate); err != nil || !ts.DateOnly() {
		return &ValidationError{Field: "ATMParam.ExpireDate", Reason: "must be a date yyyyMMdd"}
	}
	if p.ExpireTime != "" {
		if _, err := time.Parse("1504", p.ExpireTime); err != nil || len(p.ExpireTime) != 4 {
			return &ValidationError{Field: "ATMParam.ExpireTime", Reason: "must be a time HHmm"}
		}
	}
	return nil
}

func validateCardParam(p *CardParamRequest) error {
	if p == nil || p.AutoBilling == "" {
		return &ValidationError{Field: "CardParam.AutoBilling", Reason: "is required for PayType C and P"}
	}
	if p.AutoBilling != "Y" && p.AutoBilling != "N" {
		return &ValidationError{Field: "CardParam.AutoBilling", Reason: `must be "Y" or "N"`}
	}
	if p.ExpBillingDays != 0 && (p.ExpBillingDays < 1 || p.ExpBillingDays > 30) {
		return &ValidationError{Field: "CardParam.ExpBillingDays", Reason: "must be 1 to 30"}
	}
	if p.ExpMinutes != 0 && (p.ExpMinutes < 1 || p.ExpMinutes > 30) {
		return &ValidationError{Field: "CardParam.ExpMinutes", Reason: "must be 1 to 30"}
	}
	switch p.PayTypeSub {
	case "", "ONE", "BONUS", "CUP":
		if p.Staging != 0 {
			return &ValidationError{Field: "CardParam.Staging", Reason: "is only for PayTypeSub STAGING"}
		}
	case "STAGING":
		if p.Staging < 2 || p.Staging > 99 {
			return &ValidationError{Field: "CardParam.Staging", Reason: "must be 2 to 99 instalments for PayTypeSub STAGING"}
		}
	case "REGULAR":
		if p.PeriodType == "" || p.DeductFreq < 1 || p.DeductTotalNum < 1 {
			return &ValidationError{Field: "CardParam.PeriodType", Reason: "PeriodType, DeductFreq and DeductTotalNum are required for PayTypeSub REGULAR"}
		}
	default:
		return &ValidationError{Field: "CardParam.PayTypeSub", Reason: "must be ONE, STAGING, BONUS, CUP or REGULAR"}
	}
	switch p.PeriodType {
	case "", "D", "W", "M", "Y":
	default:
		return &ValidationError{Field: "CardParam.PeriodType", Reason: "must be D, W, M or Y"}
	}
	if p.DeductTotalNum < 0 || p.DeductFreq < 0 || p.Staging < 0 {
		return &ValidationError{Field: "CardParam", Reason: "counts must not be negative"}
	}
	for _, f := range []struct{ name, v string }{{"CCToken", p.CCToken}, {"BindNo", p.BindNo},
		{"BindToken", p.BindToken}, {"BindAuth", p.BindAuth}} {
		if err := checkText("CardParam."+f.name, f.v, 255); err != nil {
			return err
		}
	}
	return nil
}

func validateMobileParam(p *MobileParamRequest) error {
	if p.ExpMinutes != 0 && (p.ExpMinutes < 1 || p.ExpMinutes > 30) {
		return &ValidationError{Field: "MobileParam.ExpMinutes", Reason: "must be 1 to 30"}
	}
	switch p.ChoosePay {
	case "", "A", "G", "S":
		return nil
	}
	return &ValidationError{Field: "MobileParam.ChoosePay", Reason: "must be A, G or S"}
}

// CreateOrder creates an order (APIService OrderCreate) and returns where
// the customer pays. The request is validated first (see
// OrderCreateRequest); ShopNo is filled from the client when empty and must
// equal it otherwise.
//
// A create is idempotent by OrderNo, so sending the same request again is
// always safe: the bank refuses a second order with that OrderNo (E0302),
// and CreateOrder settles every verified E0302 with an OrderQuery for the
// OrderNo: an order with the same Amount and PayType is taken as this
// request's (returned with Resolved set, nil error); a different order
// leaves the *APIError E0302 as it is.
//
// Only the bank's verified reply decides a create. When the request may
// have reached the bank and no verified reply came (a timeout, a dropped
// connection, any HTTP status such as 429 or 5xx, an unsigned body, a reply
// that does not verify), CreateOrder settles it the same way: the order
// found with the same Amount and PayType is returned Resolved; otherwise an
// *OutcomeUnknownError (the query's results can lag, and a gateway may
// forward the request late, so not finding it is no proof): send the same
// request again, or look again with ResolveCreate. E-wallet orders
// (PayType W) are not returned by OrderQuery: their unknown outcome cannot
// be settled.
//
// A *NotProcessedError (errors.Is ErrNotProcessed) means the request never
// left (the nonce step failed, or the connection failed before the request
// was written); any other *APIError is the bank's refusal.
//
// When ctx's deadline is what cut the create short, the settling query
// still runs, detached from that deadline and bounded by SettleTimeout: a
// timeout is the usual way a create's reply gets lost.
func (c *Client) CreateOrder(ctx context.Context, req OrderCreateRequest) (*ResponseOrderCreate, error) {
	if req.ShopNo == "" {
		req.ShopNo = c.shopNo
	} else if req.ShopNo != c.shopNo {
		return nil, &ValidationError{Field: "ShopNo", Reason: "must be empty or the client's ShopNo"}
	}
	if req.CurrencyID == "" {
		req.CurrencyID = "TWD"
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	var r ResponseOrderCreate
	st, err := c.send(ctx, orderCreateService, &req, &r)
	if err == nil && r.Amount <= 0 {
		err = amountMissing(orderCreateService.name, "Amount")
	}
	if err == nil {
		if r.OrderNo == "" || r.OrderNo == req.OrderNo {
			return &r, nil
		}
		err = &MessageError{Service: orderCreateService.name, Reason: "reply is for another OrderNo"}
	}
	var ae *APIError
	switch {
	case st.neverLeft():
		return nil, &NotProcessedError{Service: orderCreateService.name, OrderNo: req.OrderNo, Err: err}
	case st.verdict(err) && !(errors.As(err, &ae) && ae.Code == CodeDuplicateOrder):
		return nil, err
	}
	b := &createBasis{req: req, start: start}
	u := &OutcomeUnknownError{Service: orderCreateService.name, OrderNo: req.OrderNo, Err: err, shopNo: c.shopNo, basis: b}
	if req.PayType == PayTypeWallet {
		u.QueryErr = errWalletNotQueryable
		return nil, u
	}
	o, qerr := c.settleLookup(ctx, req.OrderNo)
	return b.judge(o, qerr, u)
}

// ResolveCreate looks again at a create whose outcome was unknown, by its
// OrderNo, Amount and PayType: the order found is returned with Resolved
// set; otherwise a new *OutcomeUnknownError (u is not changed) whose
// CheckAfter says whether waiting may still help. Not finding the order is
// never taken as proof that the bank did not create it; once CheckAfter is
// zero, send the same request again (safe: see CreateOrder).
func (c *Client) ResolveCreate(ctx context.Context, u *OutcomeUnknownError) (*ResponseOrderCreate, error) {
	if err := c.checkResolvable(u); err != nil {
		return nil, err
	}
	b, ok := u.basis.(*createBasis)
	if !ok {
		return nil, &ValidationError{Field: "OutcomeUnknownError", Reason: "is not from CreateOrder"}
	}
	next := *u
	next.QueryErr, next.CheckAfter = nil, time.Time{}
	if b.req.PayType == PayTypeWallet {
		next.QueryErr = errWalletNotQueryable
		return nil, &next
	}
	o, qerr := c.lookupOrder(ctx, b.req.OrderNo)
	return b.judge(o, qerr, &next)
}

// createBasis is what an unknown create keeps to be looked at again.
type createBasis struct {
	req   OrderCreateRequest
	start time.Time
}

// judge decides a create from the settling query's result: u is returned
// (completed) when it does not.
func (b *createBasis) judge(o *Order, qerr error, u *OutcomeUnknownError) (*ResponseOrderCreate, error) {
	var ae *APIError
	switch {
	case qerr != nil:
		u.QueryErr = qerr
	case o == nil:
		u.QueryErr = ErrNoTrace
	case o.Amount == b.req.Amount && o.PayType == b.req.PayType:
		return createdFromOrder(o, u.shopNo), nil
	case errors.As(u.Err, &ae) && ae.Code == CodeDuplicateOrder && !ae.Unverified:
		// The bank's verified E0302, and the order under the OrderNo is not
		// this request: the bank refused it.
		return nil, u.Err
	default:
		// Not the order we sent: the OrderNo was taken before, so the
		// bank refused ours (E0302) if it saw it at all.
		u.QueryErr = fmt.Errorf("sinopac: OrderNo %s already holds an order of %v, PayType %s: not this request", o.OrderNo, o.Amount, o.PayType)
		return nil, u
	}
	u.CheckAfter = checkAfter(b.start)
	return nil, u
}

func (*createBasis) safeToResend() bool { return true }

func (b *createBasis) advice(e *OutcomeUnknownError) string {
	if b.req.PayType == PayTypeWallet {
		return "sending the same request again is safe (the bank refuses a second order with this OrderNo, E0302), " +
			"but OrderQuery does not return e-wallet (PayType W) orders: confirm with the bank whether it exists"
	}
	msg := "sending the same request again is safe (if the bank holds the order, its E0302 is recognised and the order returned)"
	if !e.CheckAfter.IsZero() {
		msg += ", or look again with ResolveCreate after " + e.CheckAfter.Format(time.RFC3339)
	}
	return msg
}

var errWalletNotQueryable = errors.New("sinopac: OrderQuery does not return e-wallet (PayType W) orders")

// createdFromOrder is the reply a lost create would have given, as far as
// OrderQuery tells.
func createdFromOrder(o *Order, shopNo string) *ResponseOrderCreate {
	r := &ResponseOrderCreate{
		OrderNo: o.OrderNo, ShopNo: shopNo, TSNo: o.TSNo, Amount: o.Amount, Status: "S",
		Param1: o.Param1, Param2: o.Param2, Param3: o.Param3, PayType: o.PayType,
		Resolved: true, Order: o,
	}
	if p := o.ATMParam; p != nil {
		r.ATMParam = &ATMParam{AtmPayNo: p.AtmPayNo, WebAtmURL: p.WebAtmURL}
	}
	if p := o.CardParam; p != nil && p.CardPayURL != "" {
		r.CardParam = &CardParam{CardPayURL: p.CardPayURL}
	}
	if p := o.MobileParam; p != nil && p.MobilePayURL != "" {
		r.MobileParam = &MobileParam{MobilePayURL: p.MobilePayURL}
	}
	return r
}
