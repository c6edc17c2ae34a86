package graphsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Non-delta lists page with $skiptoken links that carry the first call's
// options, because clients follow nextLink verbatim.

type listToken struct {
	Off    int               `json:"o"`
	Sel    []string          `json:"s,omitempty"`
	Filter string            `json:"f,omitempty"`
	Top    int               `json:"n,omitempty"`
	Count  bool              `json:"c,omitempty"`
	Expand string            `json:"e,omitempty"`
	Extra  map[string]string `json:"x,omitempty"`
}

func (s *Server) encodeList(t listToken) string {
	b, _ := json.Marshal(t)
	return s.deltaTokens.sign(append([]byte{'L'}, b...))
}

func (s *Server) decodeList(tok string) (*listToken, bool) {
	b, ok := s.deltaTokens.verify(tok)
	if !ok || len(b) == 0 || b[0] != 'L' {
		return nil, false
	}
	var t listToken
	if json.Unmarshal(b[1:], &t) != nil {
		return nil, false
	}
	return &t, true
}

// listOptions returns the options of a list call: from its $skiptoken when
// following a nextLink, from the query otherwise.
func (rq *request) listOptions() (*listToken, *apiError) {
	if rq.q.skiptoken != "" {
		t, ok := rq.s.decodeList(rq.q.skiptoken)
		if !ok {
			return nil, errBadRequest("Invalid $skiptoken value.")
		}
		return t, nil
	}
	return &listToken{Sel: rq.q.sel, Filter: rq.q.filter, Top: rq.q.top, Count: rq.q.count, Expand: rq.q.expand}, nil
}

// listPageSize for non-delta lists: $top, else Prefer odata.maxpagesize, else
// the service default.
func (rq *request) listPageSize(t *listToken, def, max int) int {
	n := t.Top
	if n <= 0 {
		n = rq.pref.maxPageSize
	}
	if n <= 0 {
		n = def
	}
	if rq.pref.maxPageSize > 0 && rq.pref.maxPageSize < n {
		n = rq.pref.maxPageSize
	}
	return min(n, max)
}

// writeList sends one page of items (already filtered), slicing by the
// token's offset and linking to the next page.
func (rq *request) writeList(path, context string, t *listToken, items []any, pageSize int) error {
	total := len(items)
	end := min(t.Off+pageSize, total)
	page := collectionPage{Context: rq.graphLink("$metadata#" + context)}
	if t.Off < total {
		page.Value = items[t.Off:end]
	}
	if t.Count {
		page.Count = &total
	}
	if end < total {
		nt := *t
		nt.Off = end
		page.NextLink = rq.graphLink(path) + "?$skiptoken=" + url.QueryEscape(rq.s.encodeList(nt))
	}
	rq.sendJSON(http.StatusOK, page)
	return nil
}

func (rq *request) sendJSON(status int, v any) {
	if rq.pref.maxPageSize > 0 {
		rq.w.Header().Set("Preference-Applied", "odata.maxpagesize="+itoa64(int64(rq.pref.maxPageSize)))
	}
	b, err := marshalNoEscape(v)
	if err != nil {
		rq.s.fail(rq.httpCtx, err)
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", itoa64(int64(len(b))))
	rq.w.WriteHeader(status)
	rq.s.faults.writeBody(rq.httpCtx, b)
}

// ts renders a timestamp the way Graph does.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func escapeSeg(s string) string { return url.PathEscape(s) }

// applyFilter keeps the objects matching the request's $filter.
func applyFilter(filter string, objs []object) ([]object, bool, *apiError) {
	if strings.TrimSpace(filter) == "" {
		return objs, false, nil
	}
	e, advanced, err := parseFilter(filter)
	if err != nil {
		return nil, false, errBadRequest("Invalid filter clause: %s", err.Error())
	}
	out := objs[:0:0]
	for _, o := range objs {
		if e.eval(objectGetter(o)) {
			out = append(out, o)
		}
	}
	return out, advanced, nil
}

func toAny(objs []object) []any {
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}
