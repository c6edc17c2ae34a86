package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/corso-temporal/corso/m365"
)

// The errors callers act on. They are m365's, so activities can test for
// them without importing this package.
var (
	// ErrUnknownResource: the user or mailbox does not exist (or has no
	// mailbox). Final for the backup of that mailbox.
	ErrUnknownResource = m365.ErrUnknownResource
	// ErrNotFound: the item or container is gone. An item-level failure.
	ErrNotFound = m365.ErrNotFound
	// ErrAuth: the identity platform or Graph refused the app (wrong
	// tenant, client or secret, missing consent). Retrying cannot help.
	ErrAuth = m365.ErrAuth
	// ErrDeltaExpired: the delta link is no longer valid; enumerate the
	// container again from scratch.
	ErrDeltaExpired = m365.ErrDeltaExpired
	// ErrUnrestorable: Graph refused to create an item for a reason
	// retrying cannot fix (content it does not accept, too large). Final
	// for that item.
	ErrUnrestorable = m365.ErrUnrestorable
)

// defaultRetryAfter is what a ThrottledError asks for when Graph named no
// delay.
const defaultRetryAfter = 10 * time.Second

// apiError is a Graph call that failed with an answer. It unwraps to the
// sentinel it is an instance of, if any.
type apiError struct {
	op      string
	status  int
	code    string
	message string
	kind    error
	class   m365.Class
	cause   m365.Cause
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s: Graph answered %d", e.op, e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

func (e *apiError) Unwrap() error { return e.kind }

// Fault reports what a backup does about the answer (graph/faults.go).
func (e *apiError) Fault() (m365.Class, m365.Cause) { return e.class, e.cause }

// classify turns what the SDK, azidentity or the transport returned into
// the package's errors: sentinels for what callers act on, ThrottledError
// for throttling that outlasted the client's own retries.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if refusedCredential(err) {
		return fmt.Errorf("%s: Microsoft Entra ID refused the app's credentials (check the tenant id, client id and secret): %w: %w", op, ErrAuth, err)
	}
	var te *ThrottledError
	var ae *apiError
	if errors.As(err, &te) || errors.As(err, &ae) {
		return err // already classified
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		// ODataError.Error() dereferences a message Graph may omit, so
		// only its fields are kept, never the error itself.
		code, msg := "", ""
		if me := oe.GetErrorEscaped(); me != nil {
			code, msg = deref(me.GetCode()), deref(me.GetMessage())
		}
		return answered(newAPIError(op, oe.GetStatusCode(), code, msg), oe.GetResponseHeaders())
	}
	var ke *abs.ApiError
	if errors.As(err, &ke) {
		return answered(newAPIError(op, ke.ResponseStatusCode, "", ke.Message), ke.ResponseHeaders)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func newAPIError(op string, status int, code, msg string) *apiError {
	r := classifyAnswer(status, code, msg)
	return &apiError{op: op, status: status, code: code, message: msg, kind: r.kind, class: r.class, cause: r.cause}
}

// answered completes an answer's error from its headers: a file flagged
// by the header alone is malware too (SharePoint's other way of saying
// malwareDetected; Corso's graph/errors.go IsMalware reads both), and 429
// and 503 answers become a ThrottledError carrying Graph's Retry-After.
func answered(e *apiError, h *abs.ResponseHeaders) error {
	if h != nil && len(h.Get("X-Virus-Infected")) > 0 && strings.EqualFold(h.Get("X-Virus-Infected")[0], "true") {
		e.class, e.cause = m365.ItemSkipped, m365.CauseMalware
		return e
	}
	if e.status != http.StatusTooManyRequests && e.status != http.StatusServiceUnavailable {
		return e
	}
	wait := defaultRetryAfter
	if h != nil {
		if v := h.Get("Retry-After"); len(v) > 0 {
			if d, ok := retryAfter(http.Header{"Retry-After": v}); ok {
				wait = d
			}
		}
	}
	return &ThrottledError{RetryAfter: wait, Err: e}
}

// responseError reads a failed answer that bypassed the SDK's error
// handling (streamed contents) into an error like the SDK's.
func responseError(op string, resp *http.Response) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := answerOf(resp.StatusCode, b)
	e.op = op
	h := abs.NewResponseHeaders()
	for k, vs := range resp.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return answered(e, h)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
