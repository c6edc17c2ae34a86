package main

import (
	"bytes"
	dbsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	dbschemas "go.temporal.io/server/schema"
)

// errSchemaNewer is a database whose schema is newer than this build's.
var errSchemaNewer = errors.New("the database holds a newer Temporal schema than this corso-dev knows; use a newer corso-dev or another database")

// schemaChange is one versioned folder of a Temporal SQL schema: its
// manifest.json and the statements of the files it lists.
type schemaChange struct {
	version     schemaVersion
	minCompat   string
	description string
	stmts       []string
}

// migrateSchema brings database to the newest version of the Temporal
// schema in dir (of go.temporal.io/server/schema), applying each versioned
// change the database has not recorded yet, in order, as
// `temporal-sql-tool setup-schema -v 0.0` then `update-schema` do. A fresh
// database goes through every version; an up-to-date one through none.
// Statements a change applied before an interruption fail with "already
// exists" when it is applied again, which is not an error, as in
// temporal-sql-tool.
func migrateSchema(db sqlplugin.AdminDB, database, dir string) error {
	changes, err := schemaChanges(dbschemas.Assets(), path.Join(dir, "versioned"))
	if err != nil {
		return err
	}
	if err := db.CreateSchemaVersionTables(); err != nil {
		return fmt.Errorf("create schema version tables: %w", err)
	}
	current := schemaVersion{}
	recorded, err := db.ReadSchemaVersion(database)
	switch {
	case errors.Is(err, dbsql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("read schema version: %w", err)
	default:
		if current, err = parseSchemaVersion(recorded); err != nil {
			return fmt.Errorf("recorded schema version: %w", err)
		}
	}
	if newest := changes[len(changes)-1].version; newest.less(current) {
		return fmt.Errorf("%w (database %s, newest known %s)", errSchemaNewer, current, newest)
	}
	for _, c := range changes {
		if !current.less(c.version) {
			continue
		}
		for _, stmt := range c.stmts {
			if err := db.Exec(stmt); err != nil && !strings.Contains(err.Error(), "already exist") {
				return fmt.Errorf("schema version %s: %w", c.version, err)
			}
		}
		if err := db.UpdateSchemaVersion(database, c.version.String(), c.minCompat); err != nil {
			return fmt.Errorf("record schema version %s: %w", c.version, err)
		}
		if err := db.WriteSchemaUpdateLog(current.String(), c.version.String(), "", c.description); err != nil {
			return fmt.Errorf("record schema update to %s: %w", c.version, err)
		}
		current = c.version
	}
	return nil
}

// schemaChanges reads every versioned folder (v1.0, v1.1, ...) under dir,
// oldest first.
func schemaChanges(fsys fs.FS, dir string) ([]schemaChange, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read schema %s: %w", dir, err)
	}
	var out []schemaChange
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "v") {
			continue
		}
		c, err := readSchemaChange(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if want := strings.TrimPrefix(e.Name(), "v"); c.version.String() != want {
			return nil, fmt.Errorf("schema %s: manifest says version %s", path.Join(dir, e.Name()), c.version)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("schema %s has no versions", dir)
	}
	slices.SortFunc(out, func(a, b schemaChange) int { return a.version.compare(b.version) })
	return out, nil
}

func readSchemaChange(fsys fs.FS, dir string) (schemaChange, error) {
	var m struct {
		CurrVersion          string
		MinCompatibleVersion string
		Description          string
		SchemaUpdateCqlFiles []string
	}
	b, err := fs.ReadFile(fsys, path.Join(dir, "manifest.json"))
	if err != nil {
		return schemaChange{}, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return schemaChange{}, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	v, err := parseSchemaVersion(m.CurrVersion)
	if err != nil {
		return schemaChange{}, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	c := schemaChange{version: v, minCompat: m.MinCompatibleVersion, description: m.Description}
	for _, f := range m.SchemaUpdateCqlFiles {
		sqlText, err := fs.ReadFile(fsys, path.Join(dir, f))
		if err != nil {
			return schemaChange{}, err
		}
		stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(sqlText)})
		if err != nil {
			return schemaChange{}, fmt.Errorf("%s/%s: %w", dir, f, err)
		}
		c.stmts = append(c.stmts, stmts...)
	}
	return c, nil
}

// schemaVersion is a Temporal schema version, MAJOR.MINOR; the zero value
// is an empty database's 0.0.
type schemaVersion struct{ major, minor int }

func parseSchemaVersion(s string) (schemaVersion, error) {
	maj, min, ok := strings.Cut(s, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if !ok || err1 != nil || err2 != nil || a < 0 || b < 0 {
		return schemaVersion{}, fmt.Errorf("schema version %q is not MAJOR.MINOR", s)
	}
	return schemaVersion{a, b}, nil
}

func (v schemaVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v schemaVersion) compare(o schemaVersion) int {
	if v.major != o.major {
		return v.major - o.major
	}
	return v.minor - o.minor
}

func (v schemaVersion) less(o schemaVersion) bool { return v.compare(o) < 0 }
