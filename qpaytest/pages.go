package qpaytest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/funbiz-go/sinopac"
)

// PayPagePath is where the server serves the bank's payment pages: the
// URLs OrderCreate hands out (CardPayURL, WebAtmURL, MobilePayURL,
// WalletPayURL, QRCodeURL) are PayPagePath + page + "?TD=<TSNo>&TK=<token>",
// on the server's own host, beside BasePath as the bank's pages live on
// another site than its API. See the package documentation for the page
// flow and the form fields.
const PayPagePath = "/QPay.WebPaySite/Bridge/"

// The bank's sandbox test card (protocol §9): the card page accepts it,
// with this expiry and CVV, and then the OTP; it declines every other
// card.
const (
	TestCardNo  = "4143520001870127"
	TestCardExp = "12/35"
	TestCardCVV = "123"
	TestOTP     = "123456"
)

// The TSResultContent.Description of a card payment attempt declined on
// the card page, answered by OrderPayQuery for that attempt's PayToken
// with the inner Status F. The bank publishes no text for these; the
// simulator's say what happened, with the card scheme's response code
// (AuthResponseCode "05", do not honour, for a declined card).
const (
	DeclinedDescription  = "授權失敗 (05 拒絕交易 / do not honour)"
	OTPFailedDescription = "授權失敗 (3-D 驗證失敗 / one-time password not verified)"
)

// OTPTries is how many wrong one-time passwords the OTP page takes before
// it declines the payment.
const OTPTries = 3

// The payment pages, by the name that ends their path.
const (
	pageCard   = "PayCard"
	pageOTP    = "PayOTP" // the card page's second step (POST only)
	pageATM    = "PayWebATM"
	pageMobile = "PayMobile"
	pageWallet = "PayWallet"
	pageQR     = "QRCode"
)

// pageKind is the payment page of a PayType.
func pageKind(pt sinopac.PayType) string {
	switch pt {
	case sinopac.PayTypeATM:
		return pageATM
	case sinopac.PayTypeCard, sinopac.PayTypeCardTrust:
		return pageCard
	case sinopac.PayTypeMobile:
		return pageMobile
	case sinopac.PayTypeWallet:
		return pageWallet
	}
	return ""
}

// maxPageForms bounds the form tokens an order keeps outstanding: each
// page view issues one, the oldest is forgotten first.
const maxPageForms = 16

// maxFormBytes bounds a page's form POST; real ones are a few hundred bytes.
const maxFormBytes = 8 << 10

// payPage is what the server keeps of an order's payment pages.
type payPage struct {
	orderNo, tsNo string
	token         string // TK: random, so that a page URL cannot be guessed from the TSNo
	kind          string // pageCard, pageATM, pageMobile or pageWallet
	cardSub       string // CardParam.PayTypeSub of the create request
	staging       int    // instalments (PayTypeSub STAGING)
	choosePay     string // mobile: the one method offered (A, G, S), "" for all
	wallet        string // WalletParam.PayTypeSub
	qrSize        int    // QRCodeSize, 0 for the default
	forms         []string
}

// pageForm is one form a page rendered: its token is single use and
// valid only for its order and its step.
type pageForm struct {
	tsNo string
	step string       // the page the form posts to
	card *cardAttempt // the OTP step: the card waiting for its OTP
}

// cardAttempt is a card the card page accepted, waiting for the OTP.
type cardAttempt struct {
	first6, last4, exp string // exp as the bank writes CCExpDate: MMYY
	bonus              bool
	wrongOTPs          int
}

// pageBook holds the payment pages and their outstanding forms. Its lock
// is never held while taking Server.mu, nor taken under it.
type pageBook struct {
	mu    sync.Mutex
	byTD  map[string]*payPage
	forms map[string]pageForm
}

// decline is a card payment attempt the card page refused: OrderPayQuery
// answers its own failure for its PayToken.
type decline struct {
	description, authResponse string
	first6, last4, exp        string
}

func (d *decline) apply(res *tsResult) {
	res.Status, res.Description, res.AuthResponseCode = "F", d.description, d.authResponse
	res.LeftCCNo, res.RightCCNo, res.CCExpDate = d.first6, d.last4, d.exp
	res.AuthCode, res.CCToken, res.PayDate = "", "", ""
}

