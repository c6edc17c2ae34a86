package graphsim

import (
	"encoding/binary"
	"net/http"
	"sync"
	"sync/atomic"
)

// Deterministic transient answers. Besides random faults (FaultOptions)
// and persistent ones (quirks.go), real Graph has a few transient answers
// that every long backup meets sooner or later and that a correct client
// must get past: they fail once and succeed on retry. Each happens here a
// bounded number of times (once per server lifetime; a restarted server
// does it again), at a fixed place for a seed, and only in tenants with
// special resources (absent when TenantOptions.Clean is set). None changes
// what a correct backup stores, so none adds an Expectation.
//
//   - transient404: the first GET of the quirky user's first ordinary Inbox
//     message's MIME ($value) and the first GET of the first event of its
//     first non-empty calendar answer 404 with an empty body.
//   - transient400: the first request of a page of the quirky user's
//     OneDrive delta that is a nextLink page, or a first page without a
//     nextLink, answers 400 invalidRequest.
//   - revokedToken: the access token of the Graph request that follows
//     Options.RevokeTokenAfter (default 200) authenticated Graph requests
//     is revoked: that request and every later one carrying it answer 401
//     InvalidAuthenticationToken; newly issued tokens work.
//
// "C:" is a file of Corso (github.com/alcionai/corso at 880cb899b).

// transientMessageIndex is the Inbox position of the quirky user's message
// whose MIME first answers 404: the first after the three unreadable ones
// (quirks.go buildQuirks), so a backup reads it once it retries.
const transientMessageIndex = 3

// defaultRevokeTokenAfter is the number of authenticated Graph requests
// served before a token is revoked when Options.RevokeTokenAfter is 0.
const defaultRevokeTokenAfter = 200

// transients is a server's state of the deterministic transient answers.
type transients struct {
	mu    sync.Mutex
	fired map[string]bool // one-shot answers already given

	revokeAfter int64 // authenticated Graph requests before the revocation; <0: never
	authSeq     atomic.Int64
	revoked     atomic.Pointer[string] // the revoked access token
	issued      atomic.Uint64          // access tokens minted, for their uti claim
}

func newTransients(o *Options) *transients {
	tr := &transients{fired: map[string]bool{}, revokeAfter: int64(o.RevokeTokenAfter)}
	switch {
	case o.Tenant.Clean || o.RevokeTokenAfter < 0:
		tr.revokeAfter = -1
	case o.RevokeTokenAfter == 0:
		tr.revokeAfter = defaultRevokeTokenAfter
	}
	return tr
}

// once reports whether key fires now: true the first time only.
func (tr *transients) once(key string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.fired[key] {
		return false
	}
	tr.fired[key] = true
	return true
}

// ---- 404 with an empty body ----

// errNotFoundEmpty: Exchange sometimes answers a GET of a message, a
// message attachment or an event that exists with 404 and no content, and
// fetching the item again succeeds. Corso retries exactly these (C:
// pkg/services/m365/api/graph/service.go adapterWrap.Send: "We've started
// seeing 404s with no content being returned for messages message
// attachments, and events. Attempting to manually fetch the items
// succeeds. Therefore we want to retry these"; Corso PR #5217 "Check for
// and retry 404s with no content", graph/errors.go ErrNotFoundEmptyResp
// keyed on a 404 whose Content-Length is 0). No JSON body, Content-Length: 0.
func errNotFoundEmpty() *apiError {
	return &apiError{status: http.StatusNotFound, emptyBody: true}
}

// transientMessage is the origin of the quirky user's message whose MIME
// first answers 404.
func transientMessage(u *user) ref {
	return ref{Kind: kMessage, Owner: uint32(u.idx), Coll: quirkInbox, Index: transientMessageIndex}
}

// transientEvent is the origin of the quirky user's event whose GET first
// answers 404: the first event of the first calendar that has any.
func (s *Server) transientEvent(u *user) (ref, bool) {
	for i, f := range s.model.layoutFor(kCalendar, u).folders {
		if f.count > 0 {
			return ref{Kind: kEvent, Owner: uint32(u.idx), Coll: uint32(i)}, true
		}
	}
	return ref{}, false
}

// transientFault answers the first GET of a transient404 item, or returns
// nil. It runs where persistent faults do, after random faults and
// throttling, so the one-shot is spent on a request that reached the
// service.
func (s *Server) transientFault(rq *request) *apiError {
	if s.t.opts.Clean || rq.r.Method != http.MethodGet || rq.route.service != "exchange" {
		return nil
	}
	var k kind
	var param string
	switch rq.route.class {
	case "mail.message.mime":
		k, param = kMessage, "message"
	case "events.get":
		k, param = kEvent, "event"
	default:
		return nil
	}
	u, err := s.lookupUser(rq.params["user"])
	if err != nil || u.special != specQuirky {
		return nil
	}
	v, lerr := rq.lookupItem(k, u, rq.params[param])
	if lerr != nil || v.src.Serial != 0 {
		return nil // an occurrence id, a missing or a client-written item
	}
	want := transientMessage(u)
	if k == kEvent {
		var ok bool
		if want, ok = s.transientEvent(u); !ok {
			return nil
		}
	}
	if v.src != want || !s.transients.once("404:"+param) {
		return nil
	}
	s.stats.fault("transient404")
	return errNotFoundEmpty()
}

