package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"

	"github.com/corso-temporal/corso/m365"
)

// A file's bytes come from a pre-authenticated download URL that Graph
// hands out as the redirect of GET /drives/{d}/items/{i}/content. The URL
// lives for a limited time and needs no token (none is sent: it is not a
// Graph host); it honours Range, which is how a download resumes after its
// connection dropped, with a fresh URL when the old one expired.

const (
	// maxDownloadStalls is how many attempts in a row may fail to deliver
	// a single byte (a dropped connection, an expired URL) before a
	// download gives up.
	maxDownloadStalls = 4
	// maxDownloadResumes bounds the resumptions of one download overall.
	maxDownloadResumes = 1000
)

// OpenFile streams the bytes of a file. Nothing is buffered: the caller
// reads them as they arrive and must Close the reader promptly, because
// until then it holds one of the drive's request slots
// (Config.MaxConcurrentPerDrive); a caller that keeps that many files of
// a drive open and then waits for another call on the same drive waits
// forever.
//
// A connection that drops mid-file is resumed where it stopped (Range), an
// expired download URL replaced by a fresh one. The reader checks what it
// delivered when it reaches the end: a length other than size (when size
// is not negative) or a QuickXorHash other than quickXorHash (when not
// empty) makes the last Read fail with an error wrapping
// m365.ErrContentMismatch instead of returning io.EOF, so read to the end.
// When the download was complete (every byte its Content-Length announced)
// that error's cause is m365.CauseSizeDrift: SharePoint rewrites the Office
// files it serves, so their bytes differ from the size and hash it lists
// (OneDrive/onedrive-api-docs#492); the bytes read are the file as served,
// and a caller may keep them. Other mismatches (a file that changed while
// it was read, an answer of unknown length) are not drift.
//
// A file that is gone fails with ErrNotFound. One Microsoft 365 refuses
// to serve fails with an m365.ItemSkipped fault: malware (403
// malwareDetected or X-Virus-Infected), or a OneNote section that answers
// 503 beyond the client's own retries (m365.CauseOneNotePackage).
func (c *Client) OpenFile(ctx context.Context, driveID string, it DriveItem) (io.ReadCloser, error) {
	r := &fileReader{c: c, ctx: ctx, driveID: driveID, itemID: it.ID, name: it.Name, parentID: it.ParentID,
		size: it.Size, want: it.QuickXorHash, url: it.DownloadURL, total: -1, hash: NewQuickXorHash(),
		op: fmt.Sprintf("download file %s of drive %s", it.ID, driveID)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// fileReader is an open download.
type fileReader struct {
	c               *Client
	ctx             context.Context
	driveID, itemID string
	name, parentID  string
	size            int64
	want            string
	op              string
	url             string // the download URL in use; "" when a fresh one is needed
	body            io.ReadCloser
	off             int64 // bytes delivered
	total           int64 // the file's length as the download reports it; -1 unknown
	etag            string
	hash            *QuickXorHash
	stalls, resumes int
	lastFailure     error
	err             error // sticky: every later Read returns it
	closed          bool
}

// open starts (or resumes, from off) the transfer.
func (r *fileReader) open() error {
	for {
		if err := r.ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", r.op, err)
		}
		if r.stalls >= maxDownloadStalls {
			return fmt.Errorf("%s: no progress at byte %d after %d attempts: %w", r.op, r.off, r.stalls, r.lastFailure)
		}
		var resp *http.Response
		if r.url == "" {
			u, direct, err := r.c.downloadURL(r.ctx, r.driveID, r.itemID, r.off)
			if err != nil {
				return r.unservable(err)
			}
			r.url, resp = u, direct
		}
		if resp == nil {
			var err error
			if resp, err = r.c.fetchDownload(r.ctx, r.driveID, r.url, r.off); err != nil {
				err = classify(r.op, err)
				if !transient(nil, err) {
					return err
				}
				r.stall(err)
				continue
			}
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusPartialContent:
			if err := r.accept(resp); err != nil {
				_ = resp.Body.Close()
				return err
			}
			return nil
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusGone:
			// The URL expired (or was revoked): ask Graph for a fresh one.
			// This is no verdict on the app's credentials, which Graph
			// accepted when it handed the URL out. Malware is refused on
			// the URL too (OneDrive/onedrive-api-docs#1882), for good.
			err := responseError(r.op, resp)
			if class, _ := m365.FaultOf(err); class == m365.ItemSkipped {
				return err
			}
			r.url = ""
			r.stall(fmt.Errorf("the download URL was refused: %v", err))
			continue
		case http.StatusRequestedRangeNotSatisfiable:
			discard(resp)
			return fmt.Errorf("%s: the file is shorter than the %d bytes already read: %w", r.op, r.off, m365.ErrContentMismatch)
		default:
			return r.unservable(responseError(r.op, resp))
		}
	}
}

// oneNoteAncestors bounds the folders looked up to see whether a file
// belongs to a OneNote notebook.
const oneNoteAncestors = 4

// unservable marks a OneNote file that answered 503 beyond the client's
// retries as one Graph will never serve: notebook sections do so for ever
// (Corso's collection/drive/collection.go skips OneNote files on 503).
// Any other error, and a 503 on any other file, is returned as it is.
func (r *fileReader) unservable(err error) error {
	var te *ThrottledError
	var ae *apiError
	if !errors.As(err, &te) || !errors.As(err, &ae) || ae.status != http.StatusServiceUnavailable || !r.inOneNote() {
		return err
	}
	return &m365.Fault{Class: m365.ItemSkipped, Cause: m365.CauseOneNotePackage, Err: err}
}

// inOneNote says the file is OneNote content: named as a section or a
// notebook's table of contents, or inside a OneNote package. The folders
// are looked up only here, on a failure, so downloads cost nothing more.
func (r *fileReader) inOneNote() bool {
	switch strings.ToLower(path.Ext(r.name)) {
	case ".one", ".onetoc2":
		return true
	}
	id := r.parentID
	for range oneNoteAncestors {
		if id == "" {
			return false
		}
		it, err := r.c.sdk.Drives().ByDriveId(r.driveID).Items().ByDriveItemId(id).Get(forDrive(r.ctx, r.driveID, "drive.item.get"),
			&drives.ItemItemsDriveItemItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &drives.ItemItemsDriveItemItemRequestBuilderGetQueryParameters{Select: []string{"id", "package", "parentReference", "root"}},
			})
		if err != nil || it.GetRoot() != nil {
			return false
		}
		if p := it.GetPackageEscaped(); p != nil {
			return strings.EqualFold(deref(p.GetTypeEscaped()), "oneNote")
		}
		id = ""
		if pr := it.GetParentReference(); pr != nil {
			id = deref(pr.GetId())
		}
	}
	return false
}

