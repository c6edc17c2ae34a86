package m365

import (
	"testing"
	"time"
)

func TestEveryWindowsZoneResolves(t *testing.T) {
	windowsZonesOnce.Do(loadWindowsZones)
	if len(windowsZones) < 139 {
		t.Fatalf("%d Windows zones read from CLDR's table", len(windowsZones))
	}
	for win, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%q → %q: %v", win, iana, err)
		}
	}
}

func TestZoneLocation(t *testing.T) {
	at := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		offset int // hours east of UTC on 1 July 2025
		ok     bool
	}{
		{"Pacific Standard Time", -7, true},
		{"pacific standard time", -7, true},
		{"Tokyo Standard Time", 9, true},
		{"W. Europe Standard Time", 2, true},
		{"Mountain Standard Time (Mexico)", -7, true}, // Mazatlán since CLDR 43
		{"Yukon Standard Time", -7, true},
		{"India Standard Time", 5, true}, // +05:30
		{"Europe/Berlin", 2, true},
		{"UTC", 0, true},
		{"tzone://Microsoft/Utc", 0, true},
		{"", 0, false},
		{"Local", 0, false},
		{"Mars Standard Time", 0, false},
	} {
		l, err := ZoneLocation(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		if err == nil {
			if _, off := at.In(l).Zone(); off/3600 != tc.offset {
				t.Errorf("%q: %s, offset %d s", tc.name, l, off)
			}
		}
	}
}
