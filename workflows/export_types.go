package workflows

import (
	"github.com/corso-temporal/corso/backup"
)

// ExchangeExportInput is one `corso export exchange` request. The files
// are written on the requesting machine: the export activity runs on
// TaskQueue, which only the requesting CLI polls.
type ExchangeExportInput struct {
	Repo     RepoRef         `json:"repo"`
	BackupID string          `json:"backupID"`
	Selector backup.Selector `json:"selector"`
	// Dir is the export directory, or with Archive the zip file to write.
	Dir       string `json:"dir"`
	Archive   bool   `json:"archive,omitempty"`
	TaskQueue string `json:"taskQueue"`
}

// ExchangeExportResult is what `corso export exchange` prints.
type ExchangeExportResult struct {
	BackupID   string             `json:"backupID"`
	Resource   string             `json:"resource"`
	Path       string             `json:"path"` // directory or zip file
	Categories []CategoryCounts   `json:"categories"`
	Files      int64              `json:"files"`
	Bytes      int64              `json:"bytes"`
	Errors     []backup.ItemError `json:"errors,omitempty"`
}
