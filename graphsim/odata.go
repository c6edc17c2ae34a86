package graphsim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// object is a JSON object that keeps its key order (Graph puts annotations
// and id first, and a stable order makes canonical bytes for content hashes).
// Values of type lazy are computed only when rendered, so expensive
// properties such as message bodies cost nothing when $select drops them.
type object []kv

type kv struct {
	k string
	v any
}

type lazy func() any

func (o object) MarshalJSON() ([]byte, error) { return o.appendTo(make([]byte, 0, 256)) }

// marshalNoEscape encodes like Graph: '<', '>' and '&' stay literal.
func marshalNoEscape(v any) ([]byte, error) { return appendJSON(make([]byte, 0, 512), v) }

func (o object) get(k string) (any, bool) {
	for _, p := range o {
		if p.k == k {
			if l, ok := p.v.(lazy); ok {
				return l(), true
			}
			return p.v, true
		}
	}
	return nil, false
}

func (o object) without(keys ...string) object {
	out := make(object, 0, len(o))
next:
	for _, p := range o {
		for _, k := range keys {
			if p.k == k {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// project keeps annotations, id and the selected properties. sel holds
// canonical property names (see selectList).
func (o object) project(sel []string) object {
	if len(sel) == 0 {
		return o
	}
	out := make(object, 0, len(sel)+3)
	for _, p := range o {
		if strings.HasPrefix(p.k, "@") || p.k == "id" {
			out = append(out, p)
			continue
		}
		for _, s := range sel {
			if s == p.k {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// query holds the OData system query options of a request. Graph v1.0
// accepts them with or without the '$' prefix and in any letter case.
type query struct {
	raw        url.Values
	sel        []string
	expand     string
	filter     string
	orderby    string
	search     string
	top        int // 0: not given
	count      bool
	skiptoken  string
	deltatoken string
	token      string
	skip       int
}

func parseQuery(r *http.Request) (*query, *apiError) {
	q := &query{raw: url.Values{}}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// Graph tolerates stray characters; fall back to a lenient split.
		vals = url.Values{}
		for _, part := range strings.Split(r.URL.RawQuery, "&") {
			k, v, _ := strings.Cut(part, "=")
			k, _ = url.QueryUnescape(k)
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
			vals.Add(k, v)
		}
	}
	for k, vs := range vals {
		key := strings.ToLower(strings.TrimPrefix(k, "$"))
		v := vs[len(vs)-1]
		q.raw[key] = vs
		switch key {
		case "select":
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					q.sel = append(q.sel, s)
				}
			}
		case "expand":
			q.expand = v
		case "filter":
			q.filter = v
		case "orderby":
			q.orderby = v
		case "search":
			q.search = v
		case "top":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, errBadRequest("Invalid value '%s' for $top query option.", v)
			}
			q.top = n
		case "skip":
			q.skip, _ = strconv.Atoi(v)
		case "count":
			q.count = strings.EqualFold(v, "true")
		case "skiptoken":
			q.skiptoken = v
		case "deltatoken":
			q.deltatoken = v
		case "token":
			q.token = v
		}
	}
	return q, nil
}

func (q *query) get(name string) string {
	if vs := q.raw[strings.ToLower(name)]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return ""
}

// selectList validates $select against the properties a type renders plus
// known extras, returning canonical names. Unknown names are a 400, as in
// Graph, so client typos surface.
func selectList(sel []string, typeName string, known object, extras ...string) ([]string, *apiError) {
	if len(sel) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(sel))
	for _, s := range sel {
		found := ""
		for _, p := range known {
			if strings.EqualFold(p.k, s) {
				found = p.k
				break
			}
		}
		if found == "" {
			for _, e := range extras {
				if strings.EqualFold(e, s) {
					found = e
					break
				}
			}
		}
		if found == "" {
			return nil, errBadRequest("Could not find a property named '%s' on type 'microsoft.graph.%s'.", s, typeName)
		}
		out = append(out, found)
	}
	return out, nil
}

// prefer holds the parts of the Prefer header the simulator honours.
type prefer struct {
	maxPageSize int
	immutableID bool
	textBody    bool
	raw         []string
}

func parsePrefer(h http.Header) prefer {
	var p prefer
	for _, line := range h.Values("Prefer") {
		for _, part := range strings.Split(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p.raw = append(p.raw, part)
			k, v, _ := strings.Cut(part, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch k {
			case "odata.maxpagesize":
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					p.maxPageSize = n
				}
			case "idtype":
				p.immutableID = strings.EqualFold(v, "ImmutableId")
			case "outlook.body-content-type":
				p.textBody = strings.EqualFold(v, "text")
			}
		}
	}
	return p
}

func (p prefer) has(token string) bool {
	for _, r := range p.raw {
		if strings.EqualFold(r, token) {
			return true
		}
	}
	return false
}

// collection is the JSON envelope of a list answer.
type collectionPage struct {
	Context   string `json:"@odata.context,omitempty"`
	Count     *int   `json:"@odata.count,omitempty"`
	NextLink  string `json:"@odata.nextLink,omitempty"`
	DeltaLink string `json:"@odata.deltaLink,omitempty"`
	Value     []any  `json:"value"`
}

func (p collectionPage) MarshalJSON() ([]byte, error) { return p.object().appendTo(nil) }

func (p collectionPage) object() object {
	o := object{}
	if p.Context != "" {
		o = append(o, kv{"@odata.context", p.Context})
	}
	if p.Count != nil {
		o = append(o, kv{"@odata.count", *p.Count})
	}
	if p.NextLink != "" {
		o = append(o, kv{"@odata.nextLink", p.NextLink})
	}
	if p.DeltaLink != "" {
		o = append(o, kv{"@odata.deltaLink", p.DeltaLink})
	}
	v := p.Value
	if v == nil {
		v = []any{}
	}
	return append(o, kv{"value", v})
}
