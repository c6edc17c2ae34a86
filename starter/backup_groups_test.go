package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// TestGroupsLibrariesAreASharePointRequest: --data libraries backs up the
// groups' sites as SharePoint does, in a request of its own beside the
// messages' and conversations'; a schedule, one request, refuses it.
func TestGroupsLibrariesAreASharePointRequest(t *testing.T) {
	selections := func(args ...string) (*groupsSelection, []backupSelection) {
		t.Helper()
		var sel groupsSelection
		cmd := &cobra.Command{}
		sel.add(cmd)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		if err := sel.validate(); err != nil {
			t.Fatal(err)
		}
		return &sel, sel.selections()
	}

	_, only := selections("--group", "Marketing")
	if len(only) != 1 || only[0].service() != m365.Groups {
		t.Fatalf("without --data libraries: %d requests", len(only))
	}

	sel, both := selections("--group", "Marketing,Sales", "--data", "messages,libraries", "--fail-fast")
	if len(both) != 2 || both[0].service() != m365.Groups || both[1].service() != m365.SharePoint {
		t.Fatalf("--data messages,libraries: %d requests", len(both))
	}
	groups := requestInput(t, both[0]).(workflows.ContainersBackupInput)
	if !slices.Equal(groups.Categories, []string{string(m365.ChannelMessages)}) || !slices.Equal(groups.Resources, []string{"Marketing", "Sales"}) {
		t.Fatalf("the groups request backs up %v of %v", groups.Categories, groups.Resources)
	}
	sites := requestInput(t, both[1]).(workflows.DriveBackupInput)
	if !slices.Equal(sites.Resources, []string{m365.GroupSelector + "Marketing", m365.GroupSelector + "Sales"}) || !sites.FailFast {
		t.Fatalf("the libraries request backs up %v (fail fast %v), want the groups' sites", sites.Resources, sites.FailFast)
	}
	if err := sel.schedulable(); err == nil || !strings.Contains(err.Error(), "--data libraries") {
		t.Fatalf("a schedule of --data libraries: %v, want it refused", err)
	}

	_, libs := selections("--group", "*", "--data", "libraries")
	if len(libs) != 1 || libs[0].service() != m365.SharePoint {
		t.Fatalf("--data libraries alone: %d requests", len(libs))
	}
	if in := requestInput(t, libs[0]).(workflows.DriveBackupInput); !slices.Equal(in.Resources, []string{m365.GroupSelector + "*"}) {
		t.Fatalf("--group '*' --data libraries backs up %v", in.Resources)
	}
}
