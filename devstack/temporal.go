package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

const clusterName = "active"

// temporalService is a single-process Temporal server (frontend, history,
// matching, worker) persisting to SQLite in DIR, like `temporal server
// start-dev --db-filename`, or to PostgreSQL, with the project's search
// attributes registered.
type temporalService struct {
	dir              string
	port             int
	namespace        string
	searchAttributes map[string]enumspb.IndexedValueType
	// excludePorts are fixed ports of other services; internal ports avoid them.
	excludePorts map[int]bool
	// tls, when set, makes the frontend require client certificates.
	tls *stackTLS
	// postgres, when set, holds the server's state instead of SQLite.
	postgres *postgresStore

	server temporal.Server
	conn   *grpc.ClientConn
}

func (t *temporalService) Name() string { return "temporal" }

func (t *temporalService) Ports() []portClaim {
	return []portClaim{{Port: t.port, Flag: "--temporal-port"}}
}

func (t *temporalService) Summary() string {
	if t.postgres != nil {
		return "temporal " + hostPort(t.port) + " on " + t.postgres.String()
	}
	return "temporal " + hostPort(t.port)
}

func (t *temporalService) Env() []envVar {
	env := []envVar{
		{"TEMPORAL_ADDRESS", hostPort(t.port)},
		{"TEMPORAL_NAMESPACE", t.namespace},
	}
	if t.tls != nil {
		env = append(env, t.tls.Env()...)
	}
	return env
}

func (t *temporalService) Start(ctx context.Context, _ func(error)) error {
	// The cluster ID is stored in the database on first start; a different one
	// on a later start would not match it.
	clusterID, err := loadOrCreateSecret(filepath.Join(t.dir, "temporal-cluster-id"), func() (string, error) {
		return uuid.NewString(), nil
	})
	if err != nil {
		return err
	}
	// Zap writes to DIR/temporal.log; the server logs a lot even at warn, and
	// stdout carries only the ready line.
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{
		Level:      "warn",
		OutputFile: filepath.Join(t.dir, "temporal.log"),
	}))
	stores, err := t.prepareStores(logger)
	if err != nil {
		return err
	}
	// history, matching, worker gRPC and the frontend HTTP API.
	internal, err := freePorts(host, 4, t.excludePorts)
	if err != nil {
		return err
	}
	conf := t.serverConfig(stores, clusterID, internal)
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: static.SingleLocalHost(hostPort(t.port)),
			primitives.HistoryService:  static.SingleLocalHost(hostPort(internal[0])),
			primitives.MatchingService: static.SingleLocalHost(hostPort(internal[1])),
			primitives.WorkerService:   static.SingleLocalHost(hostPort(internal[2])),
		}),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(devDynamicConfig()),
	)
	if err != nil {
		return fmt.Errorf("create server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start server (log in %s): %w", filepath.Join(t.dir, "temporal.log"), err)
	}
	t.server = srv

	creds := insecure.NewCredentials()
	if t.tls != nil {
		cfg, err := t.tls.clientConfig()
		if err != nil {
			return err
		}
		creds = credentials.NewTLS(cfg)
	}
	t.conn, err = grpc.NewClient(hostPort(t.port), grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	if err := t.waitNamespace(ctx); err != nil {
		return err
	}
	return t.ensureSearchAttributes(ctx)
}

func (t *temporalService) Stop(ctx context.Context) error {
	if t.conn != nil {
		_ = t.conn.Close()
	}
	if t.server == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- t.server.Stop() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("server did not stop in time: %w", ctx.Err())
	}
}

// prepareStores readies the server's stores: the PostgreSQL databases of
// --temporal-db, or SQLite in DIR.
func (t *temporalService) prepareStores(logger log.Logger) (config.Persistence, error) {
	if t.postgres != nil {
		return t.postgres.prepare(logger, t.namespace, t.searchAttributes)
	}
	sqlConf, err := t.prepareDatabase()
	if err != nil {
		return config.Persistence{}, err
	}
	return config.Persistence{
		DefaultStore:     "sqlite-default",
		VisibilityStore:  "sqlite-default",
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}},
	}, nil
}

// prepareDatabase creates the schema when DIR/temporal.db does not exist yet
// and the namespace when it is missing; an existing database is kept as is.
func (t *temporalService) prepareDatabase() (*config.SQL, error) {
	dbPath := filepath.Join(t.dir, "temporal.db")
	conf := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      dbPath,
		ConnectAttributes: map[string]string{"mode": "rwc"},
	}
	// The plugin builds a "file:PATH?..." URI, which these characters break.
	if strings.ContainsAny(dbPath, "?#") {
		return nil, fmt.Errorf("--data-dir must not contain '?' or '#': %s", t.dir)
	}
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			_ = os.Remove(dbPath) // a half-made schema would be skipped on the next start
			return nil, fmt.Errorf("create Temporal schema in %s: %w", dbPath, err)
		}
	} else if err != nil {
		return nil, err
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, t.namespace, false, t.searchAttributes)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", t.namespace, err)
	}
	// A no-op when the namespace exists; ensureSearchAttributes covers
	// attributes added to the project since.
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", t.namespace, err)
	}
	return conf, nil
}

