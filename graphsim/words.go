package graphsim

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Vocabulary for generated names, subjects and bodies. Some entries carry
// accents, emoji, slashes and quotes on purpose: clients must survive them in
// folder names, subjects and file names.

var firstNames = []string{
	"Ann", "Bob", "Chen", "Dagny", "Émile", "Fatima", "Gustav", "Hiroshi", "Ines", "José",
	"Kofi", "Lena", "Mateo", "Nadia", "Olu", "Priya", "Quinn", "Rosa", "Søren", "Tamar",
	"Uma", "Viktor", "Wen", "Xavier", "Yara", "Zoë",
}

var lastNames = []string{
	"Adams", "Brown", "Çelik", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen",
	"Kowalski", "Larsen", "Müller", "Nakamura", "O'Brien", "Patel", "Quispe", "Rossi", "Schmidt", "Tanaka",
	"Ueda", "Varga", "Wójcik", "Xu", "Yilmaz", "Zhang",
}

var departments = []string{"Finance", "Engineering", "Sales", "Legal", "HR", "Marketing", "Support", "Operations"}

var jobTitles = []string{"Analyst", "Engineer", "Manager", "Director", "Consultant", "Designer", "Counsel", "Coordinator"}

var companies = []string{"Fabrikam", "Northwind Traders", "Tailspin Toys", "Adventure Works", "Woodgrove Bank", "Litware", "Proseware"}

var words = strings.Fields(`the quarterly report budget review meeting project plan draft final update
customer contract invoice schedule launch design roadmap migration backup restore server cluster storage
network policy security audit release notes agenda minutes feedback proposal estimate forecast summary
team offsite training onboarding hiring interview candidate travel expense approval request status
weekly monthly annual milestone deadline risk issue action item follow up decision question answer
lunch coffee office holiday party welcome farewell congratulations thanks please review attached
document spreadsheet presentation diagram photo video archive export import sync delta change
café naïve résumé déjà über straße façade jalapeño piñata smörgåsbord 日本 東京 報告 会議 данные отчёт`)

var subjectDecor = []string{"", "", "", "", "RE: ", "FW: ", "Re: ", "[External] ", "🚀 ", "✅ ", "Ünïcödé: "}

// customFolderNames are deliberately awkward.
var customFolderNames = []string{
	"Projects", "Receipts", "Q3 / Budget", `He said "hi"`, "Ünïcödé ✓", "2024's \"best\"",
	"émoji 📁", "a/b\\c", "Clients", "Newsletters", "Travel", "Legal & Compliance", "100% done",
	"#hashtag", "Reports: Weekly", "Team ⚽", "Alte Dateien", "重要", "Archive 2023", "Vendors",
}

var driveFolderNames = []string{
	"Documents", "Photos", "Archive", "Projects", "Shared", "Q3 / Budget", "Ünïcödé ✓", "Team ⚽",
	"Scans", "Contracts", "Old", "2024", "Reports", "Design", "Data", "Misc", "Backups", "重要",
}

type fileKind struct {
	ext, mime string
	text      bool // content is compressible text
}

var fileKinds = []fileKind{
	{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false},
	{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false},
	{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", false},
	{"pdf", "application/pdf", false},
	{"txt", "text/plain", true},
	{"csv", "text/csv", true},
	{"md", "text/markdown", true},
	{"json", "application/json", true},
	{"jpg", "image/jpeg", false},
	{"png", "image/png", false},
	{"zip", "application/zip", false},
	{"mp4", "video/mp4", false},
}

var fileStems = []string{
	"Budget", "Notes", "Report", "Photo", "Plan", "Invoice", "Résumé", "Draft #", "Q3 results",
	"meeting notes", "scan", "archive", "data", "export", "Ünïcödé", "it's final", "100% done",
}

func pickWords(r *rng, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pick(r, words))
	}
	return b.String()
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// asciiFold maps the accented letters used in names to ASCII for addresses.
var asciiFold = strings.NewReplacer(
	"É", "E", "é", "e", "è", "e", "ë", "e", "Ç", "C", "ç", "c", "ü", "u", "ö", "o", "ó", "o",
	"Ø", "O", "ø", "o", "å", "a", "á", "a", "í", "i", "ñ", "n", "ß", "ss", "Ö", "O", "'", "",
	"Ü", "U", "ï", "i", "Ó", "O", "ś", "s", "ł", "l", "ó", "o",
)

var addressCache sync.Map // first+"\x00"+last -> local part

func addressLocal(first, last string) string {
	key := first + "\x00" + last
	if v, ok := addressCache.Load(key); ok {
		return v.(string)
	}
	v := addressLocalSlow(first, last)
	addressCache.Store(key, v)
	return v
}

func addressLocalSlow(first, last string) string {
	s := strings.ToLower(asciiFold.Replace(first + "." + last))
	var b strings.Builder
	for _, c := range s {
		if c < 128 && c != ' ' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
