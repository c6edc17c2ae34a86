package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// jsonContentType is what Graph sends; the SDK picks its parser by the part
// before ';', and without any content type net/http would sniff text/plain
// and the SDK would refuse the body.
const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// apiError is a Graph error answer. Every error the simulator sends goes
// through it, so every error carries the full envelope with code, message
// and innerError (a missing message makes the SDK's ODataError.Error()
// dereference nil).
type apiError struct {
	status    int
	code      string
	message   string
	innerCode string            // innerError.code, as drive resync errors carry
	header    map[string]string // extra response headers (Retry-After, Location)
	emptyBody bool              // some 503s really come without a body
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func (e *apiError) with(k, v string) *apiError {
	if e.header == nil {
		e.header = map[string]string{}
	}
	e.header[k] = v
	return e
}

// errItemNotFound is Exchange's answer for a missing item or folder.
func errItemNotFound() *apiError {
	return newError(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

func errDriveItemNotFound() *apiError {
	return newError(http.StatusNotFound, "itemNotFound", "The resource could not be found.")
}

func errResourceNotFound(path string) *apiError {
	return newError(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", path)
}

func errBadRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "BadRequest", format, args...)
}

func errInvalidRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "invalidRequest", format, args...)
}

func errMethodNotAllowed() *apiError {
	return newError(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func errMailboxNotEnabled() *apiError {
	return newError(http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
}

func errNoMySite() *apiError {
	return newError(http.StatusNotFound, "ResourceNotFound", "User's mysite not found.")
}

// writeJSON sends v as a Graph JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeRawError(w, "", &apiError{status: 500, code: "InternalServerError", message: err.Error()}, time.Now())
		return
	}
	writeJSONBytes(w, status, b)
}

func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError innerError `json:"innerError"`
}

type innerError struct {
	Code            string `json:"code,omitempty"`
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// writeRawError sends e with the full envelope.
func writeRawError(w http.ResponseWriter, clientRequestID string, e *apiError, now time.Time) {
	h := w.Header()
	for k, v := range e.header {
		h.Set(k, v)
	}
	if e.emptyBody {
		h.Set("Content-Length", "0")
		w.WriteHeader(e.status)
		return
	}
	reqID := h.Get("request-id")
	if clientRequestID == "" {
		clientRequestID = reqID
	}
	writeJSON(w, e.status, errorBody{Error: errorDetail{
		Code:    e.code,
		Message: e.message,
		InnerError: innerError{
			Code:            e.innerCode,
			Date:            now.UTC().Format("2006-01-02T15:04:05"),
			RequestID:       reqID,
			ClientRequestID: clientRequestID,
		},
	}})
}