func (r *fileReader) stall(err error) {
	r.stalls++
	r.lastFailure = err
}

// accept checks that an answer continues the file where it stopped and
// takes its body.
func (r *fileReader) accept(resp *http.Response) error {
	if tag := resp.Header.Get("ETag"); tag != "" {
		if r.etag != "" && tag != r.etag {
			return fmt.Errorf("%s: the file changed while it was read (ETag %s, then %s): %w", r.op, r.etag, tag, m365.ErrContentMismatch)
		}
		r.etag = tag
	}
	body := resp.Body
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != r.off {
			return fmt.Errorf("%s: asked for bytes from %d, got Content-Range %q", r.op, r.off, resp.Header.Get("Content-Range"))
		}
		if total >= 0 && r.total >= 0 && total != r.total {
			return fmt.Errorf("%s: the file was %d bytes, now %d: %w", r.op, r.total, total, m365.ErrContentMismatch)
		}
		if total >= 0 {
			r.setTotal(total)
		}
	default:
		if resp.ContentLength >= 0 {
			r.setTotal(resp.ContentLength)
		}
		if r.off > 0 {
			// The server ignored Range: skip what was delivered already.
			if _, err := io.CopyN(io.Discard, body, r.off); err != nil {
				return fmt.Errorf("%s: skipping to byte %d: %w", r.op, r.off, err)
			}
		}
	}
	r.body = body
	return nil
}

func (r *fileReader) setTotal(n int64) {
	if r.total < 0 {
		r.total = n
	}
}

// contentRange reads "bytes start-end/total" (total may be "*": -1).
func contentRange(h string) (start, total int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(spec, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("%s: read after Close", r.op)
	}
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.body == nil {
			if r.resumes >= maxDownloadResumes {
				r.err = fmt.Errorf("%s: gave up after %d resumptions: %w", r.op, r.resumes, r.lastFailure)
				continue
			}
			r.resumes++
			if err := r.open(); err != nil {
				r.err = err
				continue
			}
		}
		n, err := r.body.Read(p)
		if n > 0 {
			_, _ = r.hash.Write(p[:n])
			r.off += int64(n)
			r.stalls = 0
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) && (r.total < 0 || r.off >= r.total):
			_ = r.body.Close()
			r.body = nil
			if r.err == nil {
				r.err = r.verify()
			}
		default:
			// Cut off (a dropped connection, or an answer that ended
			// early): resume from here, unless the caller gave up.
			_ = r.body.Close()
			r.body = nil
			if cerr := r.ctx.Err(); cerr != nil {
				r.err = fmt.Errorf("%s: %w", r.op, cerr)
			} else {
				if errors.Is(err, io.EOF) {
					err = fmt.Errorf("the answer ended at byte %d of %d", r.off, r.total)
				}
				r.stall(err)
			}
		}
		if n > 0 {
			return n, nil
		}
	}
}

