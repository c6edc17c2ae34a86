package workflows

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
)

// resourceStore keeps stored resource lists in memory, as the repository
// would, behind the list activities a test registers with it.
type resourceStore struct {
	mu    sync.Mutex
	lists map[string]StoredResources
	// resolutions counts the lists stored; pages are the pages read, in
	// order.
	resolutions int
	pages       []ResourcePageInput
}

func (s *resourceStore) store(list StoredResources) ResourceList {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lists == nil {
		s.lists = map[string]StoredResources{}
	}
	s.resolutions++
	id := fmt.Sprint("list-", len(s.lists))
	s.lists[id] = list
	return list.Listed(id)
}

// registerPages registers ActivityReadResourcePage.
func (s *resourceStore) registerPages(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in ResourcePageInput) ([]ResolvedResource, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.pages = append(s.pages, in)
		list, ok := s.lists[in.ListID]
		if !ok {
			return nil, fmt.Errorf("no list %s", in.ListID)
		}
		rs := list.Resources[min(in.Offset, len(list.Resources)):]
		return rs[:min(in.Limit, len(rs))], nil
	}, activity.RegisterOptions{Name: ActivityReadResourcePage})
}

// listMailboxes registers the mailbox list activities over resolve.
func (s *resourceStore) listMailboxes(env *testsuite.TestWorkflowEnvironment, resolve func(context.Context, ResolveMailboxesInput) ([]m365.Mailbox, error)) {
	env.RegisterActivityWithOptions(func(ctx context.Context, in ResolveMailboxesInput) (ResourceList, error) {
		mbs, err := resolve(ctx, in)
		if err != nil {
			return ResourceList{}, err
		}
		return s.store(MailboxResources(mbs)), nil
	}, activity.RegisterOptions{Name: ActivityResolveMailboxList})
	s.registerPages(env)
}

// listDrives registers the drive list activities over resolve.
func (s *resourceStore) listDrives(env *testsuite.TestWorkflowEnvironment, resolve func(context.Context, ResolveDrivesInput) ([]ResolvedDrive, error)) {
	env.RegisterActivityWithOptions(func(ctx context.Context, in ResolveDrivesInput) (ResourceList, error) {
		rs, err := resolve(ctx, in)
		if err != nil {
			return ResourceList{}, err
		}
		return s.store(DriveResources(rs)), nil
	}, activity.RegisterOptions{Name: ActivityResolveDriveList})
	s.registerPages(env)
}