// randomToken is n random bytes, URL-safe base64.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newPageToken is a TK in the form of the bank's (a GUID).
func newPageToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// pageURL is the URL of an order's page.
func (s *Server) pageURL(page, tsNo, tk string) string {
	return s.ts.URL + PayPagePath + page + "?TD=" + url.QueryEscape(tsNo) + "&TK=" + url.QueryEscape(tk)
}

// addPayPage makes an order's payment pages servable.
func (s *Server) addPayPage(pg *payPage) {
	b := &s.pages
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byTD == nil {
		b.byTD, b.forms = make(map[string]*payPage), make(map[string]pageForm)
	}
	b.byTD[pg.tsNo] = pg
}

// findPage returns (a copy of) the page of TD whose TK is tk and whose
// kind is kind ("" for any).
func (s *Server) findPage(td, tk, kind string) (payPage, bool) {
	b := &s.pages
	b.mu.Lock()
	defer b.mu.Unlock()
	pg, ok := b.byTD[td]
	if !ok || subtle.ConstantTimeCompare([]byte(tk), []byte(pg.token)) != 1 || (kind != "" && pg.kind != kind) {
		return payPage{}, false
	}
	c := *pg
	c.forms = nil
	return c, true
}

// pageCardSub is the PayTypeSub a card order's create asked for.
func (s *Server) pageCardSub(tsNo string) string {
	b := &s.pages
	b.mu.Lock()
	defer b.mu.Unlock()
	if pg, ok := b.byTD[tsNo]; ok {
		return pg.cardSub
	}
	return ""
}

// newForm issues a single-use form token of tsNo for step.
func (s *Server) newForm(tsNo, step string, card *cardAttempt) string {
	tok := randomToken(32)
	b := &s.pages
	b.mu.Lock()
	defer b.mu.Unlock()
	pg, ok := b.byTD[tsNo]
	if !ok {
		return tok // never stored: a POST with it is refused
	}
	b.forms[tok] = pageForm{tsNo: tsNo, step: step, card: card}
	pg.forms = append(pg.forms, tok)
	if len(pg.forms) > maxPageForms {
		delete(b.forms, pg.forms[0])
		pg.forms = pg.forms[1:]
	}
	return tok
}

// takeForm uses up the form token tok if it was issued for tsNo and step.
func (s *Server) takeForm(tok, tsNo, step string) (pageForm, bool) {
	b := &s.pages
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.forms[tok]
	if !ok || f.tsNo != tsNo || f.step != step {
		return pageForm{}, false
	}
	delete(b.forms, tok)
	if pg, ok := b.byTD[tsNo]; ok {
		for i, t := range pg.forms {
			if t == tok {
				pg.forms = append(pg.forms[:i:i], pg.forms[i+1:]...)
				break
			}
		}
	}
	return f, true
}

// pastDeadline reports whether o's payment window is over at now: the
// minute of its ExpireDate has passed.
func pastDeadline(o *sinopac.Order, now time.Time) bool {
	return !o.ExpireDate.IsZero() && !now.Before(o.ExpireDate.Time().Add(time.Minute))
}

// errPastDeadline refuses a payment after the order's deadline.
var errPastDeadline = errors.New("qpaytest: the order's payment deadline has passed")

// payableOrder returns the order of pg as it stands now; an order still
// pending past its deadline is expired first, as the bank's job would
// have done. ok is false if the order is gone.
func (s *Server) payableOrder(pg *payPage) (rec record, ok bool) {
	rec, ok = s.lookupOrder(pg.orderNo)
	if ok && rec.Order.PayStatus.Pending() && pastDeadline(&rec.Order, s.now()) {
		_ = s.Expire(pg.orderNo)
		rec, ok = s.lookupOrder(pg.orderNo)
	}
	return rec, ok
}

