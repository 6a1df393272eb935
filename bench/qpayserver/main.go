// Command qpayserver is a small QPay server for the side-by-side client
// measurement of BENCHMARKS.md. It is written from the protocol's rules
// (shared/qpay-protocol.md §2) and imports nothing of the SDK, so the Go
// and the Python client are measured against the same independent peer.
//
// It issues fresh nonces (single use, 60 s), opens each Order request
// (decrypt with the request nonce's IV, verify the raw-rule Sign), and
// answers OrderQuery with a fixed reply sealed under a new nonce: the
// seed's single order when OrderNo is set, a 300-order page otherwise.
//
//	qpayserver -addr 127.0.0.1:0   # prints "listening http://ADDR/api"
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// The sandbox shop and keys of the bank's examples (public test values).
const (
	shopNo = "NA0249_001"
	a1, a2 = "86D50DEF3EB7400E", "01FD27C09E5549E5"
	b1, b2 = "9E004965F4244953", "7FB3385F414E4F91"
)

var hashID = func() string {
	x := func(p, q string) string {
		bp, _ := hex.DecodeString(p)
		bq, _ := hex.DecodeString(q)
		for i := range bp {
			bp[i] ^= bq[i]
		}
		return strings.ToUpper(hex.EncodeToString(bp))
	}
	return x(a1, a2) + x(b1, b2)
}()

func iv(nonce string) []byte {
	s := sha256.Sum256([]byte(nonce))
	h := strings.ToUpper(hex.EncodeToString(s[:]))
	return []byte(h[len(h)-16:])
}

// signString is S of protocol §2 step 5: the top-level scalar members
// other than "" and null, sorted by name case-insensitively.
func signString(plain []byte) (string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(plain, &top); err != nil {
		return "", err
	}
	var pairs []string
	for k, raw := range top {
		switch raw[0] {
		case '{', '[', 'n':
			continue
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", err
			}
			if s != "" {
				pairs = append(pairs, k+"="+s)
			}
		default:
			pairs = append(pairs, k+"="+string(raw))
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		ki, kj := pairs[i][:strings.IndexByte(pairs[i], '=')], pairs[j][:strings.IndexByte(pairs[j], '=')]
		return strings.ToLower(ki) < strings.ToLower(kj)
	})
	return strings.Join(pairs, "&"), nil
}

func sign(s, nonce string) string {
	sum := sha256.Sum256([]byte(s + nonce + hashID))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func encrypt(plain []byte, nonce string) string {
	block, _ := aes.NewCipher([]byte(hashID))
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv(nonce)).CryptBlocks(buf, buf)
	return strings.ToUpper(hex.EncodeToString(buf))
}

func decrypt(msg, nonce string) ([]byte, error) {
	buf, err := hex.DecodeString(msg)
	if err != nil || len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("bad Message")
	}
	block, _ := aes.NewCipher([]byte(hashID))
	cipher.NewCBCDecrypter(block, iv(nonce)).CryptBlocks(buf, buf)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, fmt.Errorf("bad padding")
	}
	return buf[:len(buf)-pad], nil
}

// newNonce looks like the bank's: base64 of "<ms ticks>.<n>:<64 hex>".
func newNonce() string {
	var r [32]byte
	_, _ = rand.Read(r[:])
	ticks := (time.Now().UnixMilli() + 62135596800000)
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d:%x", ticks, time.Now().Nanosecond()%10, r))
}

// reply is a fixed plaintext with its sign string, sealed per request.
type reply struct {
	plain []byte
	s     string
}

func mustReply(plain []byte) reply {
	s, err := signString(plain)
	if err != nil {
		log.Fatal(err)
	}
	return reply{plain, s}
}

type server struct {
	single, page reply

	mu     sync.Mutex
	issued map[string]time.Time
}

func (sv *server) nonce(w http.ResponseWriter, r *http.Request) {
	var req struct{ ShopNo string }
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.ShopNo != shopNo {
		http.Error(w, `{"Status":"F","Description":"E0100 – 商店代號錯誤"}`, http.StatusOK)
		return
	}
	n := newNonce()
	sv.mu.Lock()
	sv.issued[n] = time.Now()
	sv.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"Nonce":%q}`, n)
}

func (sv *server) order(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var env struct{ Version, ShopNo, APIService, Sign, Nonce, Message string }
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"Status":"F","Description":"%s – error"}`, code)
	}
	if json.Unmarshal(body, &env) != nil || env.APIService != "OrderQuery" || env.ShopNo != shopNo {
		fail("E0001")
		return
	}
	sv.mu.Lock()
	at, ok := sv.issued[env.Nonce]
	delete(sv.issued, env.Nonce)
	sv.mu.Unlock()
	if !ok || time.Since(at) > 60*time.Second {
		fail("E3002")
		return
	}
	plain, err := decrypt(env.Message, env.Nonce)
	if err != nil {
		fail("E3501")
		return
	}
	s, err := signString(plain)
	if err != nil || sign(s, env.Nonce) != strings.ToUpper(env.Sign) {
		fail("E0000")
		return
	}
	var q struct{ OrderNo string }
	_ = json.Unmarshal(plain, &q)
	rep := sv.page
	if q.OrderNo != "" {
		rep = sv.single
	}
	n := newNonce()
	out, _ := json.Marshal(map[string]string{ // the keys come out sorted; the bank's order is not signed
		"Version": "1.0.0", "ShopNo": shopNo, "APIService": "OrderQuery",
		"Sign": sign(rep.s, n), "Nonce": n, "Message": encrypt(rep.plain, n),
	})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(out)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	sv := &server{single: mustReply(singleReply), page: mustReply(pageReply()), issued: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/Nonce", sv.nonce)
	mux.HandleFunc("POST /api/Order", sv.order)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening http://%s/api\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
