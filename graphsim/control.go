package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// The control API under /_sim/ lets tests and operators see and steer the
// simulated tenant. It needs no authentication: it is for the harness, not
// for the product under test.
//
//	GET  /_sim/info       tenant id, domain, client id, users, groups, sites
//	GET  /_sim/state      ground truth (?user=&category=&hashes=false)
//	GET  /_sim/stats      counters; DELETE resets them
//	POST /_sim/mutate     {"ops":[MutateOp...]}
//	POST /_sim/expire     {"collection":"<id>"|"user":"<id>"|"all":true,"code":"resyncRequired"}
//	GET|PUT /_sim/faults   FaultOptions as JSON (durations in milliseconds)
//	GET|PUT /_sim/throttle ThrottleOptions as JSON (durations in seconds)
//	POST /_sim/token      an access token for the configured application
//	POST /_sim/reset      back to the generated tenant (overlay, stats, sessions)

func (s *Server) serveControl(c *httpCtx) {
	r := c.r
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sim/"), "/")
	var err *apiError
	switch {
	case name == "info" && r.Method == http.MethodGet:
		writeJSON(c.w, http.StatusOK, s.Info())
	case name == "state" && r.Method == http.MethodGet:
		q := r.URL.Query()
		st, e := s.State(StateFilter{User: q.Get("user"), Category: q.Get("category"), NoHashes: q.Get("hashes") == "false"})
		if e != nil {
			err = errBadRequest("%s", e.Error())
			break
		}
		writeJSON(c.w, http.StatusOK, st)
	case name == "stats" && r.Method == http.MethodGet:
		writeJSON(c.w, http.StatusOK, s.Stats())
	case name == "stats" && r.Method == http.MethodDelete:
		s.stats.reset()
		c.w.WriteHeader(http.StatusNoContent)
	case name == "mutate" && r.Method == http.MethodPost:
		var req struct {
			Ops []MutateOp `json:"ops"`
		}
		if err = decodeControl(r, &req); err == nil {
			writeJSON(c.w, http.StatusOK, map[string]any{"results": s.Mutate(req.Ops)})
		}
	case name == "expire" && r.Method == http.MethodPost:
		var req ExpireRequest
		if err = decodeControl(r, &req); err == nil {
			n, e := s.Expire(req)
			if e != nil {
				err = errBadRequest("%s", e.Error())
				break
			}
			writeJSON(c.w, http.StatusOK, map[string]any{"expired": n})
		}
	case name == "faults" && r.Method == http.MethodGet:
		writeJSON(c.w, http.StatusOK, faultsToWire(s.faults.get()))
	case name == "faults" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		var w faultsWire
		if err = decodeControl(r, &w); err == nil {
			s.SetFaults(w.options())
			writeJSON(c.w, http.StatusOK, faultsToWire(s.faults.get()))
		}
	case name == "throttle" && r.Method == http.MethodGet:
		writeJSON(c.w, http.StatusOK, throttleToWire(s.throttle.get()))
	case name == "throttle" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		var w throttleWire
		if err = decodeControl(r, &w); err == nil {
			s.SetThrottle(w.options())
			writeJSON(c.w, http.StatusOK, throttleToWire(s.throttle.get()))
		}
	case name == "token" && r.Method == http.MethodPost:
		tok, exp := s.IssueToken()
		writeJSON(c.w, http.StatusOK, map[string]any{"token_type": "Bearer", "access_token": tok, "expires_in": int(exp.Sub(s.now()).Seconds())})
	case name == "reset" && r.Method == http.MethodPost:
		s.Reset()
		c.w.WriteHeader(http.StatusNoContent)
	default:
		err = newError(http.StatusNotFound, "NotFound", "Unknown control endpoint %s %s.", r.Method, r.URL.Path)
	}
	if err != nil {
		s.fail(c, err)
	}
}

func decodeControl(r *http.Request, v any) *apiError {
	b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return errBadRequest("cannot read body")
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadRequest("invalid JSON: %s", err.Error())
	}
	return nil
}

// Info describes the tenant for harnesses and the dev stack.
type Info struct {
	TenantID string     `json:"tenantId"`
	Domain   string     `json:"domain"`
	ClientID string     `json:"clientId"`
	GraphURL string     `json:"graphUrl"`
	Users    []InfoUser `json:"users"`
	Groups   []InfoRef  `json:"groups"`
	Sites    []InfoRef  `json:"sites"`
}

// InfoUser is a user as Info lists it.
type InfoUser struct {
	ID         string `json:"id"`
	UPN        string `json:"userPrincipalName"`
	HasMailbox bool   `json:"hasMailbox"`
	HasDrive   bool   `json:"hasDrive"`
	DriveID    string `json:"driveId,omitempty"`
	// Special names a user with persistent faults (unlicensed, onprem,
	// policyblocked, overquota, sharedmailbox, roommailbox, lockeddrive,
	// quirky, guest); empty for regular users.
	Special string `json:"special,omitempty"`
}

