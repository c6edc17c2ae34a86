package graphsim

import (
	"strings"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// Exchange names time zones by their Windows names ("Pacific Standard
// Time") in dateTimeTimeZone values, originalStartTimeZone and
// recurrenceTimeZone, and accepts IANA names too
// (learn.microsoft.com/graph/api/resources/datetimetimezone). The Windows
// names resolve through Unicode CLDR's windowsZones table, which the m365
// package embeds as CLDR publishes it.

// zoneLocation is the location of a zone named as Graph names it; an empty
// name is UTC. false for names neither table knows.
func zoneLocation(name string) (*time.Location, bool) {
	if strings.TrimSpace(name) == "" {
		return time.UTC, true
	}
	l, err := m365.ZoneLocation(name)
	return l, err == nil
}
