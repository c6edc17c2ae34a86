package loopback

import "testing"

func TestListenAcceptsOnlyThisMachine(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8081":           true,
		"127.3.2.1:8081":           true,
		"[::1]:8081":               true,
		"localhost:8081":           true,
		"LocalHost.:8081":          true,
		"[::ffff:127.0.0.1]:1":     true,
		":8081":                    false,
		"0.0.0.0:8081":             false,
		"[::]:8081":                false,
		"10.0.0.5:8081":            false,
		"codec.example:80":         false,
		"localhost.example.com:80": false,
	} {
		got, err := Listen(addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		if got != want {
			t.Errorf("Listen(%q) = %v, want %v", addr, got, want)
		}
	}
	if _, err := Listen("8081"); err == nil {
		t.Error("an address without a port was accepted")
	}
}
