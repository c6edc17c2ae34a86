// Command corso-dev runs everything corso needs on one machine, in one
// process, for development and tests: a Temporal server with its Web UI, the
// codec server that lets the UI show encrypted payloads, an S3-compatible
// store for kopia repositories, and a simulated Microsoft 365 tenant. State lives in --data-dir, so a restart keeps
// workflow history, buckets and keys. While it runs, DIR/corso-dev.env holds
// the variables that point corso and its tests at the stack.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/buildinfo"
	"github.com/corso-temporal/corso/workflows"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "corso-dev: %v\n", err)
		os.Exit(1)
	}
}

type upOptions struct {
	dataDir      string
	temporalPort int
	uiPort       int
	codecPort    int
	s3Port       int
	headless     bool
	tlsDir       string
	temporalDB   string

	graphPort    int
	tenantSeed   int64
	users        int
	itemsPerUser int
	cleanTenant  bool
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "corso-dev",
		Short:         "Local Temporal + Web UI + S3 + simulated Microsoft 365 stack for developing corso",
		Version:       buildinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	var o upOptions
	up := &cobra.Command{
		Use:   "up",
		Short: "Run the stack in the foreground until interrupted",
		Long: "Starts Temporal (SQLite in DIR, or PostgreSQL with --temporal-db), the Temporal Web UI, a codec server and an S3 server\n" +
			"on 127.0.0.1, writes DIR/corso-dev.env once everything is ready and removes it on exit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.dataDir == "" {
				return errors.New("--data-dir is required")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runUp(ctx, stop, o)
		},
	}
	f := up.Flags()
	f.StringVar(&o.dataDir, "data-dir", "", "directory for all state (created if missing)")
	f.IntVar(&o.temporalPort, "temporal-port", 7233, "Temporal frontend gRPC port")
	f.IntVar(&o.uiPort, "ui-port", 8233, "Temporal Web UI port")
	f.IntVar(&o.codecPort, "codec-port", 8234, "codec server port")
	f.IntVar(&o.s3Port, "s3-port", 9000, "S3 API port")
	f.BoolVar(&o.headless, "headless", false, "do not run the Web UI")
	f.StringVar(&o.tlsDir, "tls-dir", "",
		"make the Temporal frontend require mTLS, with ca.pem, server.pem, server-key.pem, client.pem and client-key.pem in this directory (created for 127.0.0.1 when it holds none); the env file points clients at them")
	f.StringVar(&o.temporalDB, "temporal-db", "",
		"keep Temporal's state in PostgreSQL instead of SQLite in DIR: postgres://USER@HOST[:PORT]/DB (the visibility store goes to DB_visibility; both databases must exist; the schema is created or upgraded on start); the password comes from "+temporalDBPasswordEnv)
	f.IntVar(&o.graphPort, "graph-port", 9010, "simulated Microsoft 365 tenant (Graph API) port")
	f.Int64Var(&o.tenantSeed, "tenant-seed", 1, "seed of the simulated tenant; the same seed gives the same tenant")
	f.IntVar(&o.users, "users", 5, "users in the simulated tenant")
	f.IntVar(&o.itemsPerUser, "items-per-user", 100, "items per user in the simulated tenant (mail, contacts, events, files)")
	f.BoolVar(&o.cleanTenant, "clean-tenant", false,
		"leave out the special users and sites that fail the way real tenants do (unlicensed, policy-blocked, over quota, locked OneDrive, malware, OneNote...), for throughput benchmarks")
	root.AddCommand(up)
	return root
}

// service is one part of the stack. Start returns once the service is ready
// and calls died if it fails later; Stop must also work after a failed Start.
// Env lines go to the env file; a non-empty Summary goes to the ready line.
type service interface {
	Name() string
	Ports() []portClaim
	Start(ctx context.Context, died func(error)) error
	Stop(ctx context.Context) error
	Env() []envVar
	Summary() string
}

