package graphsim

import (
	"net/url"
	"strings"
)

// request is one Graph call on its way through the handlers.
type request struct {
	s       *Server
	version string   // "v1.0" or "beta"
	segs    []string // decoded path segments after the version
	relPath string   // the path of a drive or site path address ("root:/a/b:")
	hasRel  bool
	fnArgs  map[string]string // function parameters, e.g. delta(token='...')
	params  map[string]string // route captures
	q       *query
	pref    prefer
	route   *route
	mailbox int // user index of an Exchange call, for throttling; -1 otherwise
	// deltaPageLimit: a delta page with more entries fails with
	// errEventPageTooLarge (0: no limit).
	deltaPageLimit int
	// transientDelta: this drive's delta owes the one transient400
	// (transient.go deltaTransient).
	transientDelta bool
	*httpCtx
}

// route binds a path pattern to a handler. Literal pattern segments match
// in any letter case; "{name}" captures a segment.
type route struct {
	method  string
	pattern []string
	class   string // endpoint class for stats and fault targeting
	service string // "exchange", "drive", "directory", "teams"
	handle  func(*request) error
}

type router struct {
	byLen map[int][]*route
}

func newRouter(routes []*route) *router {
	rt := &router{byLen: map[int][]*route{}}
	for _, r := range routes {
		rt.byLen[len(r.pattern)] = append(rt.byLen[len(r.pattern)], r)
	}
	return rt
}

// match finds the route for method and segs. A path that matches only with
// another method gives methodMismatch.
func (rt *router) match(method string, segs []string) (r *route, params map[string]string, methodMismatch bool) {
	for _, cand := range rt.byLen[len(segs)] {
		p, ok := matchPattern(cand.pattern, segs)
		if !ok {
			continue
		}
		if cand.method != method {
			methodMismatch = true
			continue
		}
		return cand, p, false
	}
	return nil, nil, methodMismatch
}