// ---- 400 invalidRequest on a drive delta page ----

// errTransientInvalidRequest: Graph sometimes answers a GET during
// OneDrive and SharePoint backup with 400 invalidRequest that succeeds on
// retry; Corso retries it for GETs (C: pkg/services/m365/api/graph/
// service.go adapterWrap.Send: "Graph may sometimes return a transient 400
// response during onedrive and sharepoint backup. This is pending
// investigation on msft end, retry for now as it's a transient issue";
// Corso PR #4993 "Add retries for transient graph 400 invalidRequest
// errors", whose test answers {"code":"invalidRequest","message":"Invalid
// request"}; graph/errors.go IsErrInvalidRequest matches status 400 and
// that code). Corso does not say which drive call fails; a delta page is
// the call a drive backup repeats most.
func errTransientInvalidRequest() *apiError {
	return errInvalidRequest("Invalid request")
}

// isTransientDrive reports whether a drive's delta carries the
// transient400: the quirky user's OneDrive only.
func (s *Server) isTransientDrive(owner uint32) bool {
	if s.t.opts.Clean {
		return false
	}
	u, _, _ := s.t.driveOwner(owner)
	return u != nil && u.special == specQuirky
}

// deltaTransient answers a drive delta page with the transient400 when it
// is due. The quirky OneDrive is small (its delta fits one page at Graph's
// default of 200), so the answer goes to the first nextLink page when a
// client pages with $top, and to the first page when that page is the
// whole round (it has no nextLink). first tells a page that starts a round
// (no token, or a deltaLink token); any other page came from a nextLink.
func (rq *request) deltaTransient(first bool, page deltaPage) *apiError {
	if !rq.transientDelta || first && page.next != nil || !rq.s.transients.once("400:drive.delta") {
		return nil
	}
	rq.s.stats.fault("transient400")
	return errTransientInvalidRequest()
}

// ---- a revoked access token ----

// errTokenRevoked: Graph rejects an access token before its expiry when
// Entra revokes it (continuous access evaluation: a policy change, a
// disabled or deleted service principal, credential changes). Reports from
// app-only (client-credentials) clients quote 401 {"code":
// "InvalidAuthenticationToken","message":"Continuous access evaluation
// resulted in challenge with result: InteractionRequired and code:
// TokenCreatedWithOutdatedPolicies"} (microsoftgraph/msgraph-sdk-java#2306
// with ClientCertificateCredential, #2355; elastic/elasticsearch#142848 for
// a client_credentials service principal; the user-token variant is
// msgraph-sdk-powershell#1741, "...code: TokenIssuedBeforeRevocationTimestamp").
// Those clients keep failing with the cached token until they get a new
// one, which works (the reports' workaround is a new client or a restart).
// The WWW-Authenticate header carries no claims challenge: with one,
// kiota's request adapter would silently re-authenticate with the claims
// (kiota-http-go retryCAEResponseIfRequired), which a service principal
// cannot satisfy (elastic/elasticsearch#142848); here the 401 reaches the
// client, which must drop its token and ask for a new one.
func errTokenRevoked() *apiError {
	return newError(http.StatusUnauthorized, "InvalidAuthenticationToken",
		"Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenCreatedWithOutdatedPolicies").
		with("WWW-Authenticate", `Bearer realm="", error="invalid_token", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
}

// checkRevoked runs for a Graph request whose token verified: it answers
// the revoked token, and revokes the token of the request that follows
// revokeAfter authenticated ones. Only one token is ever revoked.
func (s *Server) checkRevoked(tok string) *apiError {
	tr := s.transients
	if tr.revokeAfter < 0 {
		return nil
	}
	if r := tr.revoked.Load(); r != nil && *r == tok {
		s.stats.fault("revokedTokenRejected")
		return errTokenRevoked()
	}
	if tr.authSeq.Add(1) != tr.revokeAfter+1 {
		return nil
	}
	tr.revoked.Store(&tok)
	s.stats.fault("revokedToken")
	s.stats.fault("revokedTokenRejected")
	return errTokenRevoked()
}

// nextUTI is the uti claim of a newly minted access token, an opaque
// per-token identifier Entra puts in its access tokens
// (learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
// It makes every token the endpoint
// issues a different string, so a token asked for after the revocation is
// never the revoked one, even within the same second.
func (s *Server) nextUTI() string {
	n := s.transients.issued.Add(1)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], hashOf(uint64(s.opts.Tenant.Seed), tagToken, n))
	binary.LittleEndian.PutUint64(b[8:], hashOf(uint64(s.opts.Tenant.Seed), tagToken, n, 1))
	return b64raw.EncodeToString(b[:])
}
