package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/activities"
	"github.com/corso-temporal/corso/budget"
	"github.com/corso-temporal/corso/buildinfo"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/graph"
	"github.com/corso-temporal/corso/logging"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
)

type options struct {
	temporal temporalclient.Config
	dataDir  string
	identity string
	logLevel string
	maxActs  int
	queue    string
	memMiB   int64
	debug    string
	// debugPublic lets --debug-listen bind beyond loopback.
	debugPublic bool
	metrics     string
	// metricsPublic lets --metrics-listen bind beyond loopback.
	metricsPublic bool

	graphEndpoint string
	driveRU       int
	// mailboxRPM is each mailbox's request budget per minute that the
	// fleet paces its requests to (graph.Config.MailboxRequestsPerMinute).
	mailboxRPM float64
}

func newCommand() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:           "corso-worker",
		Short:         "Run corso workflows and activities (backups, restores, repository work)",
		Version:       buildinfo.Version(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), o)
		},
	}
	cmd.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	f := cmd.Flags()
	o.temporal.AddFlags(f) // --temporal-address, --namespace, TLS and API key
	f.StringVar(&o.dataDir, "data-dir", os.Getenv("CORSO_WORKER_DIR"), "folder for this worker's repository configs and caches; one per worker process (env CORSO_WORKER_DIR, default a new folder in the user cache dir)")
	f.StringVar(&o.identity, "identity", "", "name of this worker in Temporal and in the repository (default host-pid)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.queue, "task-queue", workflows.TaskQueue, "task queue to poll (env CORSO_TASK_QUEUE); CLIs must use the same")
	f.StringVar(&o.graphEndpoint, "graph-endpoint", os.Getenv("CORSO_GRAPH_ENDPOINT"), "send Microsoft Graph and sign-in traffic to this address, e.g. a simulated tenant (env CORSO_GRAPH_ENDPOINT); empty means Microsoft's cloud")
	f.Int64Var(&o.memMiB, "memory-limit-mib", defaultMemoryLimitMiB, "soft memory limit for the Go runtime, in MiB; the process's resident memory is this plus the binary's own pages (0: none; GOMEMLIMIT overrides)")
	f.StringVar(&o.debug, "debug-listen", "", "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 or :6060 (loopback; off by default)")
	f.BoolVar(&o.debugPublic, "debug-listen-public", false, "let --debug-listen bind an address other machines can reach")
	f.StringVar(&o.metrics, "metrics-listen", os.Getenv("CORSO_METRICS_LISTEN"), "serve Prometheus metrics at /metrics on this address, e.g. 127.0.0.1:9464 or :9464 (loopback; env CORSO_METRICS_LISTEN; off by default)")
	f.BoolVar(&o.metricsPublic, "metrics-listen-public", os.Getenv("CORSO_METRICS_LISTEN_PUBLIC") == "true", "let --metrics-listen bind an address other machines can reach, e.g. 0.0.0.0:9464 in a container (env CORSO_METRICS_LISTEN_PUBLIC=true)")
	f.IntVar(&o.maxActs, "max-concurrent-activities", 16, "activities this worker runs at once")
	f.BoolVar(&o.temporal.AcceptUnencrypted, "accept-unencrypted-payloads", os.Getenv("CORSO_ACCEPT_UNENCRYPTED_PAYLOADS") == "true",
		"decode payloads that are not encrypted with CORSO_CODEC_KEY, e.g. of runs from before encryption (env CORSO_ACCEPT_UNENCRYPTED_PAYLOADS=true); off, they are refused")
	f.IntVar(&o.driveRU, "drive-ru-per-minute", envInt("CORSO_DRIVE_RU_PER_MINUTE", defaultDriveRU),
		"SharePoint and OneDrive resource units per minute the whole fleet may spend per tenant: 1250 up to 1,000 licences, 2500 up to 5,000, 3750 up to 15,000, 5000 up to 50,000, 6250 above (env CORSO_DRIVE_RU_PER_MINUTE; 0: unmetered, Retry-After only)")
	f.Float64Var(&o.mailboxRPM, "mailbox-requests-per-minute", envFloat("CORSO_MAILBOX_REQUESTS_PER_MINUTE", 0),
		fmt.Sprintf("pace each mailbox's requests across the fleet within this budget a minute (to 95%% of it), Exchange's per app and mailbox (%d: 10,000 per 10 minutes), when mailboxes outgrow it; 0 (default) leaves them to Retry-After (env CORSO_MAILBOX_REQUESTS_PER_MINUTE)", graph.DefaultMailboxRequestsPerMinute))
	return cmd
}