// verify checks the whole file once it has been read; io.EOF if it is
// intact.
func (r *fileReader) verify() error {
	var err error
	switch {
	case r.size >= 0 && r.off != r.size:
		err = fmt.Errorf("%s: %d bytes read, the file has %d: %w", r.op, r.off, r.size, m365.ErrContentMismatch)
	case r.want != "" && !sameHash(r.hash.Sum(nil), r.want):
		err = fmt.Errorf("%s: quickXorHash %s, Graph reported %s: %w", r.op, r.hash.Base64(), r.want, m365.ErrContentMismatch)
	default:
		return io.EOF
	}
	if r.total >= 0 && r.off == r.total {
		// Every byte the answer announced arrived: these are the bytes
		// Microsoft 365 serves, not a broken transfer.
		return &m365.Fault{Cause: m365.CauseSizeDrift, Err: err}
	}
	return err
}

func sameHash(sum []byte, want string) bool {
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(want)); err == nil {
		return string(b) == string(sum)
	}
	return base64.StdEncoding.EncodeToString(sum) == want
}

func (r *fileReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// downloadURL asks Graph where a file's bytes are: the Location of the
// redirect /content answers with, not followed here so that the download
// can be resumed from it. Should Graph send the bytes itself, the answer
// is returned to be read, and the /content address serves resumptions.
func (c *Client) downloadURL(ctx context.Context, driveID, itemID string, off int64) (string, *http.Response, error) {
	op := fmt.Sprintf("locate file %s of drive %s", itemID, driveID)
	var resp *http.Response
	handler := abs.NewRequestHandlerOption()
	handler.SetResponseHandler(func(r any, _ abs.ErrorMappings) (any, error) {
		resp, _ = r.(*http.Response)
		return nil, nil
	})
	noRedirect := &khttp.RedirectHandlerOptions{
		ShouldRedirect: func(*http.Request, *http.Response) bool { return false },
		MaxRedirects:   1,
	}
	headers := abs.NewRequestHeaders()
	headers.Add("Accept-Encoding", "identity")
	if off > 0 {
		headers.Add("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	_, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Content().Get(
		forDrive(ctx, driveID, "drive.content"),
		&drives.ItemItemsItemContentRequestBuilderGetRequestConfiguration{Headers: headers,
			Options: []abs.RequestOption{handler, noRedirect}})
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return "", nil, classify(op, err)
	}
	if resp == nil {
		return "", nil, errors.New(op + ": the SDK returned no response")
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
		loc := resp.Header.Get("Location")
		discard(resp)
		u, err := resp.Request.URL.Parse(loc)
		if err != nil {
			return "", nil, fmt.Errorf("%s: unreadable Location %q: %w", op, loc, err)
		}
		return u.String(), nil, nil
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent:
		return c.v1("drives", driveID, "items", itemID, "content"), resp, nil
	case resp.StatusCode >= 400:
		return "", nil, responseError(op, resp)
	}
	discard(resp)
	return "", nil, fmt.Errorf("%s: Graph answered %d without a Location", op, resp.StatusCode)
}

// fetchDownload requests a download URL from byte off on, through the
// client's pipeline (retries, throttling, the drive's slots) but without a
// token, and returns the answer unread whatever its status.
func (c *Client) fetchDownload(ctx context.Context, driveID, rawURL string, off int64) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	ri := abs.NewRequestInformation()
	ri.Method = abs.GET
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "*/*")
	// Offsets count the file's bytes, not those of a compressed answer.
	ri.Headers.Add("Accept-Encoding", "identity")
	if off > 0 {
		ri.Headers.Add("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	var resp *http.Response
	handler := abs.NewRequestHandlerOption()
	handler.SetResponseHandler(func(r any, _ abs.ErrorMappings) (any, error) {
		resp, _ = r.(*http.Response)
		return nil, nil
	})
	ri.AddRequestOptions([]abs.RequestOption{handler})
	if err := c.adapter.SendNoContent(forDrive(ctx, driveID, "drive.download"), ri, nil); err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("the SDK returned no response")
	}
	return resp, nil
}
