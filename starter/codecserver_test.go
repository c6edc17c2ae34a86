package main

import (
	"errors"
	"testing"
)

func TestCodecServerRefusesAnOpenAddressWithoutAuth(t *testing.T) {
	for _, c := range []struct {
		listen              string
		authenticated, open bool
		refused             bool
	}{
		{listen: "127.0.0.1:8081"},
		{listen: "[::1]:8081"},
		{listen: "localhost:8081"},
		{listen: "0.0.0.0:8081", refused: true},
		{listen: ":8081", refused: true},
		{listen: "10.1.2.3:8081", refused: true},
		{listen: "codec.example.com:443", refused: true},
		{listen: "0.0.0.0:8081", authenticated: true},
		{listen: "0.0.0.0:8081", open: true},
	} {
		err := checkCodecListen(c.listen, c.authenticated, c.open)
		if got := errors.Is(err, errCodecNoAuth); got != c.refused {
			t.Errorf("%+v: refused=%v (%v)", c, got, err)
		}
	}
	if err := checkCodecListen("8081", true, false); err == nil {
		t.Error("a listen address without a host part was accepted")
	}
}