// serverConfig mirrors the Temporal CLI's dev server: one shard, no
// archival, every service on 127.0.0.1.
func (t *temporalService) serverConfig(stores config.Persistence, clusterID string, internal []int) *config.Config {
	svc := func(grpcPort, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = grpcPort
		s.RPC.BindOnIP = host
		s.RPC.HTTPPort = httpPort
		return s
	}
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence = stores
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             hostPort(t.port),
				HTTPAddress:            hostPort(internal[3]),
				ClusterID:              clusterID,
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{
		"frontend": svc(t.port, internal[3]),
		"history":  svc(internal[0], 0),
		"matching": svc(internal[1], 0),
		"worker":   svc(internal[2], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = hostPort(t.port)
	if t.tls != nil {
		t.requireClientCerts(conf)
	}
	return conf
}

// requireClientCerts makes the frontend speak TLS and accept only clients
// with a certificate from the stack's CA; the server's own system workers
// present the stack's client certificate. Traffic between the server's
// internal services stays on loopback in plain text.
func (t *temporalService) requireClientCerts(conf *config.Config) {
	ca := []string{t.tls.path(tlsCA)}
	conf.Global.TLS.Frontend.Server = config.ServerTLS{
		CertFile:          t.tls.path(tlsServerCert),
		KeyFile:           t.tls.path(tlsServerKey),
		ClientCAFiles:     ca,
		RequireClientAuth: true,
	}
	conf.Global.TLS.Frontend.Client = config.ClientTLS{ServerName: host, RootCAFiles: ca}
	conf.Global.TLS.SystemWorker = config.WorkerTLS{
		CertFile: t.tls.path(tlsClientCert),
		KeyFile:  t.tls.path(tlsClientKey),
		Client:   config.ClientTLS{ServerName: host, RootCAFiles: ca},
	}
}

// devDynamicConfig is the Temporal CLI dev server's dynamic config.
func devDynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// New search attributes and Nexus endpoints are visible at once
		// instead of after a cache refresh.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		dynamicconfig.ForceNexusEndpointRefreshOnRead.Key():         true,
		// The uncached reads above need more persistence QPS.
		dynamicconfig.FrontendPersistenceMaxQPS.Key(): 10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():  45000,
		// No calls home.
		dynamicconfig.EnableServerVersionCheck.Key():                     false,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
}

// waitNamespace returns once the frontend serves the namespace.
func (t *temporalService) waitNamespace(ctx context.Context) error {
	client := workflowservice.NewWorkflowServiceClient(t.conn)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.DescribeNamespace(rctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.namespace})
		rcancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s not available: %w", t.namespace, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ensureSearchAttributes registers the project's search attributes that the
// namespace lacks (CreateNamespaces does not touch an existing namespace) and
// checks that all of them are there with the right type.
func (t *temporalService) ensureSearchAttributes(ctx context.Context) error {
	op := operatorservice.NewOperatorServiceClient(t.conn)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	list := func() (map[string]enumspb.IndexedValueType, error) {
		resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: t.namespace})
		if err != nil {
			return nil, fmt.Errorf("list search attributes: %w", err)
		}
		return resp.GetCustomAttributes(), nil
	}
	have, err := list()
	if err != nil {
		return err
	}
	missing, err := missingSearchAttributes(t.searchAttributes, have)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if _, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        t.namespace,
			SearchAttributes: missing,
		}); err != nil {
			return fmt.Errorf("add search attributes: %w", err)
		}
		if have, err = list(); err != nil {
			return err
		}
		if missing, err = missingSearchAttributes(t.searchAttributes, have); err != nil {
			return err
		}
		if len(missing) > 0 {
			return fmt.Errorf("search attributes still missing after adding them: %s", strings.Join(sortedKeys(missing), ", "))
		}
	}
	return nil
}

// missingSearchAttributes returns the attributes of want that have lacks, and
// an error for one registered with another type (which cannot be changed).
func missingSearchAttributes(want, have map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range sortedKeys(want) {
		typ, ok := have[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case typ != want[name]:
			return nil, fmt.Errorf("search attribute %s is registered as %s, not %s; use a fresh --data-dir", name, typ, want[name])
		}
	}
	return missing, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