// InfoRef names a group or site.
type InfoRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	DriveID string `json:"driveId,omitempty"` // a site's default library
	// Libraries are a site's document libraries, the default one first.
	Libraries []InfoLibrary `json:"libraries,omitempty"`
	Special   string        `json:"special,omitempty"` // "quirks" for the Quirks site
}

// InfoLibrary names a document library (a drive) of a site.
type InfoLibrary struct {
	DriveID string `json:"driveId"`
	Name    string `json:"name"`
}

// Info lists the tenant's principals.
func (s *Server) Info() Info {
	s.t.directory()
	in := Info{TenantID: s.opts.TenantID, Domain: s.t.domain, ClientID: s.opts.ClientID, GraphURL: s.opts.GraphURL}
	for _, u := range s.t.users {
		iu := InfoUser{ID: u.id, UPN: u.upn, HasMailbox: u.hasMailbox, HasDrive: u.hasDrive, Special: string(u.special)}
		if u.hasDrive {
			iu.DriveID = s.ids().encode(s.t.driveRef(s.t.driveOwnerOfUser(u)))
		}
		in.Users = append(in.Users, iu)
	}
	for _, g := range s.t.groups {
		in.Groups = append(in.Groups, InfoRef{ID: g.id, Name: g.displayName})
	}
	for _, st := range s.t.sites {
		ir := InfoRef{ID: st.id, Name: st.displayName, DriveID: s.ids().encode(s.t.driveRef(s.t.driveOwnerOfSite(st))),
			Special: string(st.special)}
		for _, owner := range s.t.siteLibraryOwners(st) {
			ir.Libraries = append(ir.Libraries, InfoLibrary{DriveID: s.ids().encode(s.t.driveRef(owner)), Name: s.t.driveName(owner)})
		}
		in.Sites = append(in.Sites, ir)
	}
	return in
}

// ExpireRequest selects delta tokens to expire: one collection (a mail,
// contact or calendar folder id, a drive id, or a list id), all collections of a user,
// or all. Code overrides the error code clients get (Exchange: e.g.
// "resyncRequired"; drives: the inner resync code).
type ExpireRequest struct {
	Collection string `json:"collection,omitempty"`
	User       string `json:"user,omitempty"`
	All        bool   `json:"all,omitempty"`
	Code       string `json:"code,omitempty"`
}

// Expire invalidates delta tokens; it returns how many collections it hit
// (all counts as one).
func (s *Server) Expire(req ExpireRequest) (int, error) {
	m := s.model
	var keys []ref
	switch {
	case req.All:
		m.mu.Lock()
		m.globalGen++
		m.globalCode = req.Code
		m.mu.Unlock()
		return 1, nil
	case req.Collection != "":
		r, ok := s.ids().decode(req.Collection)
		if !ok {
			if r, ok = s.listKeyByID(req.Collection); ok {
				keys = []ref{r}
				break
			}
			return 0, errBadRequest("unknown collection %q", req.Collection)
		}
		switch r.Kind {
		case kMailFolder, kContactFolder, kCalendar, kDrive:
		default:
			return 0, errBadRequest("%q is not a folder or drive", req.Collection)
		}
		keys = []ref{r}
	case req.User != "":
		u, ok := s.t.userByKey(req.User)
		if !ok {
			return 0, errBadRequest("unknown user %q", req.User)
		}
		if u.hasMailbox {
			for _, fk := range []kind{kMailFolder, kContactFolder} {
				for _, f := range s.folderMembers(s.treeCollection(fk, u)) {
					keys = append(keys, f.ref)
				}
			}
			for _, f := range s.calendars(u) {
				keys = append(keys, f.ref)
			}
			keys = append(keys, ref{Kind: kMailTree, Owner: uint32(u.idx)}, ref{Kind: kContactTree, Owner: uint32(u.idx)})
		}
		if u.hasDrive {
			keys = append(keys, s.t.driveRef(s.t.driveOwnerOfUser(u)))
		}
	default:
		return 0, errBadRequest("expire needs collection, user or all")
	}
	m.mu.Lock()
	for _, k := range keys {
		cs := m.coll(k)
		cs.gen++
		cs.code = req.Code
	}
	m.mu.Unlock()
	return len(keys), nil
}

// SetFaults replaces the fault configuration.
func (s *Server) SetFaults(o FaultOptions) { s.faults.set(o) }

// SetThrottle replaces the throttling configuration and clears its windows.
func (s *Server) SetThrottle(o ThrottleOptions) { s.throttle.set(o) }

// Reset drops every change since generation: mutations, written items,
// upload sessions and counters. Issued tokens stay valid.
func (s *Server) Reset() {
	m := s.model
	m.mu.Lock()
	clear(m.items)
	clear(m.colls)
	clear(m.counts)
	clear(m.subCounts)
	// Tokens minted before the reset must not be replayed against the new
	// history; sequence numbers and serials keep growing for the same reason.
	m.globalGen++
	m.mu.Unlock()
	s.uploads.reset()
	s.stats.reset()
}

