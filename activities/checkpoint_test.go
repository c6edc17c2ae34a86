package activities

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// Heartbeat details outlive the code that wrote them: a retry may run on a
// worker of another version than the attempt that checkpointed.
func TestCheckpointReadsAndWritesTheShapesWorkersRecorded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recorded string
		want     checkpoint
	}{
		{"a drive batch's", `{"segments":["s1","s2"]}`, checkpoint{Segments: []string{"s1", "s2"}}},
		{"a drive batch's first", `{"segments":null}`, checkpoint{}},
		{"a collection's, every field written", `{"started":true,"link":"L","reset":false,"segments":["s"],"fetched":3,"reused":2,"removed":1,"skipped":0}`,
			checkpoint{Started: true, Link: "L", Segments: []string{"s"}, Fetched: 3, Reused: 2, Removed: 1}},
		{"a listed collection's", `{"started":true,"link":"P","reset":true,"segments":[],"fetched":0,"reused":0,"removed":0,"skipped":4,"listed":true}`,
			checkpoint{Started: true, Link: "P", Reset: true, Segments: []string{}, Skipped: 4, Listed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got checkpoint
			require.NoError(t, json.Unmarshal([]byte(tc.recorded), &got))
			require.Equal(t, tc.want, got)
			// What is written now reads back the same.
			b, err := json.Marshal(got)
			require.NoError(t, err)
			var again checkpoint
			require.NoError(t, json.Unmarshal(b, &again))
			require.Equal(t, got, again)
		})
	}
	// A drive batch's heartbeat keeps the shape workers of every version
	// read.
	b, err := json.Marshal(checkpoint{Segments: []string{"s1"}})
	require.NoError(t, err)
	require.JSONEq(t, `{"segments":["s1"]}`, string(b))
}
