package main

import (
	"strings"
	"testing"
	"testing/fstest"

	dbschemas "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
)

func manifest(version string, files ...string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(`{"CurrVersion": "` + version + `", "MinCompatibleVersion": "0.1", "SchemaUpdateCqlFiles": ["` + strings.Join(files, `","`) + `"]}`)}
}

func TestSchemaChangesInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"s/versioned/v1.10/manifest.json": manifest("1.10", "b.sql"),
		"s/versioned/v1.10/b.sql":         {Data: []byte("ALTER TABLE t ADD COLUMN c INT;")},
		"s/versioned/v1.9/manifest.json":  manifest("1.9", "a.sql"),
		"s/versioned/v1.9/a.sql":          {Data: []byte("CREATE TABLE t (a INT);\nCREATE INDEX i ON t (a);")},
		"s/versioned/v1.0/manifest.json":  manifest("1.0", "z.sql"),
		"s/versioned/v1.0/z.sql":          {Data: []byte("CREATE TABLE z (a INT);")},
	}
	changes, err := schemaChanges(fsys, "s/versioned")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.version.String())
	}
	if strings.Join(got, " ") != "1.0 1.9 1.10" {
		t.Fatalf("versions in order %v, want 1.0 1.9 1.10 (numeric, not lexical)", got)
	}
	if len(changes[1].stmts) != 2 {
		t.Fatalf("v1.9 has %d statements, want 2: %q", len(changes[1].stmts), changes[1].stmts)
	}
}

func TestSchemaChangeWhoseManifestDisagreesWithItsFolder(t *testing.T) {
	fsys := fstest.MapFS{
		"s/versioned/v1.2/manifest.json": manifest("1.3", "a.sql"),
		"s/versioned/v1.2/a.sql":         {Data: []byte("CREATE TABLE t (a INT);")},
	}
	if _, err := schemaChanges(fsys, "s/versioned"); err == nil || !strings.Contains(err.Error(), "manifest says version 1.3") {
		t.Fatalf("error %v, want the mismatch named", err)
	}
}

// The PostgreSQL schemas this build embeds read, and end at the versions
// the server expects of its databases.
func TestEmbeddedPostgresSchemas(t *testing.T) {
	for dir, newest := range map[string]string{postgresMainSchema: pgschema.Version, postgresVisibilitySchema: pgschema.VisibilityVersion} {
		changes, err := schemaChanges(dbschemas.Assets(), dir+"/versioned")
		if err != nil {
			t.Fatal(err)
		}
		if got := changes[len(changes)-1].version.String(); got != newest {
			t.Errorf("%s: newest version %s, want %s", dir, got, newest)
		}
		if changes[0].version.String() != "1.0" || len(changes[0].stmts) == 0 {
			t.Errorf("%s: first change %s with %d statements, want the base schema 1.0", dir, changes[0].version, len(changes[0].stmts))
		}
	}
}

func TestSchemaVersions(t *testing.T) {
	for _, bad := range []string{"", "1", "1.2.3", "a.b", "-1.0"} {
		if _, err := parseSchemaVersion(bad); err == nil {
			t.Errorf("parseSchemaVersion(%q) accepted", bad)
		}
	}
	v9, _ := parseSchemaVersion("1.9")
	v10, _ := parseSchemaVersion("1.10")
	if !v9.less(v10) || v10.less(v9) || (schemaVersion{}).String() != "0.0" {
		t.Fatalf("1.9 < 1.10 and 0.0 ordering wrong")
	}
}
