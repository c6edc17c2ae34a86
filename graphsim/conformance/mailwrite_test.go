package conformance

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// How Graph answers the ways a restore can create a message, as the real
// SDK sees them: MIME makes a draft stamped now; JSON with
// PidTagMessageFlags and the time properties makes the message it was;
// a request above 4 MB is refused with 413.

const sampleMIME = "From: a@example.com\r\nTo: b@example.com\r\nSubject: MIME\r\n" +
	"Date: Mon, 02 Jun 2025 10:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n\r\nbody\r\n"

func TestMessageFromMIMEIsADraftStampedWhenSaved(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/users/{user}/mailFolders/inbox/messages"
	ri.PathParameters = map[string]string{"baseurl": e.adapter.GetBaseUrl(), "user": u.ID}
	ri.SetStreamContentAndContentType([]byte(base64.StdEncoding.EncodeToString([]byte(sampleMIME))), "text/plain")
	ri.Headers.Add("Accept", "application/json")
	created, err := e.adapter.Send(e.ctx, ri, models.CreateMessageFromDiscriminatorValue, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := created.(models.Messageable)
	got, err := e.client.Users().ByUserId(u.ID).Messages().ByMessageId(*m.GetId()).Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !*got.GetIsDraft() || got.GetReceivedDateTime().Equal(time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)) ||
		!got.GetReceivedDateTime().Equal(*got.GetCreatedDateTime()) {
		t.Fatalf("draft %v, received %v, created %v", *got.GetIsDraft(), got.GetReceivedDateTime(), got.GetCreatedDateTime())
	}
}

func TestMessageFromJSONKeepsItsFlagsAndTimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	prop := func(id, v string) models.SingleValueLegacyExtendedPropertyable {
		p := models.NewSingleValueLegacyExtendedProperty()
		p.SetId(&id)
		p.SetValue(&v)
		return p
	}
	subject := "restored"
	msg := models.NewMessage()
	msg.SetSubject(&subject)
	msg.SetSingleValueExtendedProperties([]models.SingleValueLegacyExtendedPropertyable{
		prop("Integer 0x0E07", "1"), prop("SystemTime 0x0039", "2024-03-01T09:00:00Z"), prop("SystemTime 0x0E06", "2024-03-01T09:00:05Z"),
	})
	created, err := e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().Post(e.ctx, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *created.GetIsDraft() || !*created.GetIsRead() || created.GetSentDateTime().UTC().Format(time.RFC3339) != "2024-03-01T09:00:00Z" ||
		created.GetReceivedDateTime().UTC().Format(time.RFC3339) != "2024-03-01T09:00:05Z" {
		t.Fatalf("draft %v read %v sent %v received %v", *created.GetIsDraft(), *created.GetIsRead(), created.GetSentDateTime(), created.GetReceivedDateTime())
	}
	// Without mfRead and with mfUnsent: an unread draft.
	msg.SetSingleValueExtendedProperties([]models.SingleValueLegacyExtendedPropertyable{prop("Integer 0x0E07", "8")})
	created, err = e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("drafts").Messages().Post(e.ctx, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !*created.GetIsDraft() || *created.GetIsRead() {
		t.Fatalf("flags 8: draft %v read %v", *created.GetIsDraft(), *created.GetIsRead())
	}
}

func TestRequestAboveFourMegabytesIs413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	content, kind := strings.Repeat("x", 4<<20), models.TEXT_BODYTYPE
	body := models.NewItemBody()
	body.SetContent(&content)
	body.SetContentType(&kind)
	msg := models.NewMessage()
	msg.SetBody(body)
	_, err := e.client.Users().ByUserId(u.ID).MailFolders().ByMailFolderId("inbox").Messages().Post(e.ctx, msg, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 4 MB body: %v", err)
	}
	// A file attachment of 3 MB or more only through an upload session.
	small := "small"
	msg = models.NewMessage()
	msg.SetSubject(&small)
	created, err := e.client.Users().ByUserId(u.ID).Messages().Post(e.ctx, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	att := models.NewFileAttachment()
	name := "big.bin"
	att.SetName(&name)
	att.SetContentBytes(make([]byte, 3<<20))
	_, err = e.client.Users().ByUserId(u.ID).Messages().ByMessageId(*created.GetId()).Attachments().Post(e.ctx, att, nil)
	if !errors.As(err, &oe) || oe.ResponseStatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 3 MB attachment: %v", err)
	}
	req := users.NewItemMessagesItemAttachmentsCreateUploadSessionPostRequestBody()
	item := models.NewAttachmentItem()
	size := int64(3 << 20)
	kindFile := models.FILE_ATTACHMENTTYPE
	item.SetAttachmentType(&kindFile)
	item.SetName(&name)
	item.SetSize(&size)
	req.SetAttachmentItem(item)
	sess, err := e.client.Users().ByUserId(u.ID).Messages().ByMessageId(*created.GetId()).Attachments().CreateUploadSession().Post(e.ctx, req, nil)
	if err != nil || sess.GetUploadUrl() == nil {
		t.Fatalf("upload session: %v", err)
	}
}
