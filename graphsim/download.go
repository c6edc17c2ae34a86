package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Pre-authenticated download URLs, shaped like SharePoint's:
// {base}/personal/{site}/_layouts/15/download.aspx?UniqueId={guid}&Translate=false&tempauth={token}&ApiVersion=2.0
// The tempauth token has Microsoft's 4-segment "v1.header.payload.sig"
// form with an "exp" claim, so clients that pre-check URL expiry by
// decoding it work unchanged. The URL needs no Authorization, honours Range
// (206 with Content-Range) and expires after Options.DownloadURLTTL.

const downloadPath = "/_layouts/15/download.aspx"

type tempAuth struct {
	Aud string    `json:"aud"`
	Iss string    `json:"iss"`
	Nbf int64     `json:"nbf"`
	Exp int64     `json:"exp"`
	Ref [6]uint32 `json:"sim.ref"`
}

func (s *Server) downloadURL(base string, v view) string {
	now := s.now()
	claims := tempAuth{
		Aud: "00000003-0000-0ff1-ce00-000000000000/" + s.t.myHost() + "@" + s.opts.TenantID,
		Iss: "00000003-0000-0ff1-ce00-000000000000",
		Nbf: now.Unix(),
		Exp: now.Add(s.opts.DownloadURLTTL).Unix(),
		Ref: collRefArray(v.ref),
	}
	body, _ := json.Marshal(claims)
	hdr := b64raw.EncodeToString([]byte(`{"typ":"JWT","alg":"none"}`))
	payload := b64raw.EncodeToString(body)
	signed := s.urlKeys.sign([]byte(hdr + "." + payload))
	_, sig, _ := strings.Cut(signed, ".")
	tok := "v1." + hdr + "." + payload + "." + sig
	site := "personal/drive"
	if u, st, _ := s.t.driveOwner(v.ref.Owner); u != nil {
		site = strings.TrimPrefix(s.personalURL(u), "https://"+s.t.myHost()+"/")
	} else if st != nil {
		site = "sites/" + st.name
	}
	return base + "/" + site + downloadPath + "?UniqueId=" + s.itemGUID(v.ref) +
		"&Translate=false&tempauth=" + url.QueryEscape(tok) + "&ApiVersion=2.0"
}

// parseTempAuth validates a tempauth token and returns the item it names.
func (s *Server) parseTempAuth(tok string) (ref, *apiError) {
	tok = strings.TrimPrefix(tok, "v1.")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ref{}, newError(http.StatusUnauthorized, "unauthenticated", "Invalid tempauth token.")
	}
	if _, ok := s.urlKeys.verify(b64raw.EncodeToString([]byte(parts[0]+"."+parts[1])) + "." + parts[2]); !ok {
		return ref{}, newError(http.StatusUnauthorized, "unauthenticated", "Invalid tempauth token signature.")
	}
	body, err := b64raw.DecodeString(parts[1])
	if err != nil {
		return ref{}, newError(http.StatusUnauthorized, "unauthenticated", "Invalid tempauth token.")
	}
	var c tempAuth
	if json.Unmarshal(body, &c) != nil {
		return ref{}, newError(http.StatusUnauthorized, "unauthenticated", "Invalid tempauth token.")
	}
	if s.now().Unix() >= c.Exp || s.faults.downloadURLsExpired() {
		return ref{}, newError(http.StatusUnauthorized, "unauthenticated", "The download URL has expired (tempauth token expired).")
	}
	t := deltaToken{Coll: c.Ref}
	return t.coll(), nil
}

// serveDownload answers a pre-authenticated download URL.
func (s *Server) serveDownload(c *httpCtx) {
	r := c.r
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(c, errMethodNotAllowed())
		return
	}
	item, err := s.parseTempAuth(r.URL.Query().Get("tempauth"))
	if err != nil {
		s.fail(c, err)
		return
	}
	v, alive := s.model.alive(item)
	if !alive || v.ref.Sub == 0 {
		s.fail(c, errDriveItemNotFound())
		return
	}
	if err := s.contentFault(v); err != nil {
		s.stats.fault("persistent")
		s.fail(c, err)
		return
	}
	rq := &request{s: s, httpCtx: c, mailbox: -1, route: &route{class: "download", service: "drive"}}
	if s.faults.before(rq) {
		return
	}
	release, terr := s.throttle.admit(rq)
	if terr != nil {
		s.fail(c, terr)
		return
	}
	defer release()
	d := s.driveItem(v)
	s.serveContent(c, v, d)
}

// serveContent writes an item's bytes, honouring a single Range.
func (s *Server) serveContent(c *httpCtx, v view, d *driveItemSpec) {
	size := d.content.size
	h := c.w.Header()
	h.Set("Content-Type", d.mime)
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", fmt.Sprintf(`"{%s},%d"`, strings.ToUpper(s.itemGUID(v.ref)), v.version+1))
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(d.name))
	off, n, status := int64(0), size, http.StatusOK
	if rg := c.r.Header.Get("Range"); rg != "" {
		o, l, ok := parseRange(rg, size)
		if !ok {
			h.Set("Content-Range", "bytes */"+itoa64(size))
			s.fail(c, newError(http.StatusRequestedRangeNotSatisfiable, "invalidRange", "The requested range is not satisfiable."))
			return
		}
		off, n, status = o, l, http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
	}
	h.Set("Content-Length", itoa64(n))
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		return
	}
	c.fetchedItem("driveItem.content", s.ids().encode(v.ref))
	s.faults.writeContent(c, d.content, off, n)
}

// parseRange parses a single "bytes=a-b", "bytes=a-" or "bytes=-n".
func parseRange(h string, size int64) (off, n int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, _ := strings.Cut(spec, "-")
	switch {
	case a == "":
		k, err := strconv.ParseInt(b, 10, 64)
		if err != nil || k <= 0 {
			return 0, 0, false
		}
		k = min(k, size)
		return size - k, k, size > 0
	default:
		start, err := strconv.ParseInt(a, 10, 64)
		if err != nil || start < 0 || start >= size {
			return 0, 0, false
		}
		end := size - 1
		if b != "" {
			e, err := strconv.ParseInt(b, 10, 64)
			if err != nil || e < start {
				return 0, 0, false
			}
			end = min(e, size-1)
		}
		return start, end - start + 1, true
	}
}

// getContent answers /content with a 302 to the pre-authenticated URL.
func (rq *request) getContent() error {
	_, v, err := rq.resolveDriveItem()
	if err != nil {
		return err
	}
	if v.ref.Sub == 0 {
		return newError(http.StatusBadRequest, "invalidRequest", "Cannot download the content of a folder.")
	}
	// Graph answers these on /content itself, without a redirect
	// (OneDrive/onedrive-api-docs#1626).
	if err := rq.s.contentFault(v); err != nil {
		rq.s.stats.fault("persistent")
		return err
	}
	loc := rq.s.downloadURL(rq.s.baseURL(rq.r), v)
	rq.w.Header().Set("Location", loc)
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusFound)
	return nil
}
