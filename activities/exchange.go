package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// MailboxSource is what Exchange backups read from: Microsoft Graph in
// production, the simulator in tests (through the same client).
type MailboxSource interface {
	ResolveMailboxes(ctx context.Context, selectors []string) ([]m365.Mailbox, error)
	Containers(ctx context.Context, mailboxID string, cat m365.Category) ([]m365.Container, error)
	DeltaPage(ctx context.Context, mailboxID string, cat m365.Category, containerID, link string) (m365.Page, error)
	// ListPage lists a container that cannot be enumerated by delta
	// (m365.DeltaUnavailable); its last page has no NextLink.
	ListPage(ctx context.Context, mailboxID string, cat m365.Category, containerID, link string) (m365.Page, error)
	FetchItem(ctx context.Context, mailboxID string, cat m365.Category, itemID string) (io.ReadCloser, error)
}

// NewMailboxSource builds a source for one tenant and app.
type NewMailboxSource func(tenantID, clientID, clientSecret string) (MailboxSource, error)

// Exchange holds what Exchange backup activities need. Sources are cached
// per tenant and app so tokens and connection pools are reused.
type Exchange struct {
	Repos     *Repositories
	NewSource NewMailboxSource
	// CheckpointItems is how many fetched items a collection backup may
	// lose to a crash; zero means defaultCheckpointItems.
	CheckpointItems int

	mu      sync.Mutex
	sources map[string]MailboxSource
}

func (a *Exchange) source(g workflows.GraphRef) (MailboxSource, error) {
	if g.TenantID == "" {
		return nil, invalidInput("no tenant id: set AZURE_TENANT_ID")
	}
	var gc workflows.GraphCredentials
	if err := a.Repos.Sealer.Open(g.Credentials, &gc); err != nil {
		return nil, invalidInput("cannot read the request's Graph credentials: " + err.Error())
	}
	if gc.ClientID == "" || gc.ClientSecret == "" {
		return nil, invalidInput("no Graph app credentials: set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
	}
	sum := sha256.Sum256([]byte(g.TenantID + "\x00" + gc.ClientID + "\x00" + gc.ClientSecret))
	key := hex.EncodeToString(sum[:])
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.sources[key]; ok {
		return s, nil
	}
	s, err := a.NewSource(g.TenantID, gc.ClientID, gc.ClientSecret)
	if err != nil {
		return nil, graphError(err)
	}
	if a.sources == nil {
		a.sources = map[string]MailboxSource{}
	}
	a.sources[key] = s
	return s, nil
}

// graphError turns a Graph client error into the workflow error, by its
// class (m365/faults.go): a refused app fails the run, a resource denied
// or unavailable fails that resource's backup alone, throttling retries
// after Graph's delay. None of the final ones is retried.
func graphError(err error) error {
	var throttled *m365.ThrottledError
	if err == nil {
		return nil
	}
	class, cause := m365.FaultOf(err)
	switch {
	case errors.Is(err, m365.ErrAuth):
		return temporal.NewNonRetryableApplicationError("Microsoft Graph refused the app: "+err.Error()+
			" (check AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and the app's admin consent)", workflows.ErrTypeGraphAuth, nil)
	case class == m365.ResourceDenied:
		return temporal.NewNonRetryableApplicationError(cause.Describe()+": "+err.Error(), workflows.ErrTypeResourceDenied, nil)
	case class == m365.ResourceUnavailable:
		return temporal.NewNonRetryableApplicationError(cause.Describe()+": "+err.Error(), workflows.ErrTypeResourceUnavailable, nil)
	case errors.Is(err, m365.ErrUnknownResource):
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeUnknownMailbox, nil)
	case class == m365.ItemSkipped:
		return temporal.NewNonRetryableApplicationError(cause.Describe()+": "+err.Error(), workflows.ErrTypeItemFailed, nil)
	case errors.As(err, &throttled):
		return temporal.NewApplicationErrorWithOptions(err.Error(), workflows.ErrTypeThrottled,
			temporal.ApplicationErrorOptions{NextRetryDelay: throttled.RetryAfter})
	}
	return err
}

// ResolveMailboxes turns the --mailbox selectors into mailboxes.
func (a *Exchange) ResolveMailboxes(ctx context.Context, in workflows.ResolveMailboxesInput) ([]m365.Mailbox, error) {
	src, err := a.source(in.Graph)
	if err != nil {
		return nil, err
	}
	mbs, err := src.ResolveMailboxes(ctx, in.Selectors)
	if err != nil {
		return nil, graphError(err)
	}
	for _, m := range mbs {
		if m.Unavailable == "" {
			return mbs, nil
		}
	}
	return nil, temporal.NewNonRetryableApplicationError("no mailbox matches "+strings.Join(in.Selectors, ", "), workflows.ErrTypeUnknownMailbox, nil)
}
