package qpaytest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// nonceBook issues and checks nonces without remembering each one: a nonce
// is base64("ticks.seq:mac") like the bank's, where ticks is the issue time
// in 100 ns units, seq counts from 1 and mac is an HMAC of "ticks.seq" and
// the client's IP address under a per-server secret (the bank accepts a
// nonce only from the IP that fetched it). A presented nonce is authentic when its mac
// verifies; one bit per seq records its use. So memory stays at one bit
// per nonce however long the simulator runs, and every reuse is seen.
// Guarded by Server.mu.
type nonceBook struct {
	secret []byte
	seq    uint64
	used   []uint64 // bit seq set once presented
}

func newNonceBook() nonceBook {
	secret := make([]byte, 32)
	rand.Read(secret)
	return nonceBook{secret: secret}
}

func (b *nonceBook) mac(body, ip string) string {
	h := hmac.New(sha256.New, b.secret)
	h.Write([]byte(body + "@" + ip))
	return hex.EncodeToString(h.Sum(nil))
}

// clientIP is the host part of a request's RemoteAddr.
func clientIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// issueNonce returns a new nonce for the client at ip, usable once within
// NonceLifetime of the server's clock.
func (s *Server) issueNonce(ip string) string {
	s.mu.Lock()
	s.nonces.seq++
	seq := s.nonces.seq
	s.stats.NoncesIssued++
	s.mu.Unlock()
	body := strconv.FormatInt(s.now().UnixNano()/100, 10) + "." + strconv.FormatUint(seq, 10)
	return base64.StdEncoding.EncodeToString([]byte(body + ":" + s.nonces.mac(body, ip)))
}

// replyNonce is the server's own fresh nonce for sealing a reply (seq 0,
// random tail); it is never accepted on a request.
func (s *Server) replyNonce() string {
	var rnd [32]byte
	rand.Read(rnd[:])
	body := strconv.FormatInt(s.now().UnixNano()/100, 10) + ".0:" + hex.EncodeToString(rnd[:])
	return base64.StdEncoding.EncodeToString([]byte(body))
}

// parse returns the issue time and seq of a nonce issued to ip.
func (b *nonceBook) parse(n, ip string) (time.Time, uint64, bool) {
	raw, err := base64.StdEncoding.DecodeString(n)
	if err != nil {
		return time.Time{}, 0, false
	}
	body, mac, found := strings.Cut(string(raw), ":")
	if !found || !hmac.Equal([]byte(mac), []byte(b.mac(body, ip))) {
		return time.Time{}, 0, false
	}
	ticksStr, seqStr, _ := strings.Cut(body, ".")
	ticks, err1 := strconv.ParseInt(ticksStr, 10, 64)
	seq, err2 := strconv.ParseUint(seqStr, 10, 64)
	if err1 != nil || err2 != nil || seq == 0 {
		return time.Time{}, 0, false
	}
	return time.Unix(0, ticks*100), seq, true
}

// useNonce consumes a request's nonce: "" if it was good, else the code.
// A nonce the server never issued (or issued to another IP) is E3001, one
// presented before (reused) E3002, one older than NonceLifetime E3003.
func (s *Server) useNonce(n, ip string) sinopac.Code {
	issued, seq, ok := s.nonces.parse(n, ip) // secret is immutable: no lock
	if !ok {
		return sinopac.CodeNonceError
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.nonces
	w, bit := seq/64, uint64(1)<<(seq%64)
	for uint64(len(b.used)) <= w {
		b.used = append(b.used, 0)
	}
	if b.used[w]&bit != 0 {
		s.stats.NoncesReused++
		return sinopac.CodeNonceInvalid
	}
	b.used[w] |= bit
	if now.Sub(issued) > NonceLifetime {
		s.stats.NoncesExpired++
		return sinopac.CodeNonceExpired
	}
	return ""
}