func matchPattern(pat, segs []string) (map[string]string, bool) {
	var params map[string]string
	for i, p := range pat {
		if strings.HasPrefix(p, "{") {
			if params == nil {
				params = make(map[string]string, 2)
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if !strings.EqualFold(p, segs[i]) {
			return nil, false
		}
	}
	return params, true
}

// parsePath splits an escaped Graph path into version and normalised
// segments. It accepts the forms clients and Graph's own links use:
// key-as-segment and key-in-parentheses ("mailFolders('id')"), functions with
// and without parentheses and namespace ("delta", "delta()",
// "microsoft.graph.delta", "delta(token='x')"), escaped ids, and drive or
// site path addressing ("root:/a/b.txt:/content").
func parsePath(escaped string) (version string, segs []string, rel string, hasRel bool, fn map[string]string, ok bool) {
	raw := strings.Split(strings.Trim(escaped, "/"), "/")
	if len(raw) == 0 {
		return "", nil, "", false, nil, false
	}
	switch strings.ToLower(raw[0]) {
	case "v1.0":
		version = "v1.0"
	case "beta":
		version = "beta"
	default:
		return "", nil, "", false, nil, false
	}
	for i := 1; i < len(raw); i++ {
		s, err := url.PathUnescape(raw[i])
		if err != nil {
			return "", nil, "", false, nil, false
		}
		if s == "" {
			continue
		}
		if !hasRel && strings.HasSuffix(s, ":") && len(s) > 1 {
			// Path address: collect segments up to one ending in ':'.
			segs = append(segs, s[:len(s)-1])
			hasRel = true
			var parts []string
			for i+1 < len(raw) {
				i++
				p, err := url.PathUnescape(raw[i])
				if err != nil {
					return "", nil, "", false, nil, false
				}
				if strings.HasSuffix(p, ":") {
					parts = append(parts, p[:len(p)-1])
					break
				}
				parts = append(parts, p)
			}
			rel = strings.Join(parts, "/")
			continue
		}
		name, arg, isCall := splitCall(s)
		name = strings.TrimPrefix(name, "microsoft.graph.")
		name = strings.TrimPrefix(name, "Microsoft.Graph.")
		switch {
		case !isCall:
			segs = append(segs, name)
		case arg == "":
			segs = append(segs, name)
		case len(arg) >= 2 && arg[0] == '\'' && arg[len(arg)-1] == '\'':
			segs = append(segs, name, strings.ReplaceAll(arg[1:len(arg)-1], "''", "'"))
		case strings.Contains(arg, "="):
			segs = append(segs, name)
			if fn == nil {
				fn = map[string]string{}
			}
			for _, kvp := range strings.Split(arg, ",") {
				k, v, _ := strings.Cut(kvp, "=")
				v = strings.TrimSpace(v)
				if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
					v = strings.ReplaceAll(v[1:len(v)-1], "''", "'")
				}
				fn[strings.ToLower(strings.TrimSpace(k))] = v
			}
		default:
			segs = append(segs, name, arg)
		}
	}
	return version, segs, rel, hasRel, fn, true
}

// splitCall splits "name(arg)" into its parts.
func splitCall(s string) (name, arg string, ok bool) {
	if !strings.HasSuffix(s, ")") {
		return s, "", false
	}
	i := strings.IndexByte(s, '(')
	if i <= 0 {
		return s, "", false
	}
	return s[:i], s[i+1 : len(s)-1], true
}

func segIs(segs []string, i int, lit string) bool {
	return i < len(segs) && strings.EqualFold(segs[i], lit)
}

// hasPrefix matches segs against a prefix pattern where "*" matches any
// segment.
func hasPrefix(segs []string, pat ...string) bool {
	if len(segs) < len(pat) {
		return false
	}
	for i, p := range pat {
		if p != "*" && !strings.EqualFold(p, segs[i]) {
			return false
		}
	}
	return true
}

func splice(segs []string, n int, repl ...string) []string {
	out := make([]string, 0, len(repl)+len(segs)-n)
	out = append(out, repl...)
	return append(out, segs[n:]...)
}

// rewrite maps the many addresses of one resource onto the canonical one the
// route table knows, e.g. /users/{id}/drive/root/delta onto
// /drives/{driveId}/items/root/delta. It returns an error for addresses that
// resolve to nothing, such as the drive of a user without OneDrive.
func (rq *request) rewrite() *apiError {
	s := rq.s
	for range 6 {
		segs := rq.segs
		switch {
		case hasPrefix(segs, "me"):
			return errBadRequest("/me request is only valid with delegated authentication flow.")
		case hasPrefix(segs, "users", "*", "drive"):
			u, err := s.lookupUser(segs[1])
			if err != nil {
				return err
			}
			if !u.hasDrive {
				return errNoMySite()
			}
			if s.t.driveLocked(s.t.driveOwnerOfUser(u)) {
				return errSiteLocked()
			}
			rq.segs = splice(segs, 3, "drives", s.ids().encode(s.t.driveRef(s.t.driveOwnerOfUser(u))))
		case hasPrefix(segs, "sites", "*", "drive"):
			st, err := rq.site(segs[1])
			if err != nil {
				return err
			}
			owner, ok := s.t.siteDriveOwner(st)
			if !ok {
				return errDriveItemNotFound()
			}
			rq.segs = splice(segs, 3, "drives", s.ids().encode(s.t.driveRef(owner)))
			rq.hasRel, rq.relPath = false, ""
		case hasPrefix(segs, "groups", "*", "drive"):
			g, ok := s.t.groupByID(segs[1])
			if !ok {
				return errResourceNotFound(segs[1])
			}
			st := s.t.sites[g.idx]
			rq.segs = splice(segs, 3, "drives", s.ids().encode(s.t.driveRef(s.t.driveOwnerOfSite(st))))
		case hasPrefix(segs, "groups", "*", "sites", "root"):
			g, ok := s.t.groupByID(segs[1])
			if !ok {
				return errResourceNotFound(segs[1])
			}
			rq.segs = splice(segs, 4, "sites", s.t.sites[g.idx].id)
		case hasPrefix(segs, "drives", "*", "root"):
			rq.segs = splice(segs, 3, "drives", segs[1], "items", "root")
		case hasPrefix(segs, "users", "*", "mailfolders", "*", "childfolders", "*") && !segIs(segs, 5, "delta"):
			rq.segs = splice(segs, 6, "users", segs[1], "mailFolders", segs[5])
		case hasPrefix(segs, "users", "*", "mailfolders", "*", "messages", "*") && !segIs(segs, 5, "delta"):
			rq.segs = splice(segs, 6, "users", segs[1], "messages", segs[5])
		case hasPrefix(segs, "users", "*", "contactfolders", "*", "childfolders", "*") && !segIs(segs, 5, "delta"):
			rq.segs = splice(segs, 6, "users", segs[1], "contactFolders", segs[5])
		case hasPrefix(segs, "users", "*", "contactfolders", "*", "contacts", "*") && !segIs(segs, 5, "delta"):
			rq.segs = splice(segs, 6, "users", segs[1], "contacts", segs[5])
		case hasPrefix(segs, "users", "*", "calendars", "*", "events", "*") && !segIs(segs, 5, "delta"):
			rq.segs = splice(segs, 6, "users", segs[1], "events", segs[5])
		case hasPrefix(segs, "users", "*", "calendar"):
			rq.segs = splice(segs, 3, "users", segs[1], "calendars", "calendar")
		default:
			return nil
		}
	}
	return nil
}
