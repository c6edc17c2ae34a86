package m365

import (
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	// Zone data travels with the program, so zone names resolve the same
	// on machines without a system zone database.
	_ "time/tzdata"
)

// Exchange names time zones by their Windows names ("Pacific Standard
// Time") in dateTimeTimeZone values, originalStartTimeZone and
// recurrenceTimeZone, and accepts IANA names too
// (learn.microsoft.com/graph/api/resources/datetimetimezone). The only
// published correspondence between the two is Unicode CLDR's
// windowsZones table, embedded here as CLDR publishes it
// (common/supplemental/windowsZones.xml; refresh by copying a newer
// release's file).
//
//go:embed windowsZones.xml
var windowsZonesXML []byte

var (
	windowsZonesOnce sync.Once
	windowsZones     map[string]string // lower-cased Windows name → IANA name
	zoneCache        sync.Map          // name as given → zoneAnswer
)

type zoneAnswer struct {
	loc *time.Location
	err error
}

// loadWindowsZones reads the table's world-wide rows (territory "001"):
// the one IANA zone CLDR gives each Windows name.
func loadWindowsZones() {
	var doc struct {
		Zones []struct {
			Other     string `xml:"other,attr"`
			Territory string `xml:"territory,attr"`
			Type      string `xml:"type,attr"`
		} `xml:"windowsZones>mapTimezones>mapZone"`
	}
	if err := xml.Unmarshal(windowsZonesXML, &doc); err != nil {
		panic("m365: embedded windowsZones.xml: " + err.Error())
	}
	windowsZones = map[string]string{}
	for _, z := range doc.Zones {
		if z.Territory == "001" {
			windowsZones[strings.ToLower(z.Other)] = strings.Fields(z.Type)[0]
		}
	}
}

// ZoneLocation resolves a time zone as Graph names it: UTC and its
// spellings, a Windows name (through CLDR's table) or an IANA name. An
// empty name, "Local" (which would be this machine's zone, never what a
// mailbox meant) and unknown names are errors.
func ZoneLocation(name string) (*time.Location, error) {
	if v, ok := zoneCache.Load(name); ok {
		a := v.(zoneAnswer)
		return a.loc, a.err
	}
	l, err := resolveZone(name)
	zoneCache.Store(name, zoneAnswer{l, err})
	return l, err
}

func resolveZone(name string) (*time.Location, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	switch key {
	case "":
		return nil, errors.New("no time zone")
	case "local":
		return nil, errors.New(`time zone "Local" names no zone`)
	case "utc", "z", "gmt", "etc/utc", "etc/gmt", "tzone://microsoft/utc", "coordinated universal time":
		return time.UTC, nil
	}
	windowsZonesOnce.Do(loadWindowsZones)
	iana := strings.TrimSpace(name)
	if z, ok := windowsZones[key]; ok {
		iana = z
	}
	l, err := time.LoadLocation(iana)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return l, nil
}
