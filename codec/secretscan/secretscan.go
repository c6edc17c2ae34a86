// Package secretscan finds secrets in bytes that may hold them encoded:
// as plaintext, as hex, or as base64 (standard or URL alphabet, padded or
// not, at each of the three byte alignments a secret takes inside a longer
// encoded value), and inside base64 or hex runs decoded once or twice more
// (a JSON []byte field of a payload that is itself shown as base64).
// Tests use it to prove that a secret never reaches stored histories,
// decoded payloads, command output or logs.
package secretscan

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Secret is one value that must not be found, and the name a finding
// reports.
type Secret struct {
	Name  string
	Value []byte
}

// S is a Secret from a string.
func S(name, value string) Secret { return Secret{Name: name, Value: []byte(value)} }

// minCore is the shortest encoded form searched for: shorter ones would
// match by chance.
const minCore = 8

// Form is one encoding of a secret.
type Form struct {
	Kind string // "plaintext", "hex", "base64 std, offset 1", ...
	Text string
}

// Forms returns the strings whose presence shows the secret: the secret
// itself, its hex in both cases, and for each base64 alphabet its padded
// and unpadded encoding alone plus, for each alignment (the secret
// starting 0, 1 or 2 bytes into a 3-byte group of a longer value), the
// characters that depend on the secret's bytes only.
func Forms(secret []byte) []Form {
	var out []Form
	seen := map[string]bool{}
	add := func(kind, text string) {
		if len(text) < minCore && kind != "plaintext" || text == "" || seen[text] {
			return
		}
		seen[text] = true
		out = append(out, Form{kind, text})
	}
	add("plaintext", string(secret))
	add("hex", hex.EncodeToString(secret))
	add("HEX", strings.ToUpper(hex.EncodeToString(secret)))
	for _, e := range []struct {
		name string
		enc  *base64.Encoding
	}{{"base64 std", base64.StdEncoding}, {"base64 url", base64.URLEncoding}} {
		add(e.name+" padded", e.enc.EncodeToString(secret))
		raw := e.enc.WithPadding(base64.NoPadding)
		add(e.name+" unpadded", raw.EncodeToString(secret))
		for shift := range 3 {
			s := raw.EncodeToString(append(make([]byte, shift), secret...))
			from, to := (8*shift+5)/6, 8*(shift+len(secret))/6
			if to > from {
				add(fmt.Sprintf("%s, offset %d", e.name, shift), s[from:to])
			}
		}
	}
	return out
}

// Finding is one secret found in one form.
type Finding struct {
	Secret string
	Form   string
	// Depth is how many base64 or hex decodings of the scanned bytes it
	// took to reach the form: 0 means as scanned.
	Depth int
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s (%s)", f.Secret, f.Form)
	if f.Depth > 0 {
		s += fmt.Sprintf(" after decoding %d level(s) of base64/hex", f.Depth)
	}
	return s
}

// Scanner searches bytes for a fixed set of secrets.
type Scanner struct {
	secrets []Secret
	forms   [][]Form
}

// New builds a scanner. Empty secrets are an error: a scan for nothing
// passes whatever it is given.
func New(secrets ...Secret) (*Scanner, error) {
	s := &Scanner{}
	for _, sec := range secrets {
		if len(sec.Value) < 6 {
			return nil, fmt.Errorf("secretscan: %s is %d bytes, too short to find without matching by chance", sec.Name, len(sec.Value))
		}
		s.secrets = append(s.secrets, sec)
		s.forms = append(s.forms, Forms(sec.Value))
	}
	if len(s.secrets) == 0 {
		return nil, fmt.Errorf("secretscan: no secrets to look for")
	}
	return s, nil
}

// Scan reports every secret found in b in any form, directly or inside
// base64 or hex runs of b decoded up to two levels deep.
func (s *Scanner) Scan(b []byte) []Finding {
	found := map[Finding]bool{}
	s.scan(b, 0, found)
	out := make([]Finding, 0, len(found))
	for f := range found {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

const maxDepth = 2

func (s *Scanner) scan(b []byte, depth int, found map[Finding]bool) {
	for i, sec := range s.secrets {
		for _, f := range s.forms[i] {
			if bytes.Contains(b, []byte(f.Text)) {
				found[Finding{Secret: sec.Name, Form: f.Kind, Depth: depth}] = true
			}
		}
	}
	if depth == maxDepth {
		return
	}
	// Every run's decodings, scanned as one: a separator that is neither
	// base64 nor hex keeps a form from spanning two of them.
	var next []byte
	for _, run := range encodedRuns(b) {
		for _, d := range decodings(run) {
			next = append(append(next, d...), 0, '\n', 0)
		}
	}
	if len(next) > 0 {
		s.scan(next, depth+1, found)
	}
}

// minRun is the shortest base64 or hex run decoded: the shortest secret
// encodes to at least this much.
const minRun = 8

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// encodedRuns are the maximal runs of base64-alphabet characters (hex is
// a subset), with trailing padding.
func encodedRuns(b []byte) [][]byte {
	var runs [][]byte
	for i := 0; i < len(b); {
		if !isB64(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isB64(b[j]) {
			j++
		}
		end := j
		for end < len(b) && end-j < 2 && b[end] == '=' {
			end++
		}
		if j-i >= minRun {
			runs = append(runs, b[i:end])
		}
		i = end
		if i == j {
			i = j + 1
		}
	}
	return runs
}

// decodings are the byte strings a run decodes to as hex or as base64 in
// either alphabet.
func decodings(run []byte) [][]byte {
	var out [][]byte
	trimmed := bytes.TrimRight(run, "=")
	if len(trimmed)%2 == 0 {
		if d, err := hex.DecodeString(string(trimmed)); err == nil {
			out = append(out, d)
		}
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		// A run cut short of a whole group still decodes up to its last
		// whole group.
		t := trimmed
		if len(t)%4 == 1 {
			t = t[:len(t)-1]
		}
		if d, err := enc.DecodeString(string(t)); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// Report formats findings for a test failure, naming where they were.
func Report(where string, fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return fmt.Sprintf("%s holds %s", where, strings.Join(parts, "; "))
}
