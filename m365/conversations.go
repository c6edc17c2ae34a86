package m365

import (
	"crypto/sha256"
	"encoding/hex"
)

// ConversationPath is a group conversation thread's path: its
// conversation's topic, then "thread-" and the first eight hex digits of
// the SHA-256 of its id. A topic alone is not unique (two conversations,
// or two threads of one, may share it) and a thread id is unique but too
// long and unreadable for a folder name; together they are both.
func ConversationPath(topic, threadID string) []string {
	if topic == "" {
		topic = "(no topic)"
	}
	sum := sha256.Sum256([]byte(threadID))
	return []string{topic, "thread-" + hex.EncodeToString(sum[:4])}
}
