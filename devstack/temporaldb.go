package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql/driver"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql/session"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// temporalDBPasswordEnv holds the PostgreSQL password of --temporal-db,
// which never goes on the command line.
const temporalDBPasswordEnv = "CORSO_DEV_TEMPORAL_DB_PASSWORD"

// Where Temporal's PostgreSQL schemas live in go.temporal.io/server/schema.
const (
	postgresMainSchema       = "postgresql/v12/temporal"
	postgresVisibilitySchema = "postgresql/v12/visibility"
)

// postgresStore is a PostgreSQL server holding the embedded Temporal
// server's state, as a production cluster keeps it: the default store in
// one database and the visibility store (SQL advanced visibility, which
// corso's search attributes need) in a second one named DB_visibility.
type postgresStore struct {
	addr       string // host:port
	user       string
	password   string
	database   string
	visibility string
	// attrs are the URL's query parameters (sslmode, for one).
	attrs map[string]string
}

// parseTemporalDB reads --temporal-db: empty keeps SQLite in the data dir;
// otherwise postgres://USER@HOST[:PORT]/DB[?PARAM=VALUE...], with the
// password from getenv(temporalDBPasswordEnv).
func parseTemporalDB(raw string, getenv func(string) string) (*postgresStore, error) {
	if raw == "" {
		return nil, nil
	}
	const want = "want postgres://USER@HOST[:PORT]/DB"
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the input, which may hold a password.
		return nil, fmt.Errorf("--temporal-db is not a URL; %s", want)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("--temporal-db supports PostgreSQL only (scheme postgres://), not %q; %s", u.Scheme, want)
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("--temporal-db must not hold a password: set %s instead", temporalDBPasswordEnv)
	}
	if u.User.Username() == "" {
		return nil, fmt.Errorf("--temporal-db lacks the user; %s", want)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("--temporal-db lacks the host; %s", want)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("--temporal-db must name one database; %s", want)
	}
	attrs := map[string]string{}
	for k, vs := range u.Query() {
		if len(vs) != 1 {
			return nil, fmt.Errorf("--temporal-db gives %s %d times", k, len(vs))
		}
		if k == "password" {
			return nil, fmt.Errorf("--temporal-db must not hold a password: set %s instead", temporalDBPasswordEnv)
		}
		attrs[k] = vs[0]
	}
	return &postgresStore{
		addr:       net.JoinHostPort(u.Hostname(), port),
		user:       u.User.Username(),
		password:   getenv(temporalDBPasswordEnv),
		database:   db,
		visibility: db + "_visibility",
		attrs:      attrs,
	}, nil
}

// String names the server and database, without the password.
func (p *postgresStore) String() string { return "PostgreSQL " + p.addr + "/" + p.database }

func (p *postgresStore) sqlConfig(database string) *config.SQL {
	attrs := make(map[string]string, len(p.attrs))
	for k, v := range p.attrs {
		attrs[k] = v
	}
	return &config.SQL{
		PluginName:        postgresql.PluginName,
		DatabaseName:      database,
		ConnectAddr:       p.addr,
		ConnectProtocol:   "tcp",
		User:              p.user,
		Password:          p.password,
		ConnectAttributes: attrs,
		MaxConns:          20,
		MaxIdleConns:      20,
	}
}

// prepare brings both databases to the newest schema, creates the
// namespace with searchAttributes when it is missing, and returns the
// server's persistence settings. Each step is a no-op when done before.
func (p *postgresStore) prepare(logger log.Logger, namespace string, searchAttributes map[string]enumspb.IndexedValueType) (config.Persistence, error) {
	def, vis := p.sqlConfig(p.database), p.sqlConfig(p.visibility)
	for _, s := range []struct {
		conf   *config.SQL
		schema string
	}{{def, postgresMainSchema}, {vis, postgresVisibilitySchema}} {
		if err := p.migrate(logger, s.conf, s.schema); err != nil {
			return config.Persistence{}, err
		}
	}
	// NewNamespaceConfig and CreateNamespaces work with any SQL plugin:
	// the namespace row and its search attribute aliases look the same.
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false, searchAttributes)
	if err != nil {
		return config.Persistence{}, fmt.Errorf("namespace %s: %w", namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(def, ns); err != nil {
		return config.Persistence{}, fmt.Errorf("create namespace %s in %s: %w", namespace, p, err)
	}
	return config.Persistence{
		DefaultStore:     "postgres-default",
		VisibilityStore:  "postgres-visibility",
		NumHistoryShards: 1,
		DataStores: map[string]config.DataStore{
			"postgres-default":    {SQL: def},
			"postgres-visibility": {SQL: vis},
		},
	}, nil
}

func (p *postgresStore) migrate(logger log.Logger, conf *config.SQL, schema string) error {
	// The plugin's handle reports a failed connection as "no usable
	// database connection"; a session of its own tells why.
	s, err := session.NewSession(conf, &driver.PQDriver{}, resolver.NewNoopResolver())
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL %s, database %s, as %s (password from %s): %w",
			p.addr, conf.DatabaseName, p.user, temporalDBPasswordEnv, err)
	}
	s.Close()
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, conf, resolver.NewNoopResolver(), logger, metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL %s/%s: %w", p.addr, conf.DatabaseName, err)
	}
	defer func() { _ = db.Close() }()
	if err := migrateSchema(db, conf.DatabaseName, schema); err != nil {
		return fmt.Errorf("prepare Temporal schema in database %s on %s (it must belong to %s): %w",
			conf.DatabaseName, p.addr, p.user, err)
	}
	return nil
}
