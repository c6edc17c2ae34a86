package m365

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
)

// ChannelThread is a channel's top-level message with its replies, as a
// backup stores it: each message exactly as Graph served it, so that
// nothing Graph knows of a message is lost to a model.
type ChannelThread struct {
	Message json.RawMessage   `json:"message"`
	Replies []json.RawMessage `json:"replies"`
	// HostedContents are the inline images of the message and its
	// replies, which their bodies refer to by Graph address.
	HostedContents []HostedContent `json:"hostedContents,omitempty"`
}

// HostedContent is an inline image of a channel message or reply
// (Graph's chatMessageHostedContent) with its bytes.
type HostedContent struct {
	MessageID    string `json:"messageId"` // the message or reply that shows it
	ID           string `json:"id"`
	ContentType  string `json:"contentType"`
	ContentBytes []byte `json:"contentBytes"` // base64 in JSON
}

// ChatMessage is what an export reads of a stored channel message.
type ChatMessage struct {
	ID          string          `json:"id"`
	ReplyToID   string          `json:"replyToId"`
	MessageType string          `json:"messageType"`
	Created     string          `json:"createdDateTime"`
	Edited      string          `json:"lastEditedDateTime"`
	Subject     string          `json:"subject"`
	From        json.RawMessage `json:"from"`
	Body        struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Attachments []struct {
		Name       string `json:"name"`
		ContentURL string `json:"contentUrl"`
	} `json:"attachments"`
}

// ChatSender names who sent a chat message from its "from" identity set:
// the user, else the application, else the device.
func ChatSender(from json.RawMessage) string {
	var f map[string]*struct {
		DisplayName string `json:"displayName"`
		ID          string `json:"id"`
	}
	if len(from) == 0 || json.Unmarshal(from, &f) != nil {
		return ""
	}
	for _, k := range []string{"user", "application", "device"} {
		if id := f[k]; id != nil {
			if id.DisplayName != "" {
				return id.DisplayName
			}
			return id.ID
		}
	}
	return ""
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// chatPreviewLen is how much of a message without a subject names it.
const chatPreviewLen = 80

// ChatPreview is the first words of a message's body as text, which
// names a message that has no subject.
func ChatPreview(contentType, content string) string {
	text := content
	if strings.EqualFold(contentType, "html") {
		text = html.UnescapeString(htmlTag.ReplaceAllString(content, " "))
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > chatPreviewLen {
		text = strings.TrimSpace(string(r[:chatPreviewLen])) + "…"
	}
	return text
}
