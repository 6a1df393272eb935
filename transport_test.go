package sinopac

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers each POST with "got <body>" and records the client
// address of every request: one address is one connection.
type echoServer struct {
	*httptest.Server
	mu    sync.Mutex
	addrs []string
}

func newEchoServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request) bool) *echoServer {
	s := &echoServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.addrs = append(s.addrs, r.RemoteAddr)
		s.mu.Unlock()
		if handle != nil && handle(w, r) {
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "got "+r.Header.Get("X-KeyID")+" "+string(b))
	}))
	s.Config.ErrorLog = discardLogger()
	t.Cleanup(s.Close)
	return s
}

// conns is how many connections the requests so far came on.
func (s *echoServer) conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, a := range s.addrs {
		seen[a] = true
	}
	return len(seen)
}

func leanClient(t *testing.T) (*http.Client, *leanTransport) {
	std := http.DefaultTransport.(*http.Transport).Clone()
	std.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	std.Proxy = nil
	lt := newLeanTransport(std, 10*time.Second)
	t.Cleanup(lt.CloseIdleConnections)
	return &http.Client{Transport: lt, CheckRedirect: noRedirect}, lt
}

func leanPost(ctx context.Context, hc *http.Client, u, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-KeyID", "k1")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestLeanTransportReusesOneConnection(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t, nil)
	hc, _ := leanClient(t)
	for i := range 20 {
		got, err := leanPost(t.Context(), hc, s.URL+"/api/Order", `{"n":`+string(rune('0'+i%10))+`}`)
		require.NoError(t, err)
		assert.Equal(t, `got k1 {"n":`+string(rune('0'+i%10))+`}`, got, "the request's headers and body arrive as sent")
	}
	assert.Equal(t, 1, s.conns(), "one keep-alive connection for sequential calls")
}

// The server closes the connection after its answer, without saying so:
// the pooled connection is found closed before reuse and a new one dialled,
// so the next call works (a POST is never resent on a dead connection).
func TestLeanTransportRedialsAfterTheServerClosed(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 1)
	s := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.ReadAll(r.Body)
		conn, rw, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_ = rw.Flush()
		_ = conn.Close()
		closed <- struct{}{}
		return true
	})
	hc, _ := leanClient(t)
	for range 3 {
		got, err := leanPost(t.Context(), hc, s.URL, "x")
		require.NoError(t, err)
		assert.Equal(t, "ok", got)
		<-closed
	}
	assert.Equal(t, 3, s.conns())
}

func TestLeanTransportConnectionCloseIsNotPooled(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Connection", "close")
		return false
	})
	hc, lt := leanClient(t)
	for range 2 {
		_, err := leanPost(t.Context(), hc, s.URL, "x")
		require.NoError(t, err)
	}
	assert.Equal(t, 2, s.conns())
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for _, list := range lt.idle {
		assert.Empty(t, list)
	}
}

// A body closed before its end takes its connection with it: what is left
// of it must never be read as the next reply.
func TestLeanTransportUnreadBodyClosesTheConnection(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.WriteString(w, strings.Repeat("a", 10000))
		return true
	})
	hc, _ := leanClient(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL, strings.NewReader("x"))
	resp, err := hc.Do(req)
	require.NoError(t, err)
	buf := make([]byte, 10)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	got, err := leanPost(t.Context(), hc, s.URL, "x")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a", 10000), got)
	assert.Equal(t, 2, s.conns())
}

func TestLeanTransportChunkedReply(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		for range 3 {
			_, _ = io.WriteString(w, "part;")
			w.(http.Flusher).Flush()
		}
		return true
	})
	hc, _ := leanClient(t)
	for range 2 {
		got, err := leanPost(t.Context(), hc, s.URL, "x")
		require.NoError(t, err)
		assert.Equal(t, "part;part;part;", got)
	}
	assert.Equal(t, 1, s.conns(), "a chunked reply read to its end keeps the connection")
}