type faultsWire struct {
	Seed                 int64    `json:"seed"`
	LatencyMs            float64  `json:"latencyMs"`
	LatencyJitterMs      float64  `json:"latencyJitterMs"`
	BandwidthBytesPerSec int64    `json:"bandwidthBytesPerSec"`
	ErrorRate            float64  `json:"errorRate"`
	ErrorStatuses        []int    `json:"errorStatuses,omitempty"`
	Rate429              float64  `json:"rate429"`
	Rate503              float64  `json:"rate503"`
	ResetRate            float64  `json:"resetRate"`
	DropRate             float64  `json:"dropRate"`
	DropAfterBytes       int64    `json:"dropAfterBytes"`
	StallRate            float64  `json:"stallRate"`
	StallAfterBytes      int64    `json:"stallAfterBytes"`
	ExpireDownloadURLs   bool     `json:"expireDownloadUrls"`
	Classes              []string `json:"classes,omitempty"`
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func (w faultsWire) options() FaultOptions {
	return FaultOptions{Seed: w.Seed, Latency: ms(w.LatencyMs), LatencyJitter: ms(w.LatencyJitterMs),
		BandwidthBytesPerSec: w.BandwidthBytesPerSec, ErrorRate: w.ErrorRate, ErrorStatuses: w.ErrorStatuses,
		Rate429: w.Rate429, Rate503: w.Rate503, ResetRate: w.ResetRate, DropRate: w.DropRate,
		DropAfterBytes: w.DropAfterBytes, StallRate: w.StallRate, StallAfterBytes: w.StallAfterBytes,
		ExpireDownloadURLs: w.ExpireDownloadURLs, Classes: w.Classes}
}

func faultsToWire(o FaultOptions) faultsWire {
	return faultsWire{Seed: o.Seed, LatencyMs: float64(o.Latency) / float64(time.Millisecond),
		LatencyJitterMs: float64(o.LatencyJitter) / float64(time.Millisecond), BandwidthBytesPerSec: o.BandwidthBytesPerSec,
		ErrorRate: o.ErrorRate, ErrorStatuses: o.ErrorStatuses, Rate429: o.Rate429, Rate503: o.Rate503,
		ResetRate: o.ResetRate, DropRate: o.DropRate, DropAfterBytes: o.DropAfterBytes,
		StallRate: o.StallRate, StallAfterBytes: o.StallAfterBytes,
		ExpireDownloadURLs: o.ExpireDownloadURLs, Classes: o.Classes}
}

type throttleWire struct {
	MailboxConcurrency   int     `json:"mailboxConcurrency"`
	MailboxRequests      int     `json:"mailboxRequests"`
	MailboxWindowSeconds float64 `json:"mailboxWindowSeconds"`
	DriveResourceUnits   int     `json:"driveResourceUnits"`
	DriveWindowSeconds   float64 `json:"driveWindowSeconds"`
	Use503               bool    `json:"use503"`
	RetryAfterSeconds    float64 `json:"retryAfterSeconds"`
	OmitRetryAfter       bool    `json:"omitRetryAfter"`
	// Teams' rates per second (0: Teams' own, negative: none).
	TeamsDisabled        bool    `json:"teamsDisabled"`
	TeamsPerTeam         float64 `json:"teamsPerTeam"`
	TeamsChannelMessages float64 `json:"teamsChannelMessages"`
	TeamsChannels        float64 `json:"teamsChannels"`
	TeamsTeamGets        float64 `json:"teamsTeamGets"`
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func (w throttleWire) options() ThrottleOptions {
	return ThrottleOptions{MailboxConcurrency: w.MailboxConcurrency, MailboxRequests: w.MailboxRequests,
		MailboxWindow: secs(w.MailboxWindowSeconds), DriveResourceUnits: w.DriveResourceUnits,
		DriveWindow: secs(w.DriveWindowSeconds), Use503: w.Use503, RetryAfter: secs(w.RetryAfterSeconds),
		OmitRetryAfter: w.OmitRetryAfter, Teams: TeamsLimits{Disabled: w.TeamsDisabled, PerTeam: w.TeamsPerTeam,
			ChannelMessages: w.TeamsChannelMessages, Channels: w.TeamsChannels, TeamGets: w.TeamsTeamGets}}
}

func throttleToWire(o ThrottleOptions) throttleWire {
	return throttleWire{MailboxConcurrency: o.MailboxConcurrency, MailboxRequests: o.MailboxRequests,
		MailboxWindowSeconds: o.MailboxWindow.Seconds(), DriveResourceUnits: o.DriveResourceUnits,
		DriveWindowSeconds: o.DriveWindow.Seconds(), Use503: o.Use503, RetryAfterSeconds: o.RetryAfter.Seconds(),
		OmitRetryAfter: o.OmitRetryAfter, TeamsDisabled: o.Teams.Disabled, TeamsPerTeam: o.Teams.PerTeam,
		TeamsChannelMessages: o.Teams.ChannelMessages, TeamsChannels: o.Teams.Channels, TeamsTeamGets: o.Teams.TeamGets}
}
