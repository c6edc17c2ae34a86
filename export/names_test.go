package export

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("ü", 150) // 300 bytes
	for _, tc := range []struct{ in, want string }{
		{"Report.eml", "Report.eml"},
		{"", "untitled"},
		{".", "untitled"},
		{"..", "untitled"},
		{"...", "untitled"},
		{" . ", "untitled"},
		{"../../etc/passwd", "_._.._etc_passwd"},
		{"/etc/passwd", "_etc_passwd"},
		{`..\..\Windows`, "_._.._Windows"},
		{`C:\Windows\System32`, "C__Windows_System32"},
		{"a/b", "a_b"},
		{`a:b*c?d"e<f>g|h`, "a_b_c_d_e_f_g_h"},
		{"tab\there\nnew\rline", "tab_here_new_line"},
		{"nul\x00byte", "nul_byte"},
		{"del\x7f", "del_"},
		{"c1\u0085control", "c1_control"},
		{"invalid \xff\xfe utf8", "invalid __ utf8"},
		{"evil\u202Egpj.exe", "evil_gpj.exe"},
		{"\uFEFFbom", "bom"},
		{".hidden", "_hidden"},
		{"trailing dots...", "trailing dots"},
		{"trailing spaces   ", "trailing spaces"},
		{"   leading spaces", "leading spaces"},
		{"dots. . .", "dots"},
		{"CON", "_CON"},
		{"con", "_con"},
		{"Con.txt", "_Con.txt"},
		{"NUL.tar.gz", "_NUL.tar.gz"},
		{"nul .txt", "_nul .txt"},
		{"AUX", "_AUX"},
		{"prn.eml", "_prn.eml"},
		{"COM1", "_COM1"},
		{"com9.log", "_com9.log"},
		{"LPT1", "_LPT1"},
		{"lpt0", "_lpt0"},
		{"COM¹", "_COM¹"},
		{"CONIN$", "_CONIN$"},
		{"CONSOLE", "CONSOLE"},
		{"COM10", "COM10"},
		{"LPT", "LPT"},
		{"icon", "icon"},
		{"untitled", "untitled"},
		{"日本語のファイル名", "日本語のファイル名"},
		{"Café ☕.eml", "Café ☕.eml"},
		{long + ".eml", strings.Repeat("ü", 98) + ".eml"},
		{"a" + long + ".eml", "a" + strings.Repeat("ü", 97) + ".eml"},
		{long, strings.Repeat("ü", 100)},
		{"x" + long, "x" + strings.Repeat("ü", 99)},
		{long + ".averyveryverylongextension", strings.Repeat("ü", 100)},
		{"CON" + strings.Repeat(" ", 250) + "x", "_CON"},
	} {
		if got := SafeName(tc.in); got != tc.want {
			t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// checkSafe checks what SafeName promises of a result.
func checkSafe(t *testing.T, in, s string) {
	t.Helper()
	switch {
	case s == "" || s == "." || s == "..":
		t.Errorf("SafeName(%q) = %q", in, s)
	case len(s) > MaxNameBytes:
		t.Errorf("SafeName(%q) is %d bytes", in, len(s))
	case !utf8.ValidString(s):
		t.Errorf("SafeName(%q) = %q: not UTF-8", in, s)
	case strings.ContainsAny(s, "/\\:*?\"<>|\x00"):
		t.Errorf("SafeName(%q) = %q: forbidden character", in, s)
	case strings.HasPrefix(s, ".") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, ".") || strings.HasSuffix(s, " "):
		t.Errorf("SafeName(%q) = %q: leading or trailing dot or space", in, s)
	case isReserved(s):
		t.Errorf("SafeName(%q) = %q: a device name", in, s)
	case SafeName(s) != s:
		t.Errorf("SafeName(%q) = %q, but SafeName of that is %q", in, s, SafeName(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			t.Errorf("SafeName(%q) = %q: control character", in, s)
		}
	}
}

func TestSafeNameRandom(t *testing.T) {
	alphabet := []rune("aZ09 ./\\:*?\"<>|\x00\x01\n\t\x7fé日😀\u202eCONULPTM1¹$")
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := r.IntN(300)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		if r.IntN(10) == 0 {
			b.WriteString("\xff\xc3")
		}
		in := b.String()
		checkSafe(t, in, SafeName(in))
		checkSafe(t, in, FileName(CategoryEmail, in))
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"", "..", "CON.txt", "a/b", strings.Repeat("é", 200), "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkSafe(t, in, SafeName(in))
		for _, c := range []string{CategoryEmail, CategoryContacts, CategoryEvents} {
			checkSafe(t, in, FileName(c, in))
		}
	})
}

