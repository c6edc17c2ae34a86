package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
)

func TestContainers(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	u := e.user(0)

	mail, err := c.Containers(ctx, u.ID, Email)
	if err != nil {
		t.Fatal(err)
	}
	inbox := containerByPath(t, mail, "Inbox")
	// Nest two folders with awkward names below the inbox.
	deep := e.mutate(graphsim.MutateOp{Op: "add", Kind: "mailFolder", User: u.ID, Parent: inbox.ID, Name: `Q4 / "Plan" — ünï`})[0].ID
	deeper := e.mutate(graphsim.MutateOp{Op: "add", Kind: "mailFolder", User: u.ID, Parent: deep, Name: "a\\b 📁 & 100%"})[0].ID

	for _, cat := range []struct {
		cat   Category
		state string
	}{{Email, "mail"}, {Contacts, "contacts"}, {Events, "events"}} {
		t.Run(string(cat.cat), func(t *testing.T) {
			got, err := c.Containers(ctx, u.ID, cat.cat)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, it := range e.state(u.ID, cat.state).Items {
				if it.Kind == "folder" {
					want[it.ID] = it.Path
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d containers, state has %d", len(got), len(want))
			}
			for _, ct := range got {
				if ct.Category != cat.cat {
					t.Errorf("%s: category %q", ct.ID, ct.Category)
				}
				path, ok := want[ct.ID]
				if !ok {
					t.Errorf("container %s %q not in state", ct.ID, ct.Path)
					continue
				}
				if strings.Join(ct.Path, "/") != path || ct.DisplayName != ct.Path[len(ct.Path)-1] {
					t.Errorf("container %s: path %q name %q, state says %q", ct.ID, ct.Path, ct.DisplayName, path)
				}
			}
		})
	}

	mail, err = c.Containers(ctx, u.ID, Email)
	if err != nil {
		t.Fatal(err)
	}
	d := containerByPath(t, mail, "Inbox", `Q4 / "Plan" — ünï`, "a\\b 📁 & 100%")
	if d.ID != deeper || d.ParentID != deep {
		t.Errorf("nested folder %+v, want id %s parent %s", d, deeper, deep)
	}
	contacts, err := c.Containers(ctx, u.ID, Contacts)
	if err != nil {
		t.Fatal(err)
	}
	containerByPath(t, contacts, "Contacts")
}
