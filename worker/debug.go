package main

import (
	"fmt"
	"net"

	"github.com/corso-temporal/corso/loopback"
)

// debugListener opens --debug-listen. Profiles show what the worker is
// doing and holding, so the address binds loopback unless the operator
// says otherwise: a bare port (":6060", "6060") means 127.0.0.1, and
// another host needs --debug-listen-public.
func debugListener(addr string, public bool) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// A port alone.
		host, port = "", addr
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !loopback.Host(host) && !public {
		return nil, fmt.Errorf("--debug-listen %s is reachable from other machines; use 127.0.0.1:PORT, or add --debug-listen-public to serve profiles there", addr)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("--debug-listen %s: %w", addr, err)
	}
	return l, nil
}