// payOnPage pays the order of pg as its page does: refused past the
// deadline, details applied, the BackendURL notified (the browser posts
// to the ReturnURL).
func (s *Server) payOnPage(pg *payPage, details func(o *sinopac.Order)) (record, string, error) {
	now := s.now()
	rec, tok, err := s.pay(pg.orderNo, func(o *sinopac.Order) error {
		if pastDeadline(o, now) {
			return errPastDeadline
		}
		if details != nil {
			details(o)
		}
		return nil
	})
	if err != nil {
		return record{}, "", err
	}
	s.notifyBackend(rec, tok, "PayOut")
	return rec, tok, nil
}

// declineOnPage records a declined card payment attempt: a PayToken whose
// OrderPayQuery answers the failure, announced on the BackendURL (resent
// like every notification until answered {"Status":"S"}); the order stays
// waiting for payment.
func (s *Server) declineOnPage(pg *payPage, d *decline) (record, string) {
	tok := s.issuePayToken(payToken{orderNo: pg.orderNo, apType: "PayOut", declined: d})
	rec, _ := s.lookupOrder(pg.orderNo)
	s.notifyBackend(rec, tok, "PayOut")
	return rec, tok
}

// servePage serves the payment pages under PayPagePath.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, name string) {
	switch name {
	case pageQR:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		s.serveQR(w, r)
	case pageCard, pageATM, pageMobile, pageWallet:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.showPage(w, r, name)
		case http.MethodPost:
			s.submitPage(w, r, name)
		default:
			methodNotAllowed(w, "GET, HEAD, POST")
		}
	case pageOTP:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		s.submitPage(w, r, name)
	default:
		s.renderMessage(w, http.StatusNotFound, "查無此頁 Page not found", "", false)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
}

// showPage renders the page of an order waiting for payment, or what
// became of the order.
func (s *Server) showPage(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	pg, ok := s.findPage(q.Get("TD"), q.Get("TK"), name)
	if !ok {
		s.renderMessage(w, http.StatusNotFound, "查無此交易 Transaction not found", "付款連結錯誤或已失效。The payment link is wrong or no longer valid.", false)
		return
	}
	rec, ok := s.payableOrder(&pg)
	if !ok {
		s.renderMessage(w, http.StatusNotFound, "查無此交易 Transaction not found", "", false)
		return
	}
	if !rec.Order.PayStatus.Pending() {
		s.renderState(w, &pg, &rec)
		return
	}
	v := s.withForm(s.newPageView(&pg, &rec, name), &pg, nil)
	switch name {
	case pageCard:
		s.renderCard(w, http.StatusOK, v, &pg, &rec, cardInput{}, nil)
	case pageATM:
		s.render(w, http.StatusOK, "atm", v)
	case pageMobile:
		s.render(w, http.StatusOK, "mobile", v)
	case pageWallet:
		s.render(w, http.StatusOK, "wallet", v)
	}
}

