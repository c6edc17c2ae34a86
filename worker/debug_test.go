package main

import (
	"net"
	"strings"
	"testing"
)

func TestDebugListenerBindsLoopbackUnlessTold(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0", "0", "localhost:0"} {
		l, err := debugListener(addr, false)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		if ip := l.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("%s bound %s", addr, l.Addr())
		}
		l.Close()
	}
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "10.1.2.3:6060"} {
		if l, err := debugListener(addr, false); err == nil {
			l.Close()
			t.Errorf("%s was bound without --debug-listen-public", addr)
		} else if !strings.Contains(err.Error(), "--debug-listen-public") {
			t.Errorf("%s: %v does not say how to allow it", addr, err)
		}
	}
	l, err := debugListener("0.0.0.0:0", true)
	if err != nil {
		t.Fatalf("with --debug-listen-public: %v", err)
	}
	l.Close()
}
