package graph

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRefusedCredentialsAreFinal(t *testing.T) {
	e := newEnv(t, nil)
	for name, mod := range map[string]func(*Config){
		"wrong secret": func(c *Config) { c.ClientSecret = "not-the-secret" },
		"wrong client": func(c *Config) { c.ClientID = "someone-else" },
		"wrong tenant": func(c *Config) { c.TenantID = "00000000-0000-0000-0000-000000000000" },
	} {
		t.Run(name, func(t *testing.T) {
			c := e.client(mod)
			start := time.Now()
			_, err := c.ResolveMailboxes(context.Background(), []string{e.user(0).ID})
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if n := c.Stats().Requests["auth.token"]; n > 1 {
				t.Errorf("%d token requests: refusals must not be retried", n)
			}
			if n := c.Stats().Requests["users.get"]; n != 0 {
				t.Errorf("%d Graph requests without a token", n)
			}
		})
	}

	t.Run("right secret", func(t *testing.T) {
		c := e.client(nil)
		if _, err := c.ResolveMailboxes(context.Background(), []string{e.user(0).ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ResolveMailboxes(context.Background(), []string{e.user(2).ID}); err != nil {
			t.Fatal(err)
		}
		if n := c.Stats().Requests["auth.token"]; n != 1 {
			t.Errorf("%d token requests, want 1 (cached)", n)
		}
	})
}
