package localstack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// TemporalDBPasswordEnv is the variable corso-dev reads the password of
// --temporal-db from.
const TemporalDBPasswordEnv = "CORSO_DEV_TEMPORAL_DB_PASSWORD"

// Postgres is a throwaway PostgreSQL server on 127.0.0.1, run by
// scripts/postgres.sh in a folder of its own, holding the databases for
// `corso-dev up --temporal-db`.
type Postgres struct {
	Dir string
	// URL is --temporal-db's value; it holds no password.
	URL      string
	Password string
}

// PostgresInstalled reports whether PostgreSQL's server programs are
// installed where the distribution's packages put them.
func PostgresInstalled() bool {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(m) > 0
}

// StartPostgres installs PostgreSQL from the distribution's packages when
// it is missing, and starts a fresh server on a free port.
func StartPostgres() (*Postgres, error) {
	// Under the system's temporary folder, whose parents the postgres
	// account can search when the server must run as it (as root).
	dir, err := os.MkdirTemp("", "corso-postgres-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, Password: hex.EncodeToString(secret)}
	out, err := p.script("start", dir, strconv.Itoa(port))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	p.URL = lines[len(lines)-1]
	if !strings.HasPrefix(p.URL, "postgres://") {
		_ = p.Destroy()
		return nil, fmt.Errorf("scripts/postgres.sh start printed no database URL:\n%s", out)
	}
	return p, nil
}

// DevArgs are the corso-dev flags that put Temporal on this server; the
// password goes in TemporalDBPasswordEnv.
func (p *Postgres) DevArgs() []string { return []string{"--temporal-db", p.URL} }

// Destroy stops the server and removes its folder.
func (p *Postgres) Destroy() error {
	_, err := p.script("destroy", p.Dir)
	return err
}

func (p *Postgres) script(args ...string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command(filepath.Join(filepath.Dir(filepath.Dir(file)), "scripts", "postgres.sh"), args...)
	cmd.Env = append(os.Environ(), "CORSO_PG_PASSWORD="+p.Password)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("scripts/postgres.sh %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
