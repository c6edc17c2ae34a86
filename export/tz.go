package export

import (
	"time"

	"github.com/corso-temporal/corso/m365"
)

// location resolves a Graph time zone name: "UTC" and its spellings, an
// IANA name, or a Windows name (see m365.ZoneLocation). ok is false for
// names it does not know, and for "Local", which would be the exporting
// machine's zone: never what the mailbox meant.
func location(name string) (loc *time.Location, ok bool) {
	l, err := m365.ZoneLocation(name)
	return l, err == nil
}
