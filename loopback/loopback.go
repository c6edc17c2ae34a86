// Package loopback decides whether an address stays on this machine.
// Listeners and plain-text endpoints that carry secrets or serve decrypted
// data are acceptable without authentication or TLS only there. It knows
// nothing about what is served.
package loopback

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host (a name or an IP literal, without a port) is
// this machine: "localhost", an address in 127.0.0.0/8, or ::1. Other names
// are not resolved: what they resolve to can change.
func Host(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Listen reports whether the listen address addr (host:port) binds only
// loopback. An empty host (":8081") binds every interface.
func Listen(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("listen address %q is not host:port: %w", addr, err)
	}
	return Host(host), nil
}
