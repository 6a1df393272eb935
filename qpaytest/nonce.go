package qpaytest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// nonceBook issues and checks nonces without remembering each one. A
// nonce has the bank's shape: base64 of "<ticks>.<n>:<64 hex digits>", 108
// characters, where ticks is the issue time in milliseconds since
// 0001-01-01 by the Taipei wall clock (14 digits, like the bank's
// "63767958511665.4:…"), n is 1 for a nonce issued on /Nonce and 2 for the
// server's own reply nonces, and the hex digits are a sequence number (16)
// and an HMAC (48) of "ticks.n" + seq and the client's IP address under a
// per-server secret (the bank accepts a nonce only from the IP that
// fetched it). A presented nonce is authentic when its MAC verifies; one
// bit per seq records its use. So memory stays at one bit per nonce
// however long the simulator runs, and every reuse is seen. Guarded by
// Server.mu.
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

// mac is the 48 hex digits that authenticate head ("ticks.n"), seq and ip.
func (b *nonceBook) mac(head, seq, ip string) string {
	h := hmac.New(sha256.New, b.secret)
	h.Write([]byte(head + ":" + seq + "@" + ip))
	return hex.EncodeToString(h.Sum(nil)[:24])
}

// dotnetEpochMs is 0001-01-01 (where .NET's DateTime ticks start) in
// Unix milliseconds.
const dotnetEpochMs = -62135596800000

// nonceTicks is t as the bank writes it in a nonce: milliseconds since
// 0001-01-01 of the Taipei wall-clock time.
func nonceTicks(t time.Time) string {
	wall := t.In(sinopac.Taipei)
	_, offset := wall.Zone()
	return fmt.Sprintf("%014d", wall.UnixMilli()+int64(offset)*1000-dotnetEpochMs)
}

// parseTicks reverses nonceTicks.
func parseTicks(v string) (time.Time, bool) {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return time.Time{}, false
	}
	wall := time.UnixMilli(ms + dotnetEpochMs).UTC()
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), sinopac.Taipei), true
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
	head := nonceTicks(s.now()) + ".1"
	seqHex := fmt.Sprintf("%016x", seq)
	return base64.StdEncoding.EncodeToString([]byte(head + ":" + seqHex + s.nonces.mac(head, seqHex, ip)))
}

// replyNonce is the server's own fresh nonce for sealing a reply (n = 2,
// random digits); it is never accepted on a request.
func (s *Server) replyNonce() string {
	var rnd [32]byte
	rand.Read(rnd[:])
	return base64.StdEncoding.EncodeToString([]byte(nonceTicks(s.now()) + ".2:" + hex.EncodeToString(rnd[:])))
}

// parse returns the issue time and seq of a nonce issued to ip.
func (b *nonceBook) parse(n, ip string) (time.Time, uint64, bool) {
	raw, err := base64.StdEncoding.DecodeString(n)
	if err != nil {
		return time.Time{}, 0, false
	}
	head, tail, found := strings.Cut(string(raw), ":")
	ticks, kind, _ := strings.Cut(head, ".")
	if !found || kind != "1" || len(tail) != 64 {
		return time.Time{}, 0, false
	}
	seqHex, mac := tail[:16], tail[16:]
	if !hmac.Equal([]byte(mac), []byte(b.mac(head, seqHex, ip))) {
		return time.Time{}, 0, false
	}
	issued, ok1 := parseTicks(ticks)
	seq, err := strconv.ParseUint(seqHex, 16, 64)
	if !ok1 || err != nil || seq == 0 {
		return time.Time{}, 0, false
	}
	return issued, seq, true
}

// useNonce consumes a request's nonce: "" if it was good, else the code.
// A nonce the server never issued (or issued to another IP) is E3001, one
// presented before (reused) E3002, one older than NonceLifetime E3003.
func (s *Server) useNonce(n, ip string) sinopac.Code {
	issued, seq, ok := s.nonces.parse(n, ip) // secret is immutable: no lock
	if !ok {
		return sinopac.CodeNonceError
	}
	// Both ends at the nonce's millisecond precision.
	now, _ := parseTicks(nonceTicks(s.now()))
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
