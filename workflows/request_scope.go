package workflows

import (
	"cmp"
	"context"
	"reflect"
	"runtime"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// Purposes name what a request does; credentials are sealed for one
// purpose and open only in a request of that purpose.
const (
	PurposeRepo    = "repo"    // repo init, repo connect, repo maintenance
	PurposeBackup  = "backup"  // backup create
	PurposeList    = "list"    // backup list, backup details
	PurposeDelete  = "delete"  // backup delete
	PurposeRestore = "restore" // restore
	PurposeExport  = "export"  // export
	// PurposePassphrase: repo update-passphrase, apart from other repo
	// requests since it replaces the secret itself.
	PurposePassphrase = "update-passphrase"
	// PurposeVerify: backup verify, whose drill restores into the tenant
	// and deletes what it restored.
	PurposeVerify = "verify"
)

// purposes maps each workflow the CLI submits (a request's root) to its
// purpose. Child workflows are absent: started on their own, they are not
// a request and credentials do not open in them.
var purposes = map[string]string{
	workflowName(RepoInitWorkflow):         PurposeRepo,
	workflowName(RepoConnectWorkflow):      PurposeRepo,
	workflowName(RepoMaintenanceWorkflow):  PurposeRepo,
	workflowName(RepoPassphraseWorkflow):   PurposePassphrase,
	workflowName(ExchangeBackupWorkflow):   PurposeBackup,
	workflowName(DriveBackupWorkflow):      PurposeBackup,
	workflowName(ContainersBackupWorkflow): PurposeBackup,
	workflowName(BackupListWorkflow):       PurposeList,
	workflowName(BackupDetailsWorkflow):    PurposeList,
	workflowName(BackupDeleteWorkflow):     PurposeDelete,
	workflowName(ExchangeRestoreWorkflow):  PurposeRestore,
	workflowName(DriveRestoreWorkflow):     PurposeRestore,
	workflowName(ExchangeExportWorkflow):   PurposeExport,
	workflowName(DriveExportWorkflow):      PurposeExport,
	workflowName(VerifyBackupWorkflow):     PurposeVerify,
}

// PurposeOf returns the purpose of a request whose root workflow is wf (a
// workflow function, or its registered name); "" if wf is no request.
func PurposeOf(wf any) string {
	if name, ok := wf.(string); ok {
		return purposes[name]
	}
	return purposes[workflowName(wf)]
}

// workflowName is the name the SDK registers a workflow function under.
func workflowName(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	name = name[strings.LastIndex(name, ".")+1:]
	return strings.TrimSuffix(name, "-fm")
}

// Request names the request a workflow or activity runs for: the id and
// type of the root of its workflow chain, which sealed credentials are
// bound to.
type Request struct {
	WorkflowID   string `json:"workflowID"`
	WorkflowType string `json:"workflowType"`
	// RunID is the root's first run: with the workflow id, what a
	// schedule's list of the runs it started names.
	RunID string `json:"runID,omitempty"`
}

// Purpose is the request's purpose, "" when it is no request.
func (r Request) Purpose() string { return PurposeOf(r.WorkflowType) }

// requestHeader carries the Request from a workflow to its activities and
// child workflows. Only workflow code sets it (RequestInterceptor), from
// what the server recorded about the run; a client cannot set it on
// activities, and a client's header on a workflow it starts is ignored,
// since only a child workflow reads its own.
const requestHeader = "corso-request"

// headerConverter writes the header in plain JSON: it holds no secret,
// and the Web UI shows it as it is.
var headerConverter = converter.GetDefaultDataConverter()

type requestKey struct{}

// RequestOfActivity returns the request the running activity works for.
// Outside an activity it returns the zero Request, for which no
// credentials open.
func RequestOfActivity(ctx context.Context) Request {
	if !activity.IsActivity(ctx) {
		return Request{}
	}
	if r, ok := ctx.Value(requestKey{}).(Request); ok && r.WorkflowID != "" {
		return r
	}
	// Scheduled by a workflow without the interceptor, or run by a worker
	// without it: the activity's own workflow, as the server recorded it.
	info := activity.GetInfo(ctx)
	return Request{WorkflowID: info.WorkflowExecution.ID, WorkflowType: info.WorkflowType.Name, RunID: info.WorkflowExecution.RunID}
}

// requestOfWorkflow returns the request a workflow runs for: itself when
// it has no parent, else what its parent's header says, if that agrees
// with the root the server recorded.
func requestOfWorkflow(ctx workflow.Context) Request {
	info := workflow.GetInfo(ctx)
	if info.ParentWorkflowExecution == nil {
		return rootRequest(info)
	}
	p := interceptor.WorkflowHeader(ctx)[requestHeader]
	if p == nil {
		return Request{}
	}
	var r Request
	if headerConverter.FromPayload(p, &r) != nil {
		return Request{}
	}
	if root := info.RootWorkflowExecution; root != nil && root.ID != "" && root.ID != r.WorkflowID {
		return Request{}
	}
	return r
}

// rootRequest is the request of a workflow that has no parent: itself.
func rootRequest(info *workflow.Info) Request {
	return Request{WorkflowID: info.WorkflowExecution.ID, WorkflowType: info.WorkflowType.Name,
		RunID: cmp.Or(info.FirstRunID, info.WorkflowExecution.RunID)}
}

// RequestInterceptor passes the request a workflow runs for on to its
// activities (local ones too), child workflows and continued runs, so
// that an activity of a child workflow opens the credentials sealed for
// the request that started its parent. Every worker that runs corso
// workflows or activities registers it.
func RequestInterceptor() interceptor.WorkerInterceptor { return &requestInterceptor{} }

type requestInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*requestInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &requestActivityInbound{}
	i.Next = next
	return i
}

