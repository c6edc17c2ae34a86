package m365

import (
	"encoding/json"
	"testing"
	"time"
)

// TestThreadKey: a thread's key is what an import keeps (author, time to
// the millisecond, body with its images' addresses left out, the replies
// a restore posts), so a restored thread keys like its backup, and a
// thread missing a reply does not.
func TestThreadKey(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 511_000_000, time.UTC)
	msg := func(id, from, created, body string) json.RawMessage {
		m := map[string]any{"id": id, "messageType": "message", "createdDateTime": created,
			"body": map[string]any{"contentType": "html", "content": body}}
		if from != "" {
			m["from"] = map[string]any{"user": map[string]any{"id": from, "displayName": "Ann"}}
		} else {
			m["messageType"] = "systemEventMessage"
		}
		b, _ := json.Marshal(m)
		return b
	}
	stored := func(th ChannelThread) []byte {
		b, _ := json.Marshal(th)
		return b
	}
	backedUp := ChannelThread{
		Message: msg("1", "u1", "2026-03-01T09:00:00.511Z",
			`<p>hi</p><img src="https://graph.microsoft.com/v1.0/teams/t/channels/c/messages/1/hostedContents/aWQ9eA/$value">`),
		Replies: []json.RawMessage{msg("2", "u2", "2026-03-01T09:01:00Z", "<p>yo</p>"), msg("3", "", "2026-03-01T09:02:00Z", "")},
	}
	key, err := StoredItemKey(ChannelMessages, stored(backedUp))
	if err != nil {
		t.Fatal(err)
	}
	// As the target lists the restored thread: a new image address, one
	// reply (the system event is not imported).
	restored := ThreadKey("u1", at, `<p>hi</p><img src="https://graph.microsoft.com/v1.0/teams/t/channels/r/messages/9/hostedContents/bmV3/$value">`, 1)
	if key != restored {
		t.Fatal("a restored thread does not key like its backup")
	}
	for name, other := range map[string]string{
		"another author":  ThreadKey("u2", at, "<p>hi</p><img src=\"x/hostedContents/a/$value\">", 1),
		"another time":    ThreadKey("u1", at.Add(time.Millisecond), "<p>hi</p><img src=\"x/hostedContents/a/$value\">", 1),
		"another body":    ThreadKey("u1", at, "<p>hello</p><img src=\"x/hostedContents/a/$value\">", 1),
		"a reply missing": ThreadKey("u1", at, "<p>hi</p><img src=\"x/hostedContents/a/$value\">", 0),
		"no image at all": ThreadKey("u1", at, "<p>hi</p>", 1),
	} {
		if other == key {
			t.Fatalf("%s keys like the thread", name)
		}
	}
}
