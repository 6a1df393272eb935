package qpaytest_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// page is an HTML page as a simple client sees it: its status, headers,
// text and forms.
type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
	forms  []htmlForm
}

// htmlForm is a form of a page: where it posts and its inputs' values.
type htmlForm struct {
	id, action string
	fields     url.Values
}

var (
	formRe  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`([a-zA-Z-]+)(?:="([^"]*)")?`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

func parsePage(t *testing.T, u *url.URL, resp *http.Response) *page {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := &page{url: u, status: resp.StatusCode, header: resp.Header, body: string(b)}
	for _, f := range formRe.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		hf := htmlForm{id: fa["id"], action: fa["action"], fields: url.Values{}}
		for _, in := range inputRe.FindAllStringSubmatch(f[2], -1) {
			ia := attrs(in[1])
			switch ia["type"] {
			case "checkbox", "radio":
				if _, on := ia["checked"]; !on {
					continue
				}
			}
			if ia["name"] != "" {
				hf.fields.Set(ia["name"], ia["value"])
			}
		}
		p.forms = append(p.forms, hf)
	}
	return p
}

// get fetches a page without following redirects.
func get(t *testing.T, raw string) *page {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirects.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	return parsePage(t, u, resp)
}

// noRedirects is the tests' browser: it follows no redirect (the pages
// need none) and keeps no connection open (goleak).
var noRedirects = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// form returns the page's form with id.
func (p *page) form(t *testing.T, id string) htmlForm {
	t.Helper()
	for _, f := range p.forms {
		if f.id == id {
			return f
		}
	}
	t.Fatalf("no form %q on the page (HTTP %d):\n%s", id, p.status, p.body)
	return htmlForm{}
}

// submit posts f as a browser would, with extra fields set, and reads the
// answer.
func (p *page) submit(t *testing.T, f htmlForm, set map[string]string) *page {
	t.Helper()
	target, err := p.url.Parse(f.action)
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	for k, vs := range f.fields {
		v[k] = append([]string(nil), vs...)
	}
	for k, val := range set {
		v.Set(k, val)
	}
	resp, err := noRedirects.PostForm(target.String(), v)
	if err != nil {
		t.Fatal(err)
	}
	return parsePage(t, target, resp)
}

func (p *page) has(texts ...string) bool {
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			return false
		}
	}
	return true
}

// shop is a merchant for page tests: its ReturnURL records what the
// customer's browser posts, its BackendURL answers as told.
type shop struct {
	url     string
	mu      sync.Mutex
	returns []url.Values
	backend []string
}

func newShop(t *testing.T) *shop {
	t.Helper()
	sh := &shop{}
	mux := http.NewServeMux()
	mux.HandleFunc("/return", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		sh.mu.Lock()
		sh.returns = append(sh.returns, r.PostForm)
		sh.mu.Unlock()
		io.WriteString(w, "<p>thanks</p>")
	})
	mux.HandleFunc("/backend", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sh.mu.Lock()
		sh.backend = append(sh.backend, string(b))
		sh.mu.Unlock()
		io.WriteString(w, `{"Status":"S"}`)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	sh.url = ts.URL
	return sh
}

// cardOrder creates a card order whose callbacks go to sh.
func cardOrder(t *testing.T, c *sinopac.Client, sh *shop, no string, p *sinopac.CardParamRequest) *sinopac.ResponseOrderCreate {
	t.Helper()
	if p == nil {
		p = &sinopac.CardParamRequest{AutoBilling: "Y"}
	}
	r, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: no, Amount: sinopac.TWD(1200), PayType: sinopac.PayTypeCard,
		CardParam: p, PrdtName: "咖啡豆 <1kg> & 濾紙", ReturnURL: sh.url + "/return", BackendURL: sh.url + "/backend"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// payWithTestCard walks the card page and the OTP page and returns the
// result page.
func payWithTestCard(t *testing.T, cardURL string) *page {
	t.Helper()
	p := get(t, cardURL)
	if p.status != 200 {
		t.Fatalf("card page: HTTP %d\n%s", p.status, p.body)
	}
	otp := p.submit(t, p.form(t, "card-form"), map[string]string{"CardNo": "4143-5200-0187-0127", "ExpDate": qpaytest.TestCardExp, "CVV": qpaytest.TestCardCVV})
	if otp.status != 200 {
		t.Fatalf("OTP page: HTTP %d\n%s", otp.status, otp.body)
	}
	return otp.submit(t, otp.form(t, "otp-form"), map[string]string{"OTP": qpaytest.TestOTP})
}