// services lists the stack in start order; they stop in reverse.
func (o upOptions) services(dir string, tls *stackTLS, db *postgresStore) []service {
	uiURL := "http://" + hostPort(o.uiPort)
	codecSvc := &codecService{dir: dir, port: o.codecPort, allowOrigin: uiURL}
	tsvc := &temporalService{
		dir:              dir,
		port:             o.temporalPort,
		namespace:        "default",
		searchAttributes: workflows.SearchAttributeTypes(),
		excludePorts:     map[int]bool{},
		tls:              tls,
		postgres:         db,
	}
	svcs := []service{tsvc, codecSvc}
	if !o.headless {
		svcs = append(svcs, &uiService{
			port:          o.uiPort,
			temporalPort:  o.temporalPort,
			namespace:     tsvc.namespace,
			codecEndpoint: codecSvc.url(),
			tls:           tls,
		})
	}
	svcs = append(svcs, &s3Service{dir: dir, port: o.s3Port},
		&graphService{dir: dir, port: o.graphPort, seed: o.tenantSeed, users: o.users, itemsPerUser: o.itemsPerUser, clean: o.cleanTenant})
	for _, s := range svcs {
		for _, c := range s.Ports() {
			tsvc.excludePorts[c.Port] = true
		}
	}
	return svcs
}

const stopTimeout = 20 * time.Second

// runUp starts the stack, announces it, and tears it down when ctx ends.
// stopSignals restores default signal handling so a second Ctrl-C during
// shutdown kills the process.
func runUp(ctx context.Context, stopSignals func(), o upOptions) (err error) {
	// Absolute, because the S3 backend changes the working directory.
	dir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return err
	}
	var tls *stackTLS
	if o.tlsDir != "" {
		t, err := openStackTLS(o.tlsDir)
		if err != nil {
			return err
		}
		tls = &t
	}
	db, err := parseTemporalDB(o.temporalDB, os.Getenv)
	if err != nil {
		return err
	}
	svcs := o.services(dir, tls, db)
	var claims []portClaim
	for _, s := range svcs {
		claims = append(claims, s.Ports()...)
	}
	if err := checkPorts(host, claims); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	lock, err := lockDataDir(dir)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Close() }()
	envPath := filepath.Join(dir, "corso-dev.env")
	_ = os.Remove(envPath) // left over from a killed run; it would lie

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	died := func(s service) func(error) {
		return func(err error) { cancel(diedError{fmt.Errorf("%s stopped: %w", s.Name(), err)}) }
	}

	var started []service
	defer func() {
		stopSignals()
		_ = os.Remove(envPath)
		if stopErr := stopAll(started); err == nil {
			err = stopErr
		}
	}()
	for _, s := range svcs {
		started = append(started, s) // Stop is safe after a failed Start
		if err := s.Start(ctx, died(s)); err != nil {
			var d diedError
			switch {
			case errors.As(context.Cause(ctx), &d):
				return d.error
			case ctx.Err() != nil:
				return nil // interrupted while starting
			}
			return fmt.Errorf("start %s: %w", s.Name(), err)
		}
	}

	var env []envVar
	var summary []string
	for _, s := range svcs {
		env = append(env, s.Env()...)
		if sum := s.Summary(); sum != "" {
			summary = append(summary, sum)
		}
	}
	data, err := formatEnv(
		"Written by corso-dev up; removed when it stops.\n"+
			"Load into a shell with: set -a; . "+shellQuote(envPath)+"; set +a", env)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(envPath, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", envPath, err)
	}
	fmt.Printf("corso-dev ready: %s; env in %s\n", strings.Join(summary, ", "), envPath)

	<-ctx.Done()
	var d diedError
	if errors.As(context.Cause(ctx), &d) {
		return d.error
	}
	return nil // signal
}

// diedError marks a service failing after it was ready, as opposed to the
// stack being stopped by a signal.
type diedError struct{ error }

// stopAll stops services in reverse start order and reports the first error.
func stopAll(svcs []service) error {
	var first error
	for i := len(svcs) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		err := svcs[i].Stop(ctx)
		cancel()
		if err != nil {
			err = fmt.Errorf("stop %s: %w", svcs[i].Name(), err)
			fmt.Fprintf(os.Stderr, "corso-dev: %v\n", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}
