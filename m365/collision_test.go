package m365

import (
	"strings"
	"testing"
	"time"
)

func mimeHeader(headers ...string) []byte {
	return []byte(strings.Join(headers, "\r\n") + "\r\n\r\nbody\r\n")
}

func TestStoredMailKey(t *testing.T) {
	sent := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		stored  []byte
		subject string
		sent    time.Time
	}{
		{"plain", mimeHeader("Subject: Quarterly plan", "Date: Mon, 02 Jun 2025 10:00:00 +0000"), "Quarterly plan", sent},
		{"other offset", mimeHeader("Subject: Quarterly plan", "Date: Mon, 02 Jun 2025 12:00:00 +0200"), "Quarterly plan", sent},
		{"B-encoded", mimeHeader("Subject: =?utf-8?B?UmVzdG9yZWQg4pyT?=", "Date: Mon, 02 Jun 2025 10:00:00 +0000"), "Restored ✓", sent},
		{"Q-encoded latin-1", mimeHeader("Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Date: Mon, 02 Jun 2025 10:00:00 +0000"), "Café crème", sent},
		{"split encoded words", mimeHeader("Subject: =?utf-8?B?w7xiZXI=?=\r\n =?utf-8?B?IGRlbg==?= Plan", "Date: Mon, 02 Jun 2025 10:00:00 +0000"), "über den Plan", sent},
		{"unknown charset kept raw", mimeHeader("Subject: =?x-unknown?Q?abc?=", "Date: Mon, 02 Jun 2025 10:00:00 +0000"), "=?x-unknown?Q?abc?=", sent},
		{"no date", mimeHeader("Subject: Draft"), "Draft", time.Time{}},
		{"no subject", mimeHeader("Date: Mon, 02 Jun 2025 10:00:00 +0000"), "", sent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := StoredItemKey(Email, tc.stored)
			if err != nil {
				t.Fatal(err)
			}
			if want := MailKey(tc.subject, tc.sent); got != want {
				t.Errorf("key %s, want MailKey(%q, %v) %s", got, tc.subject, tc.sent, want)
			}
		})
	}
	if _, err := StoredItemKey(Email, []byte("no header at all")); err == nil {
		t.Error("a message without a header has a key")
	}
}

func TestMailKey(t *testing.T) {
	sent := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	base := MailKey("Plan", sent)
	if len(base) != 64 {
		t.Errorf("key %q is not a hex SHA-256", base)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		name  string
		key   string
		equal bool
	}{
		{"same instant in another zone", MailKey("Plan", sent.In(berlin)), true},
		{"fraction of a second", MailKey("Plan", sent.Add(999*time.Millisecond)), true},
		{"next second", MailKey("Plan", sent.Add(time.Second)), false},
		{"subject case", MailKey("plan", sent), false},
		{"no date", MailKey("Plan", time.Time{}), false},
	} {
		if (tc.key == base) != tc.equal {
			t.Errorf("%s: equal %v, want %v", tc.name, tc.key == base, tc.equal)
		}
	}
}

