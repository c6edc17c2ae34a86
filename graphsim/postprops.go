package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// Properties a POST of a contact or event may carry.
//
// A property that does not exist on the type is refused with 400
// RequestBodyRead "The property 'X' does not exist on type
// 'Microsoft.OutlookServices.Event'. Make sure to only use property names
// that are defined by the type or mark the type as open type." Sources:
// microsoftgraph/msgraph-sdk-javascript#212 (POST /users/{id}/events with
// an unknown top-level property 'event'), microsoftgraph/msgraph-sdk-java#766
// (an event POST, 400), microsoftgraph/msgraph-sdk-dotnet#270 (the full
// envelope, code RequestBodyRead, for an unknown top-level property of an
// Exchange item) and #450 (contacts). A newer report names a different
// message for an unknown top-level property of an event POSTed to beta:
// "Requests must contain extension changes exclusively." (alcionai/corso
// PR #4888 and CHANGELOG, for "iCalUId_v2"); it gives no code or status,
// so the simulator keeps the documented RequestBodyRead answer.
//
// Read-only properties are not refused: Graph ignores them and the item
// gets the server's values. Sources: alcionai/corso restores contacts by
// POSTing the backed-up contact as read (contacts_restore.go restoreContact:
// id, parentFolderId, createdDateTime, lastModifiedDateTime, changeKey,
// @odata.etag, @odata.context included), and events after removing only a
// few fields (transform.go toEventSimplified keeps createdDateTime,
// lastModifiedDateTime, type, seriesMasterId, responseStatus and
// hasAttachments; its eventUnsupportedAdditionalData comment: uid,
// calendar@odata.associationLink, calendar@odata.navigationLink,
// @odata.context and @odata.etag "don't have API support but are ignored
// by the server"); exceptions are PATCHed with originalStart, occurrenceId,
// type and seriesMasterId still set (events_instance_restore.go). Corso
// also clears id, webLink, iCalUId and changeKey of events (PR #2611) without
// naming an error; no source says Graph refuses them, so they stay ignored,
// as for contacts. Annotations (keys with '@', @odata.type among them) are
// accepted and ignored.
//
// The known properties are those the simulator serves (eventKnownProps,
// contactKnownProps) plus the v1.0 navigation and other properties of the
// types (msgraph-sdk-go v1.89.0 models/event.go and models/contact.go
// GetFieldDeserializers) and, under beta, the beta-only ones
// (microsoft-graph-docs-contrib api-reference/beta/resources/event.md and
// contact.md).

func knownPropertySet(known object, extra ...string) map[string]bool {
	names := make([]string, 0, len(known)+len(extra))
	for _, p := range known {
		names = append(names, p.k)
	}
	return foldedSet(append(names, extra...)...)
}

var (
	eventPostProps = knownPropertySet(eventKnownProps,
		"attachments", "calendar", "cancelledOccurrences", "exceptionOccurrences", "extensions",
		"instances", "multiValueExtendedProperties", "singleValueExtendedProperties")
	eventPostPropsBeta = knownPropertySet(eventKnownProps,
		"attachments", "calendar", "cancelledOccurrences", "exceptionOccurrences", "extensions",
		"instances", "multiValueExtendedProperties", "singleValueExtendedProperties",
		"occurrenceId", "uid")
	contactPostProps = knownPropertySet(contactKnownProps,
		"extensions", "multiValueExtendedProperties", "singleValueExtendedProperties", "photo",
		"yomiCompanyName", "yomiGivenName", "yomiSurname")
	contactPostPropsBeta = knownPropertySet(contactKnownProps,
		"extensions", "multiValueExtendedProperties", "singleValueExtendedProperties", "photo",
		"yomiCompanyName", "yomiGivenName", "yomiSurname",
		"websites", "phones", "postalAddresses", "weddingAnniversary", "gender", "isFavorite", "flag")
)

// checkPostedProperties refuses the first property of a posted contact or
// event, in body order, that the type does not have.
func (rq *request) checkPostedProperties(k kind, keys []string) *apiError {
	known, typ := contactPostProps, "Microsoft.OutlookServices.Contact"
	if k == kEvent {
		known, typ = eventPostProps, "Microsoft.OutlookServices.Event"
	}
	if rq.version == "beta" {
		known = map[kind]map[string]bool{kEvent: eventPostPropsBeta, kContact: contactPostPropsBeta}[k]
	}
	for _, key := range keys {
		if strings.Contains(key, "@") || known[strings.ToLower(key)] {
			continue
		}
		return newError(http.StatusBadRequest, "RequestBodyRead",
			"The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", key, typ)
	}
	return nil
}

// readJSONObjectBody decodes a JSON object body and also returns its
// top-level keys in body order.
func (rq *request) readJSONObjectBody() (map[string]any, []string, *apiError) {
	body, err := rq.readBody(maxRequestBody)
	if err != nil {
		return nil, nil, err
	}
	bad := errBadRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil || doc == nil {
		return nil, nil, bad
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, e := dec.Token(); e != nil {
		return nil, nil, bad
	}
	keys := make([]string, 0, len(doc))
	for dec.More() {
		t, e := dec.Token()
		if e != nil {
			return nil, nil, bad
		}
		key, _ := t.(string)
		keys = append(keys, key)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil, nil, bad
		}
	}
	return doc, keys, nil
}
