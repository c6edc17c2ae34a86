package repository

import (
	"context"
	"reflect"
	"testing"
)

// A maintenance run tells each of its steps as it starts, the full mode's
// collection among them, in the order it runs them.
func TestMaintenanceTellsEachStepAsItStarts(t *testing.T) {
	ctx := context.Background()
	loc := fsLocation(t)
	r, _, err := newConnections(t, "w1").Initialize(ctx, loc, Credentials{Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	dir, _ := writeSegment(t, r, "kept", 2, 1<<10)
	combine(t, r, "kept", dir)
	m := maintainer(t, loc, r.ID)
	for _, tc := range []struct {
		mode MaintenanceMode
		want []MaintenanceStage
	}{
		{MaintenanceQuick, []MaintenanceStage{StageRefreshing, StageMeasuring, StageClaiming, StageKopiaTasks, StageMeasuringEnd}},
		{MaintenanceFull, []MaintenanceStage{StageRefreshing, StageMeasuring, StageClaiming, StagePinning, StageCollecting, StageKopiaTasks, StageMeasuringEnd}},
	} {
		var got []MaintenanceStage
		if _, err := m.Maintain(ctx, MaintenanceOptions{Mode: tc.mode, Safety: SafetyShortened, Stage: func(s MaintenanceStage) { got = append(got, s) }}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s maintenance told\n%q, want\n%q", tc.mode, got, tc.want)
		}
	}
}
