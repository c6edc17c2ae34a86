package graph

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// DriveBudget meters the resource units SharePoint Online (and OneDrive,
// which is SharePoint underneath) charges an app per tenant. Every drive
// request spends its cost first; a fleet of workers shares one tenant's
// budget through it.
type DriveBudget interface {
	// Spend blocks until units may be spent, or ctx ends.
	Spend(ctx context.Context, units int) error
	// Throttled reports that SharePoint throttled a drive request for d:
	// the budget is spent faster than SharePoint allows (other apps, a
	// budget set too high), and everyone spending it should pause.
	Throttled(d time.Duration)
}

// resourceUnits is what SharePoint charges for a drive request, by its
// published table: 1 for a single item, a file download or a delta with a
// token; 2 for listings, a delta without a token and writes; 5 for
// permission calls.
func resourceUnits(req *http.Request) int {
	kind, _ := req.Context().Value(kindKey).(string)
	switch kind {
	case "drive.permissions", "drive.invite", "drive.createLink":
		return 5
	case "drive.delta", "lists.items.delta":
		if deltaHasToken(req) {
			return 1
		}
		return 2
	case "drive.children", "lists.list", "lists.columns", "lists.items", "lists.item.versions":
		return 2
	}
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return 1
	}
	return 2
}

// deltaHasToken tells a delta call that continues an enumeration (a next
// or delta link) from one that starts it.
func deltaHasToken(req *http.Request) bool {
	q := req.URL.Query()
	if q.Get("token") != "" || q.Get("$skiptoken") != "" || q.Get("$deltatoken") != "" {
		return true
	}
	return strings.Contains(req.URL.Path, "token=")
}

// spendDriveBudget charges a drive request to the budget, if there is one.
func spendDriveBudget(b DriveBudget, req *http.Request) error {
	if b == nil || driveOf(req.Context()) == "" {
		return nil
	}
	return b.Spend(req.Context(), resourceUnits(req))
}