// A hung server: the deadline ends the call with the context's error at
// once, and the connection is not reused.
func TestLeanTransportHonoursTheContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	s := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-Hang") == "" {
			return false
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	hc, _ := leanClient(t)
	_, err := leanPost(t.Context(), hc, s.URL, "warm")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader("x"))
	req.Header.Set("X-Hang", "1")
	start := time.Now()
	_, err = hc.Do(req)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	once.Do(func() { close(release) })

	got, err := leanPost(t.Context(), hc, s.URL, "after")
	require.NoError(t, err)
	assert.Equal(t, "got k1 after", got)
	assert.Equal(t, 2, s.conns(), "the cut connection was dropped")
}

// A request whose URL a proxy serves goes through the standard transport.
func TestLeanTransportLeavesProxiesToTheStandardTransport(t *testing.T) {
	t.Parallel()
	var viaProxy sync.Map
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		viaProxy.Store(r.URL.String(), true) // a proxied request carries the absolute URL
		_, _ = io.WriteString(w, "from proxy")
	}))
	t.Cleanup(proxy.Close)
	hc, lt := leanClient(t)
	pu, _ := url.Parse(proxy.URL)
	lt.std.Proxy = http.ProxyURL(pu)
	got, err := leanPost(t.Context(), hc, "http://bank.invalid/api/Nonce", "x")
	require.NoError(t, err)
	assert.Equal(t, "from proxy", got)
	_, ok := viaProxy.Load("http://bank.invalid/api/Nonce")
	assert.True(t, ok)
}

// The hooks the pipeline's stage reads: a refused dial comes before
// WroteHeaders (provably unsent); once a connection is held, WroteHeaders
// comes before the first byte, so a failure after it counts as sent.
func TestLeanTransportTrace(t *testing.T) {
	t.Parallel()
	type seen struct{ getConn, gotConn, wroteHeaders, wroteRequest bool }
	traced := func(ctx context.Context, s *seen) context.Context {
		return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GetConn:      func(string) { s.getConn = true },
			GotConn:      func(httptrace.GotConnInfo) { s.gotConn = true },
			WroteHeaders: func() { s.wroteHeaders = true },
			WroteRequest: func(httptrace.WroteRequestInfo) { s.wroteRequest = true },
		})
	}
	hc, _ := leanClient(t)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	var s1 seen
	_, err = leanPost(traced(t.Context(), &s1), hc, refused, "x")
	require.Error(t, err)
	assert.Equal(t, seen{getConn: true}, s1, "refused: the request never left")

	// A server that reads the request and hangs up without a reply.
	hang := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return true
	})
	var s2 seen
	_, err = leanPost(traced(t.Context(), &s2), hc, hang.URL, "x")
	require.Error(t, err)
	assert.Equal(t, seen{true, true, true, true}, s2, "written, then the reply was lost: maybe sent")

	ok := newEchoServer(t, nil)
	var s3 seen
	_, err = leanPost(traced(t.Context(), &s3), hc, ok.URL, "x")
	require.NoError(t, err)
	assert.Equal(t, seen{true, true, true, true}, s3)
}

// A reply that is no HTTP at all is an error, not a hang or a panic.
func TestLeanTransportGarbageReply(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = bufio.NewReader(c).ReadString('\n')
		_, _ = io.WriteString(c, "SSH-2.0-nope\r\n\r\n")
	}()
	hc, _ := leanClient(t)
	_, err = leanPost(t.Context(), hc, "http://"+l.Addr().String(), "x")
	require.Error(t, err)
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout())
}

// The transport's own timeout bounds a request whose context has none, the
// reply body's read included.
func TestLeanTransportTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s := newEchoServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "12345")
		w.(http.Flusher).Flush()
		select { // the rest of the body never comes
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	hc, lt := leanClient(t)
	lt.timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := leanPost(context.Background(), hc, s.URL, "x")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}