func TestContactKey(t *testing.T) {
	base := ContactKey("Søren", "O'Brien", []string{"a@x.com", "B@Y.com"}, "+1 425 555 0100")
	for _, tc := range []struct {
		name   string
		key    string
		stored string
		equal  bool
	}{
		{"email order and case", ContactKey("Søren", "O'Brien", []string{" b@y.com", "A@X.COM"}, "+1 425 555 0100"), "", true},
		{"stored JSON", "", `{"id":"x","givenName":"Søren","surname":"O'Brien","mobilePhone":"+1 425 555 0100",` +
			`"emailAddresses":[{"address":"b@y.com","name":"B"},{"address":"a@x.com"}],"businessPhones":["1"]}`, true},
		{"empty addresses ignored", ContactKey("Søren", "O'Brien", []string{"a@x.com", "", "b@y.com"}, "+1 425 555 0100"), "", true},
		{"missing email", ContactKey("Søren", "O'Brien", []string{"a@x.com"}, "+1 425 555 0100"), "", false},
		{"other mobile", ContactKey("Søren", "O'Brien", []string{"a@x.com", "b@y.com"}, ""), "", false},
		{"name split elsewhere", ContactKey("SørenO", "'Brien", []string{"a@x.com", "b@y.com"}, "+1 425 555 0100"), "", false},
		{"stored null mobile", "", `{"givenName":"Søren","surname":"O'Brien","mobilePhone":null,"emailAddresses":[{"address":"a@x.com"},{"address":"b@y.com"}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if tc.stored != "" {
				var err error
				if key, err = StoredItemKey(Contacts, []byte(tc.stored)); err != nil {
					t.Fatal(err)
				}
			}
			if (key == base) != tc.equal {
				t.Errorf("equal %v, want %v", key == base, tc.equal)
			}
		})
	}
}

func TestStoredEventKey(t *testing.T) {
	start := time.Date(2025, 5, 20, 15, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	series := EventKey("Sync", "seriesMaster", start, end, "weekly", false, false)
	single := EventKey("Sync", "singleInstance", start, end, "", false, false)
	for _, tc := range []struct {
		name, stored, want string
	}{
		{"UTC series", `{"subject":"Sync","type":"seriesMaster","isDraft":false,"isCancelled":false,` +
			`"start":{"dateTime":"2025-05-20T15:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2025-05-20T15:30:00.0000000","timeZone":"UTC"},` +
			`"recurrence":{"pattern":{"type":"weekly","interval":1},"range":{"type":"numbered"}}}`, series},
		{"IANA zone", `{"subject":"Sync","type":"seriesMaster",` +
			`"start":{"dateTime":"2025-05-20T17:00:00.0000000","timeZone":"Europe/Berlin"},"end":{"dateTime":"2025-05-20T08:30:00","timeZone":"America/Los_Angeles"},` +
			`"recurrence":{"pattern":{"type":"weekly"}}}`, series},
		{"fractions truncated", `{"subject":"Sync","type":"singleInstance","recurrence":null,` +
			`"start":{"dateTime":"2025-05-20T15:00:00.9990000","timeZone":"UTC"},"end":{"dateTime":"2025-05-20T15:30:00.5","timeZone":"UTC"}}`, single},
		{"unknown zone read as UTC", `{"subject":"Sync","type":"singleInstance",` +
			`"start":{"dateTime":"2025-05-20T15:00:00","timeZone":"Pacific Standard Time"},"end":{"dateTime":"2025-05-20T15:30:00","timeZone":"tzone://Microsoft/Utc"}}`, single},
		{"draft", `{"subject":"Sync","type":"singleInstance","isDraft":true,` +
			`"start":{"dateTime":"2025-05-20T15:00:00","timeZone":"UTC"},"end":{"dateTime":"2025-05-20T15:30:00","timeZone":"UTC"}}`,
			EventKey("Sync", "singleInstance", start, end, "", true, false)},
		{"cancelled", `{"subject":"Sync","type":"singleInstance","isCancelled":true,` +
			`"start":{"dateTime":"2025-05-20T15:00:00","timeZone":"UTC"},"end":{"dateTime":"2025-05-20T15:30:00","timeZone":"UTC"}}`,
			EventKey("Sync", "singleInstance", start, end, "", false, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := StoredItemKey(Events, []byte(tc.stored))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("key %s, want %s", got, tc.want)
			}
		})
	}
	distinct := map[string]string{
		"series": series, "single": single,
		"daily":     EventKey("Sync", "seriesMaster", start, end, "daily", false, false),
		"draft":     EventKey("Sync", "singleInstance", start, end, "", true, false),
		"cancelled": EventKey("Sync", "singleInstance", start, end, "", false, true),
		"later end": EventKey("Sync", "singleInstance", start, end.Add(time.Minute), "", false, false),
		"no times":  EventKey("Sync", "singleInstance", time.Time{}, time.Time{}, "", false, false),
	}
	seen := map[string]string{}
	for name, k := range distinct {
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[k] = name
	}
}

func TestStoredItemKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		cat    Category
		stored string
	}{{Contacts, "{"}, {Events, `{"subject":1}`}, {"files", "{}"}} {
		if _, err := StoredItemKey(tc.cat, []byte(tc.stored)); err == nil {
			t.Errorf("%s %q: no error", tc.cat, tc.stored)
		}
	}
}