// requestActivityInbound reads the request from the activity's header,
// which the SDK takes away before the activity function runs.
type requestActivityInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (i *requestActivityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if p := interceptor.Header(ctx)[requestHeader]; p != nil {
		var r Request
		if headerConverter.FromPayload(p, &r) == nil && r.WorkflowID != "" {
			ctx = context.WithValue(ctx, requestKey{}, r)
		}
	}
	return i.Next.ExecuteActivity(ctx, in)
}

func (*requestInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &requestInbound{}
	i.Next = next
	return i
}

type requestInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	req   Request
	known bool
}

func (i *requestInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &requestOutbound{in: i}
	o.Next = outbound
	return i.Next.Init(o)
}

func (i *requestInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	i.req, i.known = requestOfWorkflow(ctx), true
	return i.Next.ExecuteWorkflow(ctx, in)
}

type requestOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	in *requestInbound
}

// stamp writes the request into the header of the call ctx belongs to.
func (o *requestOutbound) stamp(ctx workflow.Context) {
	if !o.in.known {
		// A handler running before the workflow function: only a root
		// knows its request without its start header.
		if info := workflow.GetInfo(ctx); info.ParentWorkflowExecution == nil {
			o.in.req, o.in.known = rootRequest(info), true
		}
	}
	h := interceptor.WorkflowHeader(ctx)
	if h == nil || o.in.req.WorkflowID == "" {
		return
	}
	if p, err := headerConverter.ToPayload(o.in.req); err == nil {
		h[requestHeader] = p
	}
}

func (o *requestOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.stamp(ctx)
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

func (o *requestOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.stamp(ctx)
	return o.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

func (o *requestOutbound) ExecuteChildWorkflow(ctx workflow.Context, childWorkflowType string, args ...any) workflow.ChildWorkflowFuture {
	o.stamp(ctx)
	return o.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
}

func (o *requestOutbound) NewContinueAsNewError(ctx workflow.Context, wfn any, args ...any) error {
	o.stamp(ctx)
	return o.Next.NewContinueAsNewError(ctx, wfn, args...)
}