// submitPage handles a page's form POST: the form must be well formed,
// from a page of this server (Origin), with a form token issued for this
// order and step and not used before; the order must still wait for
// payment.
func (s *Server) submitPage(w http.ResponseWriter, r *http.Request, name string) {
	form, ok := readPageForm(w, r)
	if !ok {
		s.renderMessage(w, http.StatusBadRequest, "表單格式錯誤 Bad form", "請重新開啟付款頁。Please open the payment page again.", false)
		return
	}
	if !sameOrigin(r) {
		s.renderMessage(w, http.StatusForbidden, "拒絕請求 Request refused", "表單不是由本付款頁送出。The form was not sent from this payment page.", false)
		return
	}
	kind := name
	if name == pageOTP {
		kind = pageCard
	}
	pg, ok := s.findPage(form.Get("TD"), form.Get("TK"), kind)
	if !ok {
		s.renderMessage(w, http.StatusNotFound, "查無此交易 Transaction not found", "", false)
		return
	}
	f, fresh := s.takeForm(form.Get("CSRFToken"), pg.tsNo, name)
	rec, ok := s.payableOrder(&pg)
	switch {
	case !ok:
		s.renderMessage(w, http.StatusNotFound, "查無此交易 Transaction not found", "", false)
		return
	case !rec.Order.PayStatus.Pending():
		// A second submission of a form already used lands here too: the
		// order was paid once.
		s.renderState(w, &pg, &rec)
		return
	case !fresh:
		v := s.newPageView(&pg, &rec, name)
		v.Result = &resultView{Heading: "表單已失效 This form has expired",
			Detail: "此表單已送出過或已逾時，請重新開啟付款頁。The form was sent before or is too old: open the payment page again."}
		v.Reload = s.pageURL(kind, pg.tsNo, pg.token)
		s.render(w, http.StatusForbidden, "result", v)
		return
	}
	switch name {
	case pageCard:
		s.submitCard(w, form, &pg, &rec)
	case pageOTP:
		s.submitOTP(w, form, &pg, &rec, f.card)
	case pageATM:
		s.finishPayment(w, &pg, nil, "轉帳成功 Transfer received", "銀行已收到模擬轉帳，並以 BackendURL 通知商店。The bank received the simulated transfer and notifies the shop on its BackendURL.")
	case pageMobile:
		method := form.Get("Method")
		if !strings.Contains(mobileChoices(pg.choosePay), method) || len(method) != 1 {
			v := s.withForm(s.newPageView(&pg, &rec, name), &pg, nil)
			v.Errors = []string{"請選擇付款方式。Choose how to pay."}
			s.render(w, http.StatusUnprocessableEntity, "mobile", v)
			return
		}
		s.finishPayment(w, &pg, func(o *sinopac.Order) {
			o.MobileParam.Paymenthod = method
			o.MobileParam.AuthCode = authCode(s.now())
		}, "付款成功 Payment successful", "")
	case pageWallet:
		s.finishPayment(w, &pg, nil, "付款成功 Payment successful", "")
	}
}

// finishPayment pays the order of pg and renders the result, sending the
// browser back to the order's ReturnURL where the PayType does (not for
// a virtual account: the bank announces those on the BackendURL only).
func (s *Server) finishPayment(w http.ResponseWriter, pg *payPage, details func(o *sinopac.Order), heading, detail string) {
	rec, tok, err := s.payOnPage(pg, details)
	if err != nil {
		rec, ok := s.payableOrder(pg)
		if !ok {
			s.renderMessage(w, http.StatusNotFound, "查無此交易 Transaction not found", "", false)
			return
		}
		s.renderState(w, pg, &rec)
		return
	}
	v := s.newPageView(pg, &rec, pg.kind)
	v.Result = &resultView{OK: true, Heading: heading, Detail: detail}
	if pg.kind != pageATM {
		v.setReturn(&rec, s.cfg.shopNo, tok)
	}
	s.render(w, http.StatusOK, "result", v)
}

// cardInput is what the customer typed on the card page.
type cardInput struct {
	No, Exp string
	Bonus   bool
}

// submitCard checks the card form: errors show the form again; the test
// card goes on to the OTP page; any other card is declined.
func (s *Server) submitCard(w http.ResponseWriter, form url.Values, pg *payPage, rec *record) {
	in := cardInput{No: form.Get("CardNo"), Exp: form.Get("ExpDate"), Bonus: form.Get("UseBonus") == "Y"}
	digits, errs := checkCard(in, form.Get("CVV"), s.now())
	if len(errs) > 0 {
		s.renderCard(w, http.StatusUnprocessableEntity, s.withForm(s.newPageView(pg, rec, pageCard), pg, nil), pg, rec, in, errs)
		return
	}
	exp := cardExp(in.Exp)
	attempt := &cardAttempt{first6: digits[:6], last4: digits[len(digits)-4:], exp: exp, bonus: in.Bonus && pg.cardSub == "BONUS"}
	if digits != TestCardNo || exp != "1235" || form.Get("CVV") != TestCardCVV {
		s.renderDecline(w, pg, attempt, DeclinedDescription, "05")
		return
	}
	v := s.withForm(s.newPageView(pg, rec, pageOTP), pg, attempt)
	v.OTPTriesLeft = OTPTries
	s.render(w, http.StatusOK, "otp", v)
}