func TestFileName(t *testing.T) {
	for _, tc := range []struct{ cat, title, want string }{
		{CategoryEmail, "Quarterly report", "Quarterly report.eml"},
		{CategoryEmail, "", "(no subject).eml"},
		{CategoryEmail, "  \t ", "(no subject).eml"},
		{CategoryEmail, "Re: Fwd: plan\r\n\tfolded", "Re_ Fwd_ plan folded.eml"},
		{CategoryEmail, "CON", "_CON.eml"},
		{CategoryEmail, "..", "untitled.eml"},
		{CategoryEmail, "ends with dot.", "ends with dot.eml"},
		{CategoryEmail, "v1.2", "v1.2.eml"},
		{CategoryContacts, "Søren O'Brien", "Søren O'Brien.vcf"},
		{CategoryContacts, "", "Unnamed contact.vcf"},
		{CategoryEvents, "Status: office / onboarding", "Status_ office _ onboarding.ics"},
		{CategoryEvents, "", "(no subject).ics"},
		{CategoryEmail, strings.Repeat("長", 100), strings.Repeat("長", 65) + ".eml"},
		{"unknown", "x/y", "x_y"},
	} {
		got := FileName(tc.cat, tc.title)
		if got != tc.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", tc.cat, tc.title, got, tc.want)
		}
		checkSafe(t, tc.title, got)
	}
}

func TestNamer(t *testing.T) {
	n := NewNamer()
	for _, tc := range []struct{ in, want string }{
		{"Report.eml", "Report.eml"},
		{"Report.eml", "Report (2).eml"},
		{"report.EML", "report (3).EML"},
		{"Report (2).eml", "Report (2) (2).eml"},
		{"REPORT.eml", "REPORT (4).eml"},
		{"Ärger.eml", "Ärger.eml"},
		{"ärger.eml", "ärger (2).eml"},
		{"ΣΊΣΥΦΟΣ.eml", "ΣΊΣΥΦΟΣ.eml"},
		{"σίσυφος.eml", "σίσυφος (2).eml"}, // final sigma folds like the others
		{"../x", "_._x"},
		{"../x", "_._x (2)"},
		{"", "untitled"},
		{"..", "untitled (2)"},
		{".", "untitled (3)"},
		{"CON", "_CON"},
		{"_con", "_con (2)"},
		{"Kelvin \u212A.eml", "Kelvin \u212A.eml"},
		{"kelvin k.eml", "kelvin k (2).eml"},
	} {
		if got := n.Name(tc.in); got != tc.want {
			t.Errorf("Name(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}

	// Directories are numbered at the end.
	d := NewNamer()
	if a, b := d.NameDir("v1.5"), d.NameDir("V1.5"); a != "v1.5" || b != "V1.5 (2)" {
		t.Errorf("NameDir: %q, %q", a, b)
	}

	// Numbered names of long names stay within the limit.
	long := strings.Repeat("ß", 150) + ".eml"
	l := NewNamer()
	seen := map[string]bool{}
	for i := range 12 {
		s := l.Name(long)
		if len(s) > MaxNameBytes || !utf8.ValidString(s) || !strings.HasSuffix(s, ".eml") || seen[fold(s)] {
			t.Errorf("%d: %q (%d bytes)", i, s, len(s))
		}
		seen[fold(s)] = true
	}

	// Names taken elsewhere are skipped; released names come back.
	taken := NewNamer()
	taken.Taken = func(name string) bool { return name == "a.txt" || name == "a (2).txt" }
	if got := taken.Name("a.txt"); got != "a (3).txt" {
		t.Errorf("with taken names: %q", got)
	}
	taken.Release("a (3).txt")
	if got := taken.Name("a (3).txt"); got != "a (3).txt" {
		t.Errorf("after release: %q", got)
	}
}

func TestNamerManyDuplicates(t *testing.T) {
	n := NewNamer()
	seen := map[string]bool{}
	for i := range 5000 {
		s := n.Name([]string{"Re: status", "re_ status", "RE: STATUS"}[i%3] + ".eml")
		if seen[fold(s)] {
			t.Fatalf("%q handed out twice", s)
		}
		seen[fold(s)] = true
	}
}
