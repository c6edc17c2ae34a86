package main

import (
	"fmt"
	"time"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

// Credentials are sealed for one request: its workflow id, its purpose and
// an expiry. Workers open them only in that request (its root workflow,
// child workflows and their activities) and refuse them once expired.
//
// The expiry only has to outlast the request's run, retries included:
// repository, list and delete requests finish within minutes, and their
// activities give up within a few hours, so a day is ample. A backup,
// restore, export or verify of a large tenant can run for days: a first drive
// backup at the smallest tenants' SharePoint budget (1,250 resource units
// a minute) moves about 1.8 million files a day, so ten million files take
// close to a week, and a mailbox fleet in the tens of thousands is no
// quicker. Credentials that expire mid-run fail it late, so these get 30
// days. Binding to the workflow id and purpose is what stops a copy from
// being used elsewhere; the expiry bounds how long a copy stays good for a
// new run under the same workflow id. --credentials-ttl overrides both.
var defaultCredentialsTTL = map[string]time.Duration{
	workflows.PurposeRepo:       24 * time.Hour,
	workflows.PurposePassphrase: 24 * time.Hour,
	workflows.PurposeList:       24 * time.Hour,
	workflows.PurposeDelete:     24 * time.Hour,
	workflows.PurposeBackup:     30 * 24 * time.Hour,
	workflows.PurposeRestore:    30 * 24 * time.Hour,
	workflows.PurposeExport:     30 * 24 * time.Hour,
	workflows.PurposeVerify:     30 * 24 * time.Hour,
}

// binding is what the secrets of the request with workflow id id, running
// workflow wf, are sealed for.
func (g *globals) binding(id string, wf any) (codec.Binding, error) {
	purpose := workflows.PurposeOf(wf)
	ttl, ok := defaultCredentialsTTL[purpose]
	if !ok {
		return codec.Binding{}, fmt.Errorf("workflow %v takes no credentials", wf)
	}
	if g.credentialsTTL > 0 {
		ttl = g.credentialsTTL
	}
	return codec.Binding{WorkflowID: id, Purpose: purpose, Expires: time.Now().Add(ttl)}, nil
}

// scheduleBinding is what the secrets of schedule id, starting workflow
// wf, are sealed for: any run that schedule starts, which workers check
// with Temporal's record of the schedule. Temporal names each run (the
// schedule id and its start time), and a schedule runs for years, so the
// binding names the schedule instead of a workflow id and has no expiry
// unless --credentials-ttl gives one; deleting the schedule retires them.
func (g *globals) scheduleBinding(id string, wf any) (codec.Binding, error) {
	purpose := workflows.PurposeOf(wf)
	if purpose == "" {
		return codec.Binding{}, fmt.Errorf("workflow %v takes no credentials", wf)
	}
	b := codec.Binding{Schedule: id, Purpose: purpose}
	if g.credentialsTTL > 0 {
		b.Expires = time.Now().Add(g.credentialsTTL)
	}
	return b, nil
}

// sealedInput builds a request's input once its workflow id is known,
// with its secrets sealed for it; startRun calls it.
type sealedInput func(b codec.Binding) (any, error)

// input returns the input build makes from the repository reference and,
// if the session has loaded it, the Graph app, both sealed for the request.
func (s *session) input(build func(repo workflows.RepoRef, graph workflows.GraphRef) any) sealedInput {
	return func(b codec.Binding) (any, error) {
		repo := s.repo
		sealed, err := s.sealer.Seal(s.creds, b)
		if err != nil {
			return nil, err
		}
		repo.Credentials = sealed
		var gr workflows.GraphRef
		if s.graph != nil {
			gr.TenantID = s.graph.tenant
			if gr.Credentials, err = s.sealer.Seal(s.graph.creds, b); err != nil {
				return nil, err
			}
		}
		return build(repo, gr), nil
	}
}