// submitOTP checks the one-time password of a card attempt: right, the
// order is paid; wrong, the page asks again, OTPTries times at most, then
// declines.
func (s *Server) submitOTP(w http.ResponseWriter, form url.Values, pg *payPage, rec *record, a *cardAttempt) {
	if a == nil {
		s.renderMessage(w, http.StatusBadRequest, "表單格式錯誤 Bad form", "", false)
		return
	}
	otp := strings.TrimSpace(form.Get("OTP"))
	if subtle.ConstantTimeCompare([]byte(otp), []byte(TestOTP)) != 1 {
		next := *a
		next.wrongOTPs++
		if next.wrongOTPs >= OTPTries {
			s.renderDecline(w, pg, &next, OTPFailedDescription, "")
			return
		}
		v := s.withForm(s.newPageView(pg, rec, pageOTP), pg, &next)
		v.OTPTriesLeft = OTPTries - next.wrongOTPs
		v.Errors = []string{fmt.Sprintf("驗證碼錯誤，還可再試 %d 次。Wrong one-time password: %d tries left.", v.OTPTriesLeft, v.OTPTriesLeft)}
		s.render(w, http.StatusUnprocessableEntity, "otp", v)
		return
	}
	now := s.now()
	staging, bonus := pg.staging, a.bonus
	s.finishPayment(w, pg, func(o *sinopac.Order) {
		c := o.CardParam
		c.LeftCCNo, c.RightCCNo, c.CCExpDate, c.AuthCode = a.first6, a.last4, a.exp, authCode(now)
		if staging > 1 {
			c.StagingFirstAmount, c.StagingEachAmount = instalments(o.Amount, staging)
		}
		if bonus {
			b := bonusFor(o.Amount)
			c.BonusCount, c.BonusAmount, c.BonusPayAmount, c.BonusLastCount = b.used, b.discount, o.Amount-b.discount, b.left
		}
	}, "付款成功 Payment successful", "")
}

// renderDecline records a declined attempt and sends the browser back to
// the ReturnURL with its PayToken, as the bank does for a failed payment.
func (s *Server) renderDecline(w http.ResponseWriter, pg *payPage, a *cardAttempt, description, code string) {
	rec, tok := s.declineOnPage(pg, &decline{description: description, authResponse: code, first6: a.first6, last4: a.last4, exp: a.exp})
	v := s.newPageView(pg, &rec, pageCard)
	v.Result = &resultView{Heading: "付款失敗 Payment declined", Detail: description}
	v.setReturn(&rec, s.cfg.shopNo, tok)
	s.render(w, http.StatusOK, "result", v)
}

// renderState shows what became of an order that no longer waits for
// payment (HTTP 409: the page cannot pay it).
func (s *Server) renderState(w http.ResponseWriter, pg *payPage, rec *record) {
	v := s.newPageView(pg, rec, pg.kind)
	st := rec.Order.PayStatus
	switch {
	case st.Paid() || st.Authorized():
		v.Result = &resultView{OK: true, Heading: "此訂單已付款 This order has been paid", Detail: st.Label()}
	case st.Expired():
		v.Result = &resultView{Heading: "付款期限已過 The payment deadline has passed", Detail: st.Label()}
	case st.Cancelled():
		v.Result = &resultView{Heading: "此訂單已取消 This order has been cancelled", Detail: st.Label()}
	default:
		v.Result = &resultView{Heading: "此訂單無法付款 This order cannot be paid", Detail: st.Label()}
	}
	s.render(w, http.StatusConflict, "result", v)
}

// readPageForm reads a form POST: application/x-www-form-urlencoded, at
// most maxFormBytes, no field given twice.
func readPageForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	for _, v := range r.PostForm {
		if len(v) > 1 {
			return nil, false
		}
	}
	return r.PostForm, true
}

// sameOrigin refuses a POST that a browser says came from another site.
// Clients that send neither header (plain HTTP clients) pass: the form
// token is the protection, this is a second fence.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}

