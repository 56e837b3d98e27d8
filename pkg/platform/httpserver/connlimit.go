package httpserver

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A connection costs the server memory whatever its request does: a goroutine, its read
// and write buffers, the request being parsed. Under open-loop overload a CPU-starved
// server accepts far more connections than it gets to serve (measured: ~4,000 and
// +90 MiB at three times what the gateway takes), so bounding the requests in flight
// alone does not bound memory. Beyond the limit a connection is answered by a refuser
// that reads at most refuseReadMax bytes of it.
const (
	// refuseReadMax is how much of a refused connection's request is read: enough for
	// its request line.
	refuseReadMax = 512
	// refuseReadWithin bounds the wait for a refused connection's request line; a
	// client that has not sent it by then is answered 503 all the same. Short: a
	// refusal holds one of maxRefusing slots meanwhile.
	refuseReadWithin = 250 * time.Millisecond
	// lingerAfterRefusal keeps reading a refused connection after its answer (Go's
	// own server does the same for its 431), so the client gets the answer rather
	// than a reset for the request bytes left unread.
	lingerAfterRefusal = 250 * time.Millisecond
	// maxRefusing bounds the refusals at work at once (each ~10 KiB: a goroutine and
	// refuseReadMax); beyond, a connection is closed at once, which its client sees as
	// a connection closed without an answer.
	maxRefusing = 1024
)

var (
	refusedAnswer = cannedAnswer("503 Service Unavailable", "Retry-After: 1\r\n", `{"detail":"Too many connections, retry later"}`)
	// Liveness must hold while connections are refused, or the kubelet restarts a pod
	// for being busy.
	aliveAnswer = cannedAnswer("200 OK", "", `{"status":"ok"}`)
)

func cannedAnswer(status, header, body string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\n" + header +
		"Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// limitListener lets at most max connections be open at once. Hand-written:
// golang.org/x/net/netutil.LimitListener blocks in Accept instead, so the excess waits
// in the kernel's backlog with no answer, and liveness probes wait with it.
type limitListener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	refusing chan struct{}
	refusals sync.WaitGroup
}

func newLimitListener(ln net.Listener, max int) *limitListener {
	return &limitListener{Listener: ln, max: int64(max), refusing: make(chan struct{}, maxRefusing)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		select {
		case l.refusing <- struct{}{}:
			l.refusals.Go(func() {
				defer func() { <-l.refusing }()
				refuse(c)
			})
		default:
			_ = c.Close()
		}
	}
}

// Close stops accepting and waits for the refusals under way (at most
// refuseReadWithin + lingerAfterRefusal).
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.refusals.Wait()
	return err
}

type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// refuse answers a connection over the limit: 200 to GET /healthz, 503 with
// Retry-After to anything else, then closes it.
func refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refuseReadWithin))
	buf := make([]byte, refuseReadMax)
	n := 0
	for n < len(buf) && !bytes.Contains(buf[:n], []byte("\r\n")) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	answer := refusedAnswer
	if bytes.HasPrefix(buf[:n], []byte("GET /healthz ")) {
		answer = aliveAnswer
	}
	_ = c.SetWriteDeadline(time.Now().Add(refuseReadWithin))
	if _, err := c.Write(answer); err != nil {
		return
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(lingerAfterRefusal))
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
