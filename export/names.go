package export

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes caps the length of one exported file or folder name. File
// systems allow 255 bytes (or UTF-16 units) per name; the margin leaves
// room for " (N)" suffixes and temporary names.
const MaxNameBytes = 200

// Categories of exported items.
const (
	CategoryEmail    = "email"
	CategoryContacts = "contacts"
	CategoryEvents   = "events"
)

// SafeName turns a mailbox name (a subject, a folder or contact name) into
// one that is a legal, harmless file name on Windows, macOS and Linux:
//
//   - path separators, the characters : * ? " < > | and control
//     characters become "_", and so do invalid UTF-8 and the invisible
//     characters that reverse the direction of text (which can disguise an
//     extension);
//   - a leading dot becomes "_" (no hidden files), trailing dots and spaces
//     are dropped (Windows drops them silently), leading spaces too;
//   - names that Windows reserves for devices (CON, PRN, AUX, NUL, COM0-9,
//     LPT0-9), in any letter case and with any extension, get a "_" prefix;
//   - "", "." and ".." become "untitled";
//   - names longer than MaxNameBytes are cut at a character boundary,
//     keeping a short extension.
func SafeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteByte('_')
			i++
			continue
		}
		i += size
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte('_')
		case strings.ContainsRune(`/\:*?"<>|`, r):
			b.WriteByte('_')
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			b.WriteByte('_')
		case r == 0xfeff:
			// A byte order mark is invisible: dropped.
		default:
			b.WriteRune(r)
		}
	}
	s := tidy(b.String())
	if isReserved(s) {
		s = "_" + s
	}
	if len(s) > MaxNameBytes {
		stem, ext := splitExt(s)
		stem = tidy(truncateUTF8(stem, MaxNameBytes-len(ext)))
		if stem == "" {
			stem = "untitled"
		}
		s = stem + ext
		if isReserved(s) {
			// Cutting off what followed the trailing spaces of a device
			// name leaves the name short.
			s = "_" + s
		}
	}
	if s == "" {
		return "untitled"
	}
	return s
}

// tidy trims what Windows would trim or hide: leading spaces, trailing dots
// and spaces; a leading dot becomes "_".
func tidy(s string) string {
	s = strings.TrimLeft(s, " ")
	s = strings.TrimRight(s, ". ")
	if strings.HasPrefix(s, ".") {
		s = "_" + s[1:]
	}
	return s
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// splitExt splits "report.final.pdf" into "report.final" and ".pdf". An
// extension is a dot and 1 to 16 letters or digits, after at least one
// other character.
func splitExt(s string) (stem, ext string) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || len(s)-i-1 < 1 || len(s)-i-1 > 16 {
		return s, ""
	}
	for _, r := range s[i+1:] {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return s, ""
		}
	}
	return s[:i], s[i:]
}

// isReserved reports Windows device names, which stay devices whatever
// extension follows them ("nul.txt", "Com1.tar.gz", "CON .eml").
func isReserved(s string) bool {
	base := s
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// FileName names the file of an exported item from its title: a message
// from its subject ("<subject>.eml", "(no subject).eml" without one), a
// contact from its display name (".vcf"), an event from its subject
// (".ics"). The result is a SafeName; white space runs, line breaks
// included, become single spaces.
func FileName(category, title string) string {
	title = oneLine(title)
	var ext string
	switch strings.ToLower(category) {
	case CategoryEmail, "mail":
		ext = ".eml"
		if title == "" {
			title = "(no subject)"
		}
	case CategoryContacts, "contact":
		ext = ".vcf"
		if title == "" {
			title = "Unnamed contact"
		}
	case CategoryEvents, "event", "calendar":
		ext = ".ics"
		if title == "" {
			title = "(no subject)"
		}
	}
	// The extension is added after the title is made safe, so that a title
	// ending in dots or spaces cannot eat into it.
	stem := SafeName(title)
	if ext == "" {
		return stem
	}
	if len(stem)+len(ext) > MaxNameBytes {
		stem = tidy(truncateUTF8(stem, MaxNameBytes-len(ext)))
	}
	if stem == "" {
		stem = "untitled"
	}
	return stem + ext
}

// Namer hands out names within one directory: each name is made safe with
// SafeName and, if it is taken already, ignoring letter case as Windows and
// macOS do, numbered: the second "Report.eml" becomes "Report (2).eml",
// the third "Report (3).eml". A Namer is not safe for concurrent use.
type Namer struct {
	taken map[string]bool // folded names handed out
	next  map[string]int  // folded name → the next number to try
	// Taken, when set, reports names that exist already (e.g. on disk)
	// and must not be handed out.
	Taken func(name string) bool
}

// NewNamer returns a Namer for an empty directory.
func NewNamer() *Namer {
	return &Namer{taken: map[string]bool{}, next: map[string]int{}}
}

// Name reserves and returns a unique safe name for a file: a number goes
// before the extension.
func (n *Namer) Name(name string) string { return n.name(name, true) }

// NameDir reserves and returns a unique safe name for a directory: a
// number goes at the end ("v1.5 (2)").
func (n *Namer) NameDir(name string) string { return n.name(name, false) }

func (n *Namer) name(name string, file bool) string {
	if n.taken == nil {
		n.taken, n.next = map[string]bool{}, map[string]int{}
	}
	s := SafeName(name)
	key := fold(s)
	if n.free(s, key) {
		n.taken[key] = true
		return s
	}
	stem, ext := s, ""
	if file {
		stem, ext = splitExt(s)
	}
	for i := max(n.next[key], 2); ; i++ {
		suffix := " (" + strconv.Itoa(i) + ")"
		st := stem
		if len(st)+len(suffix)+len(ext) > MaxNameBytes {
			st = tidy(truncateUTF8(st, MaxNameBytes-len(suffix)-len(ext)))
		}
		c := st + suffix + ext // " (" keeps it from being a device name
		ck := fold(c)
		if n.free(c, ck) {
			n.taken[ck] = true
			n.next[key] = i + 1
			return c
		}
	}
}

// Reserve marks a name as used, e.g. because a file of that name exists.
func (n *Namer) Reserve(name string) {
	if n.taken == nil {
		n.taken, n.next = map[string]bool{}, map[string]int{}
	}
	n.taken[fold(name)] = true
}

// Release gives a name back, e.g. when the file it was for was abandoned.
func (n *Namer) Release(name string) {
	delete(n.taken, fold(name))
}

func (n *Namer) free(name, key string) bool {
	if n.taken[key] {
		return false
	}
	return n.Taken == nil || !n.Taken(name)
}

// fold maps a name to a key equal for all names that differ only in letter
// case (Unicode simple case folding, as strings.EqualFold).
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		// The smallest rune of r's case orbit stands for all of them.
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		b.WriteRune(m)
	}
	return b.String()
}
