package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// host is the only address corso-dev listens on: the stack has no auth worth
// the name (fixed root keys, no TLS) and must not be reachable from outside.
const host = "127.0.0.1"

// portClaim is a fixed port a service listens on, named by the flag that sets
// it so an error can tell the user what to change.
type portClaim struct {
	Port int
	Flag string
}

// checkPorts verifies that every claimed port is valid, claimed once, and free
// on host. It runs before anything starts because the embedded Temporal server
// and Web UI exit the process (log.Fatal) when a bind fails.
func checkPorts(host string, claims []portClaim) error {
	seen := make(map[int]string, len(claims))
	for _, c := range claims {
		if c.Port < 1 || c.Port > 65535 {
			return fmt.Errorf("port %d (%s) is not a valid TCP port; use 1-65535", c.Port, c.Flag)
		}
		if other, ok := seen[c.Port]; ok {
			return fmt.Errorf("port %d is given to both %s and %s; each service needs its own port", c.Port, other, c.Flag)
		}
		seen[c.Port] = c.Flag
	}
	for _, c := range claims {
		if err := portFree(host, c.Port); err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("port %d (%s) is already in use on %s; pick another with %s", c.Port, c.Flag, host, c.Flag)
			}
			return fmt.Errorf("port %d (%s) cannot be used on %s: %w", c.Port, c.Flag, host, err)
		}
	}
	return nil
}

func portFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// freePorts returns n distinct ports the OS considers free on host, none of
// them in exclude (ports claimed by flags but not bound yet). All listeners are
// held until every port is chosen so the OS cannot hand out one twice.
func freePorts(host string, n int, exclude map[int]bool) ([]int, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		if len(held) > n+64 {
			return nil, fmt.Errorf("could not find %d free ports on %s", n, host)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if !exclude[p] {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func hostPort(port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