func run(ctx context.Context, o options) error {
	logger, err := newLogger(o.logLevel)
	if err != nil {
		return err
	}
	if v := os.Getenv("CORSO_DRIVE_RU_PER_MINUTE"); v != "" {
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("CORSO_DRIVE_RU_PER_MINUTE=%q is not a whole number", v)
		}
	}
	if o.driveRU < 0 {
		return fmt.Errorf("--drive-ru-per-minute must be 0 or more, not %d", o.driveRU)
	}
	if v := os.Getenv("CORSO_MAILBOX_REQUESTS_PER_MINUTE"); v != "" {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("CORSO_MAILBOX_REQUESTS_PER_MINUTE=%q is not a number", v)
		}
	}
	if o.mailboxRPM < 0 || math.IsNaN(o.mailboxRPM) || math.IsInf(o.mailboxRPM, 0) {
		return fmt.Errorf("--mailbox-requests-per-minute must be 0 or more, not %v", o.mailboxRPM)
	}
	if o.memMiB > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// Item buffers and SDK allocations come and go per request; a soft
		// limit makes the collector return them before RSS grows.
		debug.SetMemoryLimit(o.memMiB << 20)
	}
	if _, err := graph.CheckEndpoint(o.graphEndpoint); err != nil {
		return fmt.Errorf("--graph-endpoint (CORSO_GRAPH_ENDPOINT): %w", err)
	}
	if o.debug != "" {
		l, err := debugListener(o.debug, o.debugPublic)
		if err != nil {
			return err
		}
		go func() {
			if err := http.Serve(l, nil); err != nil {
				logger.Error("debug listener stopped", "error", err)
			}
		}()
	}
	var metrics *workerMetrics
	if o.metrics != "" {
		l, err := localListener("metrics-listen", o.metrics, o.metricsPublic, "serve metrics there")
		if err != nil {
			return err
		}
		defer l.Close()
		metrics = newWorkerMetrics()
		go metrics.serve(l, logger)
		logger.Info("serving metrics", "address", "http://"+l.Addr().String()+"/metrics")
	}
	o.temporal = o.temporal.FromEnv()
	if q := os.Getenv("CORSO_TASK_QUEUE"); q != "" && o.queue == workflows.TaskQueue {
		o.queue = q
	}
	if o.temporal.CodecKey == "" {
		return codec.ErrNoKey
	}
	if o.identity == "" {
		host, _ := os.Hostname()
		o.identity = host + "-" + strconv.Itoa(os.Getpid())
	}
	dataDir, cleanup, err := workerDir(o.dataDir, o.identity)
	if err != nil {
		return err
	}
	defer cleanup()
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Release()

	sealer, err := codec.NewSealer(o.temporal.CodecKey)
	if err != nil {
		return err
	}
	conns, err := repository.NewConnections(repository.ClientOptions{
		Hostname: o.identity,
		Username: "corso",
		Dir:      filepath.Join(dataDir, "repositories"),
		Logger:   logger,
	})
	if err != nil {
		return err
	}
	defer conns.Close(context.Background())

	o.temporal.Identity = "corso-worker@" + o.identity
	o.temporal.Logger = logger
	o.temporal.MetricsHandler = metrics.sdkHandler()
	c, err := temporalclient.Dial(o.temporal)
	if err != nil {
		return err
	}
	defer c.Close()

	added, err := temporalclient.EnsureSearchAttributes(ctx, c, o.temporal.Namespace, workflows.SearchAttributeTypes())
	if err != nil {
		// Workflows still run; only filtering in the Web UI suffers.
		logger.Warn("search attributes are not registered", "error", err)
	} else if len(added) > 0 {
		logger.Info("registered search attributes", "names", added)
	}

	w := worker.New(c, o.queue, worker.Options{
		MaxConcurrentActivityExecutionSize: o.maxActs,
		// Checkpoints travel in heartbeats; send them promptly so a killed
		// worker loses little work.
		MaxHeartbeatThrottleInterval: 2 * time.Second,
		// Activities open the credentials sealed for their request: the
		// interceptor tells them which request that is.
		Interceptors: []interceptor.WorkerInterceptor{workflows.RequestInterceptor(), activities.LivenessInterceptor(activities.LivenessEvery)},
	})
	driveBudget := budget.New(budget.TemporalLeaser(c, o.queue), o.temporal.Identity, o.driveRU, logger.With("budget", "drive"))
	defer driveBudget.Close()
	teamsBudget := budget.New(budget.TemporalTeamsLeaser(c, o.queue), o.temporal.Identity, workflows.TeamsMessageReadsPerMinute, logger.With("budget", "teams"))
	defer teamsBudget.Close()
	register(w, deps{connections: conns, sealer: sealer, graphEndpoint: o.graphEndpoint, driveBudget: driveBudget, teamsBudget: teamsBudget, metrics: metrics,
		mailboxRPM: o.mailboxRPM})
	logger.Info("corso-worker polling", "temporal", o.temporal.Address, "namespace", o.temporal.Namespace,
		"taskQueue", o.queue, "identity", o.identity)
	if err := w.Run(worker.InterruptCh()); err != nil {
		return fmt.Errorf("worker stopped: %w", err)
	}
	return nil
}

// defaultMemoryLimitMiB keeps a worker's resident memory within 300 MiB:
// the runtime's limit does not count the binary's own pages, 70 to 90 MiB
// of a worker's resident memory. Enumerating a library of 200,000 files
// peaked at 310 to 318 MiB under a limit of 256 MiB, 299 MiB under 224 and
// 249 MiB under 192.
const defaultMemoryLimitMiB = 192

// defaultDriveRU is SharePoint's budget for the smallest tenants: safe
// everywhere, and raised by admins of larger ones.
const defaultDriveRU = 1250

// envInt reads an integer setting from the environment, or def when unset
// or not a number; run reports the latter.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// envFloat reads a number setting from the environment, or def when unset
// or not a number; run reports the latter.
func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func newLogger(level string) (*slog.Logger, error) {
	return logging.New(os.Stderr, level)
}

// workerDir returns this process's state folder. Without --data-dir each
// process gets a fresh one, removed on exit, since kopia needs a config and
// cache per writer.
func workerDir(dir, identity string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o700)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	if err := os.MkdirAll(filepath.Join(base, "corso-worker"), 0o700); err != nil {
		return "", nil, err
	}
	d, err := os.MkdirTemp(filepath.Join(base, "corso-worker"), identity+"-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { _ = os.RemoveAll(d) }, nil
}
