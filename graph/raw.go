package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// Raw calls send bytes through the SDK's adapter and the client's whole
// pipeline (authentication, mailbox slots, throttling) and read the answer
// unparsed: for bodies the SDK's models would change (restores) and for
// requests they do not model.

// rawCall is a request sent through the SDK's adapter as bytes: a body
// kiota sends as is, and an answer read unparsed.
type rawCall struct {
	method      abs.HttpMethod
	url         string
	body        []byte
	contentType string
	headers     [][2]string
}

// rawAnswer is a successful answer, read whole (answers here are small).
type rawAnswer struct {
	status      int
	body        []byte
	contentType string
}

// send makes a raw call. Failed answers become the package's errors.
func (c *Client) send(ctx context.Context, op string, rc rawCall) (rawAnswer, error) {
	u, err := url.Parse(rc.url)
	if err != nil {
		return rawAnswer{}, fmt.Errorf("%s: %w", op, err)
	}
	ri := abs.NewRequestInformation()
	ri.Method = rc.method
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "application/json")
	for _, h := range rc.headers {
		ri.Headers.Add(h[0], h[1])
	}
	switch {
	case rc.body != nil:
		ri.SetStreamContentAndContentType(rc.body, rc.contentType)
		ri.Headers.Add("Content-Length", strconv.Itoa(len(rc.body)))
	}
	var resp *http.Response
	handler := abs.NewRequestHandlerOption()
	handler.SetResponseHandler(func(r any, _ abs.ErrorMappings) (any, error) {
		resp, _ = r.(*http.Response)
		return nil, nil
	})
	ri.AddRequestOptions([]abs.RequestOption{handler})
	if err := c.adapter.SendNoContent(ctx, ri, nil); err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return rawAnswer{}, classify(op, err)
	}
	if resp == nil {
		return rawAnswer{}, errors.New(op + ": the SDK returned no response")
	}
	if resp.StatusCode >= 400 {
		return rawAnswer{}, responseError(op, resp)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return rawAnswer{}, classify(op, err)
	}
	return rawAnswer{status: resp.StatusCode, body: b, contentType: resp.Header.Get("Content-Type")}, nil
}

// createdID reads the id of what a POST created.
func createdID(op string, a rawAnswer) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &created); err != nil || created.ID == "" {
		return "", fmt.Errorf("%s: Graph answered %d without the new id", op, a.status)
	}
	return created.ID, nil
}

func (c *Client) v1(segs ...string) string { return joinURL(c.adapter.GetBaseUrl(), segs) }

func (c *Client) beta(segs ...string) string { return joinURL(c.betaRoot, segs) }

func joinURL(root string, segs []string) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// query encodes query options with spaces as %20, which OData reads
// everywhere, unlike '+'.
func query(v url.Values) string { return strings.ReplaceAll(v.Encode(), "+", "%20") }

func (c *Client) pageSizeHeader() [][2]string {
	return [][2]string{{"Prefer", "odata.maxpagesize=" + strconv.Itoa(c.cfg.PageSize)}}
}

// listAll follows a collection's pages from link and returns every value,
// each decoded into T (json.RawMessage keeps them as Graph served them).
func listAll[T any](ctx context.Context, c *Client, op, link string, headers ...[2]string) ([]T, error) {
	var out []T
	for link != "" {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link, headers: headers})
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []T    `json:"value"`
			Next  string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return nil, fmt.Errorf("%s: unreadable answer: %w", op, err)
		}
		out = append(out, page.Value...)
		link = page.Next
	}
	return out, nil
}
