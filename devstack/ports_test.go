package main

import (
	"net"
	"strconv"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

func TestCheckPortsInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	free, err := freePorts(host, 1, nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := checkPorts(host, []portClaim{{free[0], "--s3-port"}}); err != nil {
		t.Errorf("free port rejected: %v", err)
	}
	err = checkPorts(host, []portClaim{{free[0], "--s3-port"}, {busy, "--temporal-port"}})
	want := "port " + strconv.Itoa(busy) + " (--temporal-port) is already in use on 127.0.0.1; pick another with --temporal-port"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCheckPortsInvalid(t *testing.T) {
	for _, tc := range []struct {
		claims []portClaim
		want   string
	}{
		{[]portClaim{{0, "--ui-port"}}, "not a valid TCP port"},
		{[]portClaim{{70000, "--ui-port"}}, "not a valid TCP port"},
		{[]portClaim{{9000, "--ui-port"}, {9000, "--s3-port"}}, "given to both --ui-port and --s3-port"},
	} {
		err := checkPorts(host, tc.claims)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkPorts(%v) = %v, want %q", tc.claims, err, tc.want)
		}
	}
}

func TestFreePorts(t *testing.T) {
	first, err := freePorts(host, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(host, 5, map[int]bool{first[0]: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p == first[0] {
			t.Errorf("port %d repeated or excluded: %v", p, ports)
		}
		seen[p] = true
	}
}

func TestMissingSearchAttributes(t *testing.T) {
	kw := enumspb.INDEXED_VALUE_TYPE_KEYWORD
	want := map[string]enumspb.IndexedValueType{"A": kw, "B": kw}
	missing, err := missingSearchAttributes(want, map[string]enumspb.IndexedValueType{"A": kw, "Other": kw})
	if err != nil || len(missing) != 1 || missing["B"] != kw {
		t.Errorf("got %v, %v", missing, err)
	}
	_, err = missingSearchAttributes(want, map[string]enumspb.IndexedValueType{"A": enumspb.INDEXED_VALUE_TYPE_INT})
	if err == nil || !strings.Contains(err.Error(), "registered as") {
		t.Errorf("type clash: %v", err)
	}
}
