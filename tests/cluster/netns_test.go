package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsDialer opens TCP connections from inside the cluster's network namespace
// (nothing in there is reachable from the host's): a socket belongs to the
// namespace of the thread that created it, so the dial runs on a locked OS
// thread switched into the namespace and back.
type nsDialer struct {
	netns string // /proc/PID/ns/net of a process inside
}

func (d nsDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		conn, restored, err := d.dialInside(ctx, network, addr)
		if restored {
			runtime.UnlockOSThread()
		} // else the thread is left locked, so it exits with this goroutine.
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// Dial lets sarama (Net.Proxy.Dialer) use the namespace too.
func (d nsDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d nsDialer) dialInside(ctx context.Context, network, addr string) (conn net.Conn, restored bool, err error) {
	own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return nil, true, fmt.Errorf("open own netns: %w", err)
	}
	defer own.Close()
	target, err := os.Open(d.netns)
	if err != nil {
		return nil, true, fmt.Errorf("open cluster netns: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("enter cluster netns: %w", err)
	}
	conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
	if serr := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); serr != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, false, fmt.Errorf("leave cluster netns: %w", serr)
	}
	return conn, true, err
}
