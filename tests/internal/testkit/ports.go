package testkit

import (
	"fmt"
	"net"
	"strconv"
)

// FreePort returns a loopback port no process holds right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreeAddr is FreePort as 127.0.0.1:port.
func FreeAddr() (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// FreePortRun returns the first of n consecutive loopback ports that are all
// free (a Kafka node takes its controller port and more after its own).
func FreePortRun(n int) (int, error) {
	for range 50 {
		first, err := FreePort()
		if err != nil {
			return 0, err
		}
		free := true
		for p := first + 1; p < first+n && free; p++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return first, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive loopback ports", n)
}
