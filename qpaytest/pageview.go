package qpaytest

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/funbiz-go/sinopac"
)

//go:embed pages/*.html
var pageFiles embed.FS

// pageTemplates are the pages, each parsed with the layout; read-only
// after init.
var pageTemplates = func() map[string]*template.Template {
	layout := template.Must(template.ParseFS(pageFiles, "pages/layout.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"card", "otp", "atm", "mobile", "wallet", "result"} {
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(pageFiles, "pages/"+name+".html"))
	}
	return out
}()

// pageView is what a page template renders. Every value is escaped by
// html/template for its context.
type pageView struct {
	Title  string
	Nonce  string // of the page's inline style and script (Content-Security-Policy)
	Order  *orderView
	Form   formView
	Errors []string

	Card         cardInput
	Staging      *stagingView
	Bonus        *bonusView
	OTPTriesLeft int
	ATM          *atmView
	Methods      []methodView
	Wallet       string

	Result *resultView
	Return *returnView // the auto-submitting form to the order's ReturnURL
	Reload string      // the page's own URL, to start again

	returnOrigin string // for the CSP form-action
}

type orderView struct {
	ShopNo, OrderNo, PrdtName, Amount, Deadline string
}

type formView struct {
	Action, TD, TK, CSRF string
}

type stagingView struct {
	N           int
	First, Each string
}

type bonusView struct {
	Points   int64
	Discount string
}

type atmView struct {
	BankCode, Account string
}

type methodView struct {
	Code, Name string
	Checked    bool
}

type resultView struct {
	OK              bool
	Heading, Detail string
}

type returnView struct {
	URL, ShopNo, PayToken string
}

var pageTitles = map[string]string{
	pageCard:   "信用卡付款 Card payment",
	pageOTP:    "信用卡付款 Card payment",
	pageATM:    "ATM 轉帳 Bank transfer",
	pageMobile: "行動支付 Mobile pay",
	pageWallet: "電子錢包 E-wallet",
}

var walletNames = map[string]string{
	"Jko": "街口支付 JKOPAY", "Line": "LINE Pay", "Plus": "全盈+PAY", "Px": "全支付 PX Pay Plus", "IPass": "一卡通 iPASS MONEY",
}

var mobileNames = map[byte]string{'A': "Apple Pay", 'G': "Google Pay", 'S': "Samsung Pay"}

// newPageView is the view of pg's page step with the order summary; a
// page with a form gets its token from withForm.
func (s *Server) newPageView(pg *payPage, rec *record, step string) *pageView {
	o := &rec.Order
	v := &pageView{
		Title: pageTitles[step],
		Nonce: randomToken(18),
		Order: &orderView{ShopNo: s.cfg.shopNo, OrderNo: o.OrderNo, PrdtName: o.PrdtName, Amount: twd(o.Amount)},
		Form:  formView{Action: PayPagePath + step, TD: pg.tsNo, TK: pg.token},
	}
	if !o.ExpireDate.IsZero() {
		v.Order.Deadline = o.ExpireDate.Time().Format("2006-01-02 15:04")
	}
	switch step {
	case pageCard:
		if pg.cardSub == "STAGING" && pg.staging > 1 {
			first, each := instalments(o.Amount, pg.staging)
			v.Staging = &stagingView{N: pg.staging, First: twd(first), Each: twd(each)}
		}
		if pg.cardSub == "BONUS" {
			b := bonusFor(o.Amount)
			v.Bonus = &bonusView{Points: int64(b.used), Discount: twd(b.discount)}
		}
	case pageATM:
		if o.ATMParam != nil {
			v.ATM = &atmView{BankCode: "807", Account: o.ATMParam.AtmPayNo}
		}
	case pageMobile:
		choices := mobileChoices(pg.choosePay)
		for i := range len(choices) {
			v.Methods = append(v.Methods, methodView{Code: choices[i : i+1], Name: mobileNames[choices[i]], Checked: i == 0})
		}
	case pageWallet:
		v.Wallet = walletNames[pg.wallet]
	}
	return v
}

// withForm gives v's form a fresh single-use token for its step (and the
// card waiting for its OTP).
func (s *Server) withForm(v *pageView, pg *payPage, card *cardAttempt) *pageView {
	step := strings.TrimPrefix(v.Form.Action, PayPagePath)
	v.Form.CSRF = s.newForm(pg.tsNo, step, card)
	return v
}

// twd is an amount for people: NT$1,200 (cents only when there are any).
func twd(a sinopac.Amount) string {
	n := int64(a)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	d := strconv.FormatInt(n/100, 10)
	var b strings.Builder
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(d[i])
	}
	out := sign + "NT$" + b.String()
	if c := n % 100; c != 0 {
		out += fmt.Sprintf(".%02d", c)
	}
	return out
}

// setReturn sends the browser back to the order's own ReturnURL, and
// nowhere else, with the bank's form (ShopNo, PayToken).
func (v *pageView) setReturn(rec *record, shopNo, token string) {
	if rec.ReturnURL == "" {
		return
	}
	u, err := url.Parse(rec.ReturnURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !originHost.MatchString(u.Host) {
		return
	}
	v.Return = &returnView{URL: rec.ReturnURL, ShopNo: shopNo, PayToken: token}
	v.returnOrigin = u.Scheme + "://" + u.Host
}

// originHost is a host[:port] safe to put in a Content-Security-Policy.
var originHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// renderCard renders the card form, with the customer's input (never the
// CVV) and the problems found in it.
func (s *Server) renderCard(w http.ResponseWriter, status int, v *pageView, pg *payPage, rec *record, in cardInput, errs []string) {
	v.Card, v.Errors = in, errs
	if v.Bonus != nil {
		v.Card.Bonus = in.Bonus
	}
	s.render(w, status, "card", v)
}

// renderMessage renders a page with a heading and a line of text only.
func (s *Server) renderMessage(w http.ResponseWriter, status int, heading, detail string, ok bool) {
	s.render(w, status, "result", &pageView{Title: "豐收款 QPay", Nonce: randomToken(18),
		Result: &resultView{OK: ok, Heading: heading, Detail: detail}})
}

// render writes the page with the headers that keep it safe: nothing
// loads from elsewhere, only the page's own inline style and script run,
// forms post only to this server and the order's ReturnURL, no framing,
// no caching, no referrer.
func (s *Server) render(w http.ResponseWriter, status int, name string, v *pageView) {
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	formAction := "'self'"
	if v.returnOrigin != "" {
		formAction += " " + v.returnOrigin
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'nonce-"+v.Nonce+"'; script-src 'nonce-"+v.Nonce+
		"'; form-action "+formAction+"; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
