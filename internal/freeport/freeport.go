// Package freeport finds TCP ports that nothing listens on. It serves the
// servers that must be told their ports before they start (the embedded
// Temporal server's services, the PostgreSQL that pgserver runs) and the
// tests that start servers.
//
// A port is free when it is asked for; another process may take it before it
// is used. Code that can listen on port 0 and read the address back should do
// that instead. Within one process no port is handed out twice, so servers
// started side by side never pick the same one.
//
// It must not import any other lienthong package.
package freeport

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// tries bounds how often the system is asked for a port it has not offered
// before; it repeats itself only rarely.
const tries = 64

var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// On returns a port that is free on ip ("127.0.0.1", "0.0.0.0", "::1").
func On(ip string) (int, error) {
	for range tries {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, fmt.Errorf("finding a free port on %s: %w", ip, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("finding a free port on %s: %w", ip, err)
		}
		handedOut.Lock()
		seen := handedOut.ports[port]
		handedOut.ports[port] = true
		handedOut.Unlock()
		if !seen {
			return port, nil
		}
	}
	return 0, fmt.Errorf("finding a free port on %s: the system kept offering ports already handed out", ip)
}

// TB is the part of testing.TB that Port and Addr use. Asking for no more
// keeps the testing package out of the binaries that call On.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Port returns a free port on 127.0.0.1, or fails the test.
func Port(t TB) int {
	t.Helper()
	port, err := On("127.0.0.1")
	if err != nil {
		t.Fatalf("freeport: %v", err)
	}
	return port
}

// Addr returns "127.0.0.1:<port>" for a free port, or fails the test.
func Addr(t TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
}
