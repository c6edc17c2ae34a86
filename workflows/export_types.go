package workflows

import (
	"github.com/corso-temporal/corso/backup"
)

// ExportInput is one `corso export` request. The files
// are written on the requesting machine: the export activity runs on
// TaskQueue, which only the requesting CLI polls.
type ExportInput struct {
	Repo RepoRef `json:"repo"`
	// Service is the backup's: exchange, onedrive or sharepoint.
	Service  string          `json:"service,omitempty"`
	BackupID string          `json:"backupID"`
	Selector backup.Selector `json:"selector"`
	// Dir is the export directory, or with Archive the zip file to write.
	Dir     string `json:"dir"`
	Archive bool   `json:"archive,omitempty"`
	// Format is how channel threads are written: "json" (default) or
	// "html".
	Format    string `json:"format,omitempty"`
	TaskQueue string `json:"taskQueue"`
}

// ExportResult is what `corso export` prints.
type ExportResult struct {
	BackupID   string             `json:"backupID"`
	Resource   string             `json:"resource"`
	Path       string             `json:"path"` // directory or zip file
	Categories []CategoryCounts   `json:"categories"`
	Files      int64              `json:"files"`
	Bytes      int64              `json:"bytes"`
	Errors     []backup.ItemError `json:"errors,omitempty"`
}
