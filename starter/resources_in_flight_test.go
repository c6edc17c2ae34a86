package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

func TestResourcesInFlightFlagRefusesNumbersOutOfRange(t *testing.T) {
	for _, svc := range []string{"exchange", "onedrive", "sharepoint", "groups"} {
		for _, v := range []string{"0", "-3", "1001", "many"} {
			root := newRootCommand()
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			root.SetArgs([]string{"backup", "create", svc, "--resources-in-flight", v})
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), "--resources-in-flight") || !strings.Contains(err.Error(), "want a number from 1 to 1000") {
				t.Errorf("backup create %s --resources-in-flight %s: %v", svc, v, err)
			}
		}
	}
}

// requestInput is the input a selection's request would start its
// workflow with.
func requestInput(t *testing.T, sel backupSelection) any {
	t.Helper()
	key, err := codec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := codec.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{sealer: sealer, graph: &graphApp{tenant: "t"}}
	in, err := sel.request(s, nil).input.(sealedInput)(codec.Binding{WorkflowID: "w", Purpose: "test", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestResourcesInFlightFlagReachesTheRequest(t *testing.T) {
	parse := func(add func(*cobra.Command), args ...string) {
		t.Helper()
		cmd := &cobra.Command{}
		add(cmd)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
	}
	var ex exchangeSelection
	parse(ex.add, "--mailbox", "*", "--resources-in-flight", "800")
	if in := requestInput(t, &ex).(workflows.ExchangeBackupInput); in.ResourcesInFlight != 800 {
		t.Errorf("exchange request in flight %d, want 800", in.ResourcesInFlight)
	}
	if got := ex.flags(); !slices.Contains(got, "--resources-in-flight") || got[len(got)-1] != "800" {
		t.Errorf("exchange selection as flags %q, want --resources-in-flight 800", got)
	}
	dr := driveSelection{svc: m365.OneDrive}
	parse(dr.add, "--user", "*", "--resources-in-flight", "300")
	if in := requestInput(t, &dr).(workflows.DriveBackupInput); in.ResourcesInFlight != 300 {
		t.Errorf("onedrive request in flight %d, want 300", in.ResourcesInFlight)
	}
	var gr groupsSelection
	parse(gr.add, "--group", "*", "--resources-in-flight", "7")
	if in := requestInput(t, &gr).(workflows.ContainersBackupInput); in.ResourcesInFlight != 7 {
		t.Errorf("groups request in flight %d, want 7", in.ResourcesInFlight)
	}
	var unset exchangeSelection
	parse(unset.add, "--mailbox", "*")
	if in := requestInput(t, &unset).(workflows.ExchangeBackupInput); in.ResourcesInFlight != 0 || slices.Contains(unset.flags(), "--resources-in-flight") {
		t.Errorf("unset: request in flight %d, flags %q; want the workflow's default", in.ResourcesInFlight, unset.flags())
	}
}
