package graph

import (
	"strings"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// zoneLocation resolves a time zone as Graph names it (see
// m365.ZoneLocation); an empty name is UTC, as Graph reads a
// dateTimeTimeZone without one.
func zoneLocation(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" {
		return time.UTC, nil
	}
	return m365.ZoneLocation(name)
}