// checkCard validates the card form and returns the card number's digits
// and the problems, one message per field.
func checkCard(in cardInput, cvv string, now time.Time) (string, []string) {
	var errs []string
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, in.No)
	if !allDigits(digits) || len(digits) < 13 || len(digits) > 19 || !luhn(digits) {
		errs = append(errs, "卡號格式錯誤。The card number is not valid.")
	}
	exp := cardExp(in.Exp)
	switch {
	case exp == "":
		errs = append(errs, "有效期限格式為 MM/YY。Enter the expiry as MM/YY.")
	case cardExpired(exp, now):
		errs = append(errs, "卡片已過期。The card has expired.")
	}
	if !allDigits(cvv) || len(cvv) < 3 || len(cvv) > 4 {
		errs = append(errs, "背面末三碼為 3 位數字。The CVV is 3 digits.")
	}
	return digits, errs
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// luhn is the card number checksum.
func luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

var expPattern = regexp.MustCompile(`^\s*(0[1-9]|1[0-2])\s*/?\s*([0-9]{2})\s*$`)

// cardExp turns "MM/YY" (or "MMYY") into the bank's CCExpDate form MMYY,
// "" if malformed.
func cardExp(v string) string {
	m := expPattern.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

// cardExpired: a card is valid to the end of its expiry month (Taipei).
func cardExpired(mmyy string, now time.Time) bool {
	var mm, yy int
	fmt.Sscanf(mmyy, "%2d%2d", &mm, &yy)
	end := time.Date(2000+yy, time.Month(mm)+1, 1, 0, 0, 0, 0, sinopac.Taipei)
	return !now.Before(end)
}

// authCode is a six-digit authorisation code.
func authCode(now time.Time) string { return fmt.Sprintf("%06d", now.UnixNano()/1000%1000000) }

// instalments splits amount into n: equal whole-dollar instalments, the
// remainder in the first.
func instalments(amount sinopac.Amount, n int) (first, each sinopac.Amount) {
	each = amount / sinopac.Amount(n) / 100 * 100
	return amount - each*sinopac.Amount(n-1), each
}

// DemoBonusPoints is the bonus balance of the test card: the card page of
// an order with PayTypeSub BONUS offers to redeem it, 10 points for NT$1,
// for at most a tenth of the amount.
const DemoBonusPoints = 2000

type bonusUse struct{ used, discount, left sinopac.Amount }

// bonusFor is what redeeming the test card's points takes off amount:
// BonusCount and BonusLastCount are points (as the bank sends them, in
// the Amount fields' units), BonusAmount money.
func bonusFor(amount sinopac.Amount) bonusUse {
	discount := min(sinopac.TWD(DemoBonusPoints/10), amount/10/100*100)
	points := discount / 100 * 10
	return bonusUse{used: points, discount: discount, left: DemoBonusPoints - points}
}

// mobileChoices are the methods the mobile page offers.
func mobileChoices(choose string) string {
	if choose != "" {
		return choose
	}
	return "AGS"
}

// newCreatePage is the payment pages of an order being created from q.
func newCreatePage(o *sinopac.Order, q *orderCreateRequest) *payPage {
	pg := &payPage{orderNo: o.OrderNo, tsNo: o.TSNo, token: newPageToken(), kind: pageKind(o.PayType), qrSize: q.QRCodeSize}
	if c := q.CardParam; c != nil {
		pg.cardSub, pg.staging = c.PayTypeSub, c.Staging
	}
	if m := q.MobileParam; m != nil && len(m.ChoosePay) == 1 && strings.Contains("AGS", m.ChoosePay) {
		pg.choosePay = m.ChoosePay
	}
	if wp := q.WalletParam; wp != nil {
		pg.wallet = wp.PayTypeSub
	}
	return pg
}

// defaultQRSize is the QR code image's size in pixels when OrderCreate
// gave no QRCodeSize: the smallest the bank takes.
const defaultQRSize = 350

// serveQR serves the QR code of an order's payment page as a PNG of
// QRCodeSize pixels.
func (s *Server) serveQR(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pg, ok := s.findPage(q.Get("TD"), q.Get("TK"), "")
	if !ok {
		http.Error(w, "Not found", http.StatusNotFound)
		return
	}
	size := pg.qrSize
	if size == 0 {
		size = defaultQRSize
	}
	img, err := qrPNG(s.pageURL(pg.kind, pg.tsNo, pg.token), size)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(img)
}
