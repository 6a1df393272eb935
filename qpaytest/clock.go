package qpaytest

import (
	"container/heap"
	"reflect"
	"sync"
	"time"
)

// Clock is a manual clock for tests: its time stands still until Advance
// moves it. Given to WithClock, it is the server's clock and drives every
// timer of the server: auto-pay and expiry (WithAutoPay), the resends of
// BackendURL notifications (every WithNotifyRetry interval), and, through
// Now, nonce lifetime, RefundToken lifetime and every date the server
// writes. Advance runs each timer that falls due in order, at its own
// time, and returns only when it and its effects (state changes,
// notification POSTs and the merchant's answers) are done, so tests need
// no sleeps. A Clock may drive several servers. Its methods are safe for
// concurrent use, but Advance must not be called from a merchant's
// handler that a notification of the same clock is waiting for.
type Clock struct {
	mu    sync.Mutex
	idle  sync.Cond // on mu: busy fell to 0
	now   time.Time
	seq   uint64
	queue timerQueue
	busy  int // timer callbacks and notifications running now
}

// NewClock returns a Clock that reads t0 until advanced.
func NewClock(t0 time.Time) *Clock {
	c := &Clock{now: t0}
	c.idle.L = &c.mu
	return c
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock d forward (d must not be negative). It first
// waits for work already under way (a notification sent by Pay, say), then
// fires every timer due by the new time in order, each with the clock set
// to its due time, waiting for the work each one starts, and leaves the
// clock at Now()+d.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic("qpaytest: Clock.Advance with a negative duration")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.now.Add(d)
	for {
		for c.busy > 0 {
			c.idle.Wait()
		}
		if len(c.queue) == 0 || c.queue[0].at.After(target) {
			break
		}
		t := heap.Pop(&c.queue).(*clockTimer)
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.busy++
		c.mu.Unlock()
		t.owner.fire(t.fn)
		c.mu.Lock()
		c.doneLocked()
	}
	c.now = target
}

// schedule runs fn on owner at t (which should be after Now).
func (c *Clock) schedule(owner *Server, at time.Time, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	heap.Push(&c.queue, &clockTimer{at: at, seq: c.seq, owner: owner, fn: fn})
}

// cancel drops every timer of owner.
func (c *Clock) cancel(owner *Server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.queue[:0]
	for _, t := range c.queue {
		if t.owner != owner {
			kept = append(kept, t)
		}
	}
	clear(c.queue[len(kept):])
	c.queue = kept
	heap.Init(&c.queue)
}

// begin and done count work that Advance waits for.
func (c *Clock) begin() {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

func (c *Clock) done() {
	c.mu.Lock()
	c.doneLocked()
	c.mu.Unlock()
}

func (c *Clock) doneLocked() {
	c.busy--
	if c.busy == 0 {
		c.idle.Broadcast()
	}
}

// clockTimer is one pending timer; timers due at the same time fire in the
// order they were set.
type clockTimer struct {
	at    time.Time
	seq   uint64
	owner *Server
	fn    func()
}

type timerQueue []*clockTimer

func (q timerQueue) Len() int { return len(q) }
func (q timerQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q timerQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *timerQueue) Push(x any)   { *q = append(*q, x.(*clockTimer)) }
func (q *timerQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return t
}

// WithClock sets the server's clock. It takes a *Clock, which then drives
// every timer of the server (see Clock), or a plain func() time.Time such
// as a time.Now shifted by a few minutes: then nonce expiry, RefundToken
// expiry, reply Date fields, PayDate of Pay and the expiry of auto-paid
// orders follow it, while timers (auto-pay delay, notification resends)
// run in real time.
func WithClock[C ~func() time.Time | *Clock](clock C) Option {
	return func(c *config) {
		switch v := any(clock).(type) {
		case *Clock:
			c.clock, c.now = v, nil
			if v != nil {
				c.now = v.Now
			}
		case func() time.Time:
			c.clock, c.now = nil, v
		default: // a named func type
			f := reflect.ValueOf(clock).Convert(reflect.TypeFor[func() time.Time]())
			c.clock, c.now = nil, f.Interface().(func() time.Time)
		}
	}
}

// The server's timers: on its Clock if it has one, else real time.

// afterLocked runs fn after d by the server's clock. s.mu is held.
func (s *Server) afterLocked(d time.Duration, fn func()) {
	s.atLocked(s.now().Add(d), fn)
}

// atLocked runs fn at t by the server's clock (now if t has passed), in a
// goroutine that Close stops and WaitIdle waits for. s.mu is held.
func (s *Server) atLocked(t time.Time, fn func()) {
	if s.closed {
		return
	}
	d := t.Sub(s.now())
	if d <= 0 {
		s.goLocked(fn)
		return
	}
	if c := s.cfg.clock; c != nil {
		c.schedule(s, t, fn)
		return
	}
	s.timerSeq++
	id := s.timerSeq
	s.timers[id] = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, id)
		s.mu.Unlock()
		s.fire(fn)
	})
}

// goLocked runs fn now in a goroutine counted as work. s.mu is held.
func (s *Server) goLocked(fn func()) {
	if !s.beginLocked() {
		return
	}
	go func() {
		defer s.done()
		fn()
	}()
}

// fire runs fn now, counted as work, unless the server is closed.
func (s *Server) fire(fn func()) {
	s.mu.Lock()
	ok := s.beginLocked()
	s.mu.Unlock()
	if !ok {
		return
	}
	defer s.done()
	fn()
}

// beginLocked counts one piece of work (Close waits for it, WaitIdle and
// Clock.Advance too) unless the server is closed. s.mu is held.
func (s *Server) beginLocked() bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	if s.busy == 0 {
		s.idle = make(chan struct{})
	}
	s.busy++
	if c := s.cfg.clock; c != nil {
		c.begin()
	}
	return true
}

func (s *Server) done() {
	s.mu.Lock()
	s.busy--
	if s.busy == 0 {
		close(s.idle)
	}
	if c := s.cfg.clock; c != nil {
		c.done()
	}
	s.mu.Unlock()
	s.wg.Done()
}
