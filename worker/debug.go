package main

import (
	"fmt"
	"net"

	"github.com/corso-temporal/corso/loopback"
)

// debugListener opens --debug-listen. Profiles show what the worker is
// doing and holding, so the address binds loopback unless the operator
// says otherwise with --debug-listen-public.
func debugListener(addr string, public bool) (net.Listener, error) {
	return localListener("debug-listen", addr, public, "serve profiles there")
}

// localListener opens the address of the listen flag named flag: a bare
// port (":6060", "6060") means 127.0.0.1, and a host other machines can
// reach needs the flag's -public twin, since nothing it serves asks who
// is asking.
func localListener(flag, addr string, public bool, what string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// A port alone.
		host, port = "", addr
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !loopback.Host(host) && !public {
		return nil, fmt.Errorf("--%s %s is reachable from other machines; use 127.0.0.1:PORT, or add --%s-public to %s", flag, addr, flag, what)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", flag, addr, err)
	}
	return l, nil
}
