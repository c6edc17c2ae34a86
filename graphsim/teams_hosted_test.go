package graphsim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hostedSrc = regexp.MustCompile(`src="([^"]*/hostedContents/([^/"]+)/\$value)"`)

// TestTeamsHostedContentsListedAndServed: a message or reply whose body
// shows inline images lists exactly those hosted contents, and each one's
// $value address in the body serves an image whose bytes the truth
// hashes; a message without images lists none, and an unknown id is not
// found.
func TestTeamsHostedContentsListedAndServed(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{Groups: 3, ItemsPerSite: 200}, RevokeTokenAfter: -1, Throttle: ThrottleOptions{Teams: TeamsLimits{Disabled: true}}})
	st, _ := h.sim.State(StateFilter{Category: "channels"})
	truth := map[string]string{} // channel/message/hosted content → hash
	for _, it := range st.Items {
		if it.Kind == "hostedContent" {
			truth[it.CollectionID+"/"+it.ID] = it.Hash
		}
	}
	if len(truth) == 0 {
		t.Fatal("no hosted contents in the tenant")
	}
	seen, plain, replies := 0, 0, 0
	for _, g := range h.sim.t.groups {
		if !g.isTeam {
			continue
		}
		for _, ch := range h.getJSON("teams/"+g.id+"/channels", http.StatusOK)["value"].([]any) {
			cid := ch.(map[string]any)["id"].(string)
			base := "teams/" + g.id + "/channels/" + url.PathEscape(cid) + "/messages/"
			msgs, _, _ := h.collect(base)
			for _, m := range msgs {
				mid := m["id"].(string)
				rs, _, _ := h.collect(base + mid + "/replies")
				all := append([]map[string]any{m}, rs...)
				for i, msg := range all {
					addr := base + mid
					if i > 0 {
						addr += "/replies/" + msg["id"].(string)
					}
					body := msg["body"].(map[string]any)["content"].(string)
					srcs := hostedSrc.FindAllStringSubmatch(body, -1)
					listed := h.getJSON(addr+"/hostedContents", http.StatusOK)["value"].([]any)
					if len(listed) != len(srcs) {
						t.Fatalf("%s lists %d hosted contents, its body shows %d: %s", addr, len(listed), len(srcs), body)
					}
					if len(srcs) == 0 {
						plain++
						continue
					}
					for j, src := range srcs {
						hc := listed[j].(map[string]any)
						if hc["id"] != src[2] || !strings.HasPrefix(hc["contentType"].(string), "image/") {
							t.Fatalf("%s: listed %v, body shows %s", addr, hc, src[1])
						}
						b, resp := h.bytes(src[1], http.StatusOK)
						sum := sha256.Sum256(b)
						key := cid + "/" + msg["id"].(string) + "/" + src[2]
						if want := truth[key]; want != hex.EncodeToString(sum[:]) || resp.Header.Get("Content-Type") != hc["contentType"] {
							t.Fatalf("%s: %d bytes of %s, truth %q", key, len(b), resp.Header.Get("Content-Type"), want)
						}
						seen++
						if i > 0 {
							replies++
						}
					}
					h.getJSON(addr+"/hostedContents/"+srcs[0][2], http.StatusOK)
					h.getJSON(addr+"/hostedContents/bm9uZQ/$value", http.StatusNotFound)
				}
			}
		}
	}
	if seen != len(truth) || replies == 0 || plain == 0 {
		t.Fatalf("served %d hosted contents (%d of replies), the truth has %d; %d messages without", seen, replies, len(truth), plain)
	}
}
