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

	// Resolved is true when the create's own reply was lost (a timeout or
	// connection loss after sending, an HTTP 5xx) and the order was then
	// found with OrderQuery: the bank did create it. The reply is then
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
// A create is never resent blindly (see RetryPolicy). When its outcome is
// unknown because the request may have reached the bank (a timeout or lost
// connection after sending, an HTTP 5xx), CreateOrder settles it with an
// OrderQuery for the OrderNo:
//   - the order exists with the same Amount and PayType: the bank created
//     it, and CreateOrder returns it with Resolved set (and a nil error);
//   - no such order: a *NotProcessedError (errors.Is ErrNotProcessed):
//     sending the same request again is safe;
//   - the query fails too, the context was cancelled, or the order is an
//     e-wallet one (OrderQuery does not return PayType W orders): an
//     *OutcomeUnknownError; do not resend, look the order up later.
//
// When ctx's deadline is what cut the create short, the settling query
// still runs, detached from that deadline and bounded by SettleTimeout: a
// timeout is the usual way a create's reply gets lost.
//
// A reply that arrives but fails verification (ErrSignatureMismatch,
// ErrMalformedMessage) is also an *OutcomeUnknownError, without a query.
// Any other failure, a Status F (*APIError, e.g. CodeDuplicateOrder) or a
// gateway 4xx, means the bank did not create the order.
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
	var r ResponseOrderCreate
	err := c.do(ctx, orderCreateService, &req, &r)
	if err == nil {
		if r.OrderNo != "" && r.OrderNo != req.OrderNo {
			err = &MessageError{Service: "OrderCreate", Reason: "reply is for another OrderNo"}
		} else {
			return &r, nil
		}
	}
	return c.settleCreate(ctx, &req, err)
}

// settleCreate turns a create's failure into a result or a precise error.
func (c *Client) settleCreate(ctx context.Context, req *OrderCreateRequest, err error) (*ResponseOrderCreate, error) {
	if req.PayType == PayTypeWallet && classify(err) == outcomeMaybeDone {
		return nil, &OutcomeUnknownError{Service: "OrderCreate", OrderNo: req.OrderNo, Err: err, QueryErr: errWalletNotQueryable}
	}
	o, serr := c.settle(ctx, "OrderCreate", req.OrderNo, err)
	switch {
	case serr != nil:
		return nil, serr
	case o.Amount != req.Amount || o.PayType != req.PayType:
		// Not the order we sent: the OrderNo was taken before, so the
		// bank refused ours (E0302) if it saw it at all.
		return nil, &OutcomeUnknownError{Service: "OrderCreate", OrderNo: req.OrderNo, Err: err,
			QueryErr: fmt.Errorf("sinopac: OrderNo %s already holds an order of %v, PayType %s", o.OrderNo, o.Amount, o.PayType)}
	}
	return createdFromOrder(o, c.shopNo), nil
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
