package sinopac

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// leanTransport is the default client's HTTP/1.1 transport. A QPay call
// is two small POSTs, and with net/http's Transport each costs a writer
// and a reader goroutine per connection and two hand-offs between them
// and the caller: about 200 µs of client CPU per request on our machines,
// more than everything else in a call together. leanTransport writes the
// request and reads the reply on the caller's goroutine over a pooled
// keep-alive connection (about 75 µs).
//
// It does no more than the SDK's requests need, and leaves the rest to the
// standard transport it holds (std, configured as before): a request that
// goes through a proxy (HTTPS_PROXY, …), or is neither http nor https, is
// sent by std. It never retries: a request that failed after it may have
// been written is reported as such (the pipeline's stage), and a pooled
// connection is checked for a close by the server before it is reused.
// It calls the httptrace hooks the pipeline reads (GetConn, GotConn,
// WroteHeaders before the first byte is written, WroteRequest).
type leanTransport struct {
	std     *http.Transport // fallback; its TLSClientConfig, Proxy and timeouts are ours too
	dialer  net.Dialer
	timeout time.Duration // bounds each request, its body read included (0: none)

	mu   sync.Mutex
	idle map[string][]*leanConn // by scheme://host:port, newest last
}

// leanMaxIdle is how many idle connections per host are kept: a client
// makes one call at a time per goroutine, and the gateway serves one shop.
const leanMaxIdle = 4

type leanConn struct {
	net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it went idle
}

func newLeanTransport(std *http.Transport, timeout time.Duration) *leanTransport {
	return &leanTransport{std: std, dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		timeout: timeout, idle: make(map[string][]*leanConn)}
}

// RoundTrip sends req on a pooled or new connection, within the
// transport's timeout: the request's context gets that deadline (unless
// it has an earlier one) until the reply's body is read or closed.
func (t *leanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cancel := context.CancelFunc(func() {})
	if t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
		req = req.WithContext(ctx)
	}
	resp, err := t.roundTrip(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends the request's timeout with its body.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.cancel()
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (t *leanTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" || req.URL.Host == "" {
		return t.std.RoundTrip(req)
	}
	if t.std.Proxy != nil {
		if p, err := t.std.Proxy(req); err != nil || p != nil {
			return t.std.RoundTrip(req)
		}
	}
	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	key := req.URL.Scheme + "://" + hostPort(req)
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(hostPort(req))
	}
	lc, reused, err := t.conn(ctx, req, key)
	if err != nil {
		return nil, err
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: lc.Conn, Reused: reused})
	}
	// From here on the request may reach the server: say so before the
	// first byte leaves, so that no failure below can pass for "unsent".
	if trace != nil && trace.WroteHeaders != nil {
		trace.WroteHeaders()
	}
	// The context ends the exchange (its deadline included: http.Client's
	// Timeout is one), by poisoning the connection's deadline; the error
	// is then the context's.
	stop := context.AfterFunc(ctx, func() { _ = lc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		lc.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	err = req.Write(lc.bw)
	if err == nil {
		err = lc.bw.Flush()
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
	if err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(lc.br, req)
	if err != nil {
		return fail(err)
	}
	keep := !resp.Close && !req.Close && resp.ProtoAtLeast(1, 1)
	resp.Body = &leanBody{ctx: ctx, rc: resp.Body, t: t, lc: lc, key: key, keep: keep, stop: stop}
	return resp, nil
}

// hostPort is the request's host with the scheme's port when none is given.
func hostPort(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// conn takes the newest live idle connection for key, or dials one.
func (t *leanTransport) conn(ctx context.Context, req *http.Request, key string) (*leanConn, bool, error) {
	for {
		t.mu.Lock()
		list := t.idle[key]
		var lc *leanConn
		if n := len(list); n > 0 {
			lc, t.idle[key] = list[n-1], list[:n-1]
		}
		t.mu.Unlock()
		if lc == nil {
			break
		}
		if t.alive(lc) {
			return lc, true, nil
		}
		lc.Close()
	}
	c, err := t.dialer.DialContext(ctx, "tcp", hostPort(req))
	if err != nil {
		return nil, false, err
	}
	if req.URL.Scheme == "https" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.std.TLSClientConfig != nil {
			cfg = t.std.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(c, cfg)
		hctx := ctx
		if d := t.std.TLSHandshakeTimeout; d > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := tc.HandshakeContext(hctx); err != nil {
			c.Close()
			return nil, false, err
		}
		c = tc
	}
	return &leanConn{Conn: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}, false, nil
}

// alive reports whether an idle connection is still open and quiet: the
// server may have closed it (an EOF waits in the buffer) since it was used.
// A connection idle longer than the standard transport's IdleConnTimeout
// is not reused either.
func (t *leanTransport) alive(lc *leanConn) bool {
	if d := t.std.IdleConnTimeout; d > 0 && time.Since(lc.used) > d {
		return false
	}
	if lc.br.Buffered() > 0 {
		return false // bytes nobody asked for: not a clean connection
	}
	return quiet(lc.Conn)
}

// put returns a connection to the pool, or closes it when the pool is full.
func (t *leanTransport) put(key string, lc *leanConn) {
	_ = lc.SetDeadline(time.Time{})
	lc.used = time.Now()
	t.mu.Lock()
	if len(t.idle[key]) < leanMaxIdle {
		t.idle[key] = append(t.idle[key], lc)
		lc = nil
	}
	t.mu.Unlock()
	if lc != nil {
		lc.Close()
	}
}

// CloseIdleConnections closes the pooled connections (http.Client calls
// it), the standard transport's too.
func (t *leanTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[string][]*leanConn)
	t.mu.Unlock()
	for _, list := range idle {
		for _, lc := range list {
			lc.Close()
		}
	}
	t.std.CloseIdleConnections()
}

// leanBody is a reply body: read to its end on a keep-alive connection,
// it gives the connection back to the pool; closed before, it closes it.
type leanBody struct {
	ctx  context.Context
	rc   io.ReadCloser
	t    *leanTransport
	lc   *leanConn
	key  string
	keep bool
	stop func() bool

	once sync.Once
	eof  bool
}

func (b *leanBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
		b.done()
	case err != nil:
		b.done()
		if cerr := b.ctx.Err(); cerr != nil {
			err = cerr // the context cut it short (its hook poisoned the deadline)
		}
	}
	return n, err
}

func (b *leanBody) Close() error {
	b.done()
	return nil
}

// done ends the exchange once: the connection goes back to the pool only
// when the body was read to its end, the cancellation hook could still be
// stopped (it has not poisoned the deadline) and both sides keep it alive.
func (b *leanBody) done() {
	b.once.Do(func() {
		stopped := b.stop()
		if b.eof && b.keep && stopped {
			b.t.put(b.key, b.lc)
			return
		}
		b.lc.Close()
	})
}
