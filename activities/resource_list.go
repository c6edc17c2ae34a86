package activities

import (
	"context"
	"fmt"

	"github.com/corso-temporal/corso/workflows"
)

// storeResources stores a backup request's resolved resources in the
// repository, where the request reads them a page at a time
// (ReadResourcePage): the list of a large tenant is too large for a
// payload.
func (a *Repositories) storeResources(ctx context.Context, ref *workflows.RepoRef, list workflows.StoredResources) (workflows.ResourceList, error) {
	if ref == nil {
		return workflows.ResourceList{}, invalidInput("no repository to store the resolved resources in")
	}
	r, err := a.open(ctx, *ref)
	if err != nil {
		return workflows.ResourceList{}, err
	}
	defer r.Release(ctx)
	ctx, sess, err := r.NewSession(ctx, "store resolved resources")
	if err != nil {
		return workflows.ResourceList{}, repositoryError(err)
	}
	defer sess.Close(ctx)
	id, err := sess.WriteJSON(ctx, "RESOURCE-LIST", list)
	if err != nil {
		return workflows.ResourceList{}, repositoryError(err)
	}
	if err := sess.Flush(ctx); err != nil {
		return workflows.ResourceList{}, repositoryError(err)
	}
	return list.Listed(id.String()), nil
}

// ReadResourcePage returns one page of a stored list of resolved
// resources.
func (a *Repositories) ReadResourcePage(ctx context.Context, in workflows.ResourcePageInput) ([]workflows.ResolvedResource, error) {
	if in.Offset < 0 || in.Limit <= 0 {
		return nil, invalidInput(fmt.Sprintf("a page of resources starts at 0 and holds 1 or more, not %d from %d", in.Limit, in.Offset))
	}
	r, err := a.open(ctx, in.Repo)
	if err != nil {
		return nil, err
	}
	defer r.Release(ctx)
	var list workflows.StoredResources
	if err := r.ReadJSON(ctx, in.ListID, &list); err != nil {
		return nil, repositoryError(err)
	}
	rs := list.Resources[min(in.Offset, len(list.Resources)):]
	return rs[:min(in.Limit, len(rs))], nil
}
