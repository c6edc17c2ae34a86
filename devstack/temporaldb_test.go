package main

import (
	"strings"
	"testing"
)

func TestTemporalDBFlag(t *testing.T) {
	env := func(k string) string {
		if k == temporalDBPasswordEnv {
			return "pw from env"
		}
		return ""
	}
	t.Run("empty keeps SQLite", func(t *testing.T) {
		p, err := parseTemporalDB("", env)
		if err != nil || p != nil {
			t.Fatalf("got %+v, %v; want nil, nil", p, err)
		}
	})
	t.Run("postgres URL gives both databases and the password from the environment", func(t *testing.T) {
		p, err := parseTemporalDB("postgres://corso@127.0.0.1:55432/temporal?sslmode=disable", env)
		if err != nil {
			t.Fatal(err)
		}
		want := postgresStore{addr: "127.0.0.1:55432", user: "corso", password: "pw from env", database: "temporal", visibility: "temporal_visibility"}
		if p.addr != want.addr || p.user != want.user || p.password != want.password || p.database != want.database || p.visibility != want.visibility {
			t.Fatalf("got %+v, want %+v", *p, want)
		}
		if p.attrs["sslmode"] != "disable" || len(p.attrs) != 1 {
			t.Fatalf("connect attributes %v, want sslmode=disable", p.attrs)
		}
		def, vis := p.sqlConfig(p.database), p.sqlConfig(p.visibility)
		if def.PluginName != "postgres12" || def.DatabaseName != "temporal" || vis.DatabaseName != "temporal_visibility" || def.Password != "pw from env" {
			t.Fatalf("sql configs %+v / %+v", def, vis)
		}
		if strings.Contains(p.String(), "pw") {
			t.Fatalf("String shows the password: %s", p)
		}
	})
	t.Run("default port", func(t *testing.T) {
		p, err := parseTemporalDB("postgresql://u@db.example/t", env)
		if err != nil || p.addr != "db.example:5432" {
			t.Fatalf("got %+v, %v; want db.example:5432", p, err)
		}
	})
	for _, c := range []struct{ name, raw, want string }{
		{"password in the URL", "postgres://u:hunter2secret@127.0.0.1/t", "must not hold a password: set " + temporalDBPasswordEnv},
		{"password as a parameter", "postgres://u@127.0.0.1/t?password=hunter2secret", "must not hold a password"},
		{"other database", "mysql://u@127.0.0.1/t", "PostgreSQL only"},
		{"no user", "postgres://127.0.0.1/t", "lacks the user"},
		{"no host", "postgres://u@/t", "lacks the host"},
		{"no database", "postgres://u@127.0.0.1:5432", "one database"},
		{"two path segments", "postgres://u@127.0.0.1/a/b", "one database"},
		{"not a URL", "postgres://u:hunter2secret@[::1/t", "not a URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseTemporalDB(c.raw, env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2secret") {
				t.Fatalf("error repeats the password: %v", err)
			}
		})
	}
}
