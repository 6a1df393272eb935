//go:build unix

package sinopac

import (
	"crypto/tls"
	"net"
	"syscall"
)

// quiet reports whether nothing waits to be read on c's socket, neither
// data nor the end of the stream, without blocking: a peek of one byte
// that finds none (EAGAIN). A server's close of an idle keep-alive
// connection shows as an end of stream (or an alert under TLS).
func quiet(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	idle := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		idle = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true // done either way: never wait
	})
	return err == nil && idle
}
