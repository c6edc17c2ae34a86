package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// ExportExchange writes the selected items of an Exchange backup: mail as
// .eml (the stored MIME, byte for byte), contacts as .vcf and events as
// .ics, under email/, contacts/ and events/ in folders mirroring the
// mailbox; or of a groups backup: channel threads under messages/, and
// conversation posts as .eml under conversations/<topic>/<thread>/; or of
// a SharePoint lists backup: each item as JSON under lists/<list>/ and
// each list as lists/<list>.csv. Items
// stream from the repository one at a time, so memory does not grow with
// the backup. With Archive the same tree goes into one zip,
// which appears under its name only when complete.
func (x *Exporter) ExportExchange(ctx context.Context, in workflows.ExportInput) (workflows.ExportResult, error) {
	res := workflows.ExportResult{BackupID: in.BackupID, Path: in.Dir}
	if err := in.Selector.Validate(); err != nil {
		return res, invalidInput(err.Error())
	}
	r, b, idx, err := x.Repos.openBackup(ctx, in.Repo, in.BackupID, workflows.ContainerService(in.Service))
	if err != nil {
		return res, err
	}
	defer r.Release(ctx)
	res.Resource = b.ResourceName

	if err := planExport(ctx, r, x.Progress, idx.Collections, in.Selector); err != nil {
		return res, err
	}
	sink, finish, err := x.openSink(ctx, in)
	if err != nil {
		return res, err
	}
	ex := &exchangeExport{repo: r, sink: sink, progress: x.Progress, counts: map[m365.Category]*workflows.RestoreCounts{},
		threadFormat: in.Format}
	err = ex.run(ctx, idx, in.Selector)
	if ferr := finish(err == nil); err == nil && ferr != nil {
		err = invalidInput("write the export: " + ferr.Error())
	}
	if err != nil {
		return res, err
	}
	for _, cat := range m365.ServiceCategories(workflows.ContainerService(in.Service)) {
		if c := ex.counts[cat]; c != nil {
			res.Categories = append(res.Categories, workflows.CategoryCounts{Category: cat, RestoreCounts: *c})
		}
	}
	res.Files, res.Bytes, res.Errors = int64(sink.Files()), sink.Bytes(), ex.errors
	return res, nil
}

type exchangeExport struct {
	repo     *repository.Repository
	sink     export.Sink
	progress *ExportProgress
	counts   map[m365.Category]*workflows.RestoreCounts
	errors   []backup.ItemError
	// threadFormat is how channel threads are written: export.ThreadAsJSON
	// (the default) or export.ThreadAsHTML.
	threadFormat string
	// table, while a list's items are written, collects its CSV rows.
	table *export.ListTable
}

func (ex *exchangeExport) run(ctx context.Context, idx repository.BackupIndex, sel backup.Selector) error {
	for _, c := range idx.Collections {
		cat := m365.Category(c.Category)
		entries, err := readDetails(ctx, ex.repo, c.DetailsID)
		if err != nil {
			return err
		}
		var (
			dirObjects map[string]string
			dirErr     error
		)
		if err := ex.startTable(ctx, c); err != nil {
			return err
		}
		for _, e := range entries {
			if !sel.Matches(e) {
				continue
			}
			if dirObjects == nil && dirErr == nil {
				dirObjects, dirErr = ex.dir(ctx, c.DirID)
				if dirErr != nil && !errors.Is(dirErr, repository.ErrUnreadable) {
					return repositoryError(fmt.Errorf("read backed-up folder: %w", dirErr))
				}
			}
			heartbeat(ctx)
			if dirErr != nil {
				// The folder's listing is lost: its items fail, named.
				ex.failed(cat, c.Path, e, "the backed-up folder cannot be read: "+dirErr.Error())
				ex.progress.handled(e)
				continue
			}
			if err := ex.item(ctx, cat, c.Path, e, dirObjects[entryName(e.ItemID)]); err != nil {
				return err
			}
			ex.progress.handled(e)
		}
		if err := ex.finishTable(c); err != nil {
			return err
		}
	}
	return nil
}

func (ex *exchangeExport) dir(ctx context.Context, dirID string) (map[string]string, error) {
	dir, err := ex.repo.ReadDir(ctx, dirID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(dir))
	for _, e := range dir {
		m[e.Name] = e.ObjectID.String()
	}
	return m, nil
}

func (ex *exchangeExport) countsOf(cat m365.Category) *workflows.RestoreCounts {
	c := ex.counts[cat]
	if c == nil {
		c = &workflows.RestoreCounts{}
		ex.counts[cat] = c
	}
	return c
}

// failed records an item that is not exported.
func (ex *exchangeExport) failed(cat m365.Category, path []string, e backup.Entry, reason string) {
	ex.countsOf(cat).Failed++
	if len(ex.errors) < maxCollectionErrors {
		ex.errors = append(ex.errors, backup.ItemError{Category: string(cat), Path: path, ItemID: e.ItemID, Name: itemName(e), Reason: reason})
	}
}

// item writes one item's file. An item whose stored form cannot be
// converted, or whose stored data is lost or damaged, is reported, not
// fatal; other storage errors and disk errors are.
func (ex *exchangeExport) item(ctx context.Context, cat m365.Category, path []string, e backup.Entry, oid string) error {
	c := ex.countsOf(cat)
	if oid == "" {
		ex.failed(cat, path, e, "the backed-up item cannot be read: it is in the details but not in the backed-up folder")
		return nil
	}
	stored, err := ex.repo.OpenItem(ctx, oid)
	switch {
	case errors.Is(err, repository.ErrUnreadable):
		ex.failed(cat, path, e, "the backed-up item cannot be read: "+err.Error())
		return nil
	case err != nil:
		return repositoryError(err)
	}
	defer stored.Close()
	rd := &sourceReader{r: stored}

	title := e.Subject
	if cat == m365.Contacts {
		title = e.DisplayName
	}
	dir := append([]string{string(cat)}, path...)
	name := export.FileName(string(cat), title)
	switch cat {
	case m365.ChannelMessages:
		name = export.ThreadFileName(title, ex.threadFormat)
	case m365.Conversations:
		name = export.PostFileName(e.Received, e.Sender)
	case m365.ListItems:
		name = export.ListItemFileName(e.ItemID)
	}
	w, err := ex.sink.Create(dir, name)
	if err != nil {
		return invalidInput("write the export: " + err.Error())
	}
	var src io.Reader = rd
	var kept bytes.Buffer // a list item's document, for its CSV row
	if ex.table != nil {
		src = io.TeeReader(rd, &kept)
	}
	n, convErr, ioErr := writeItem(w, cat, ex.threadFormat, e.Subject, src)
	if ioErr != nil || convErr != nil || rd.err != nil {
		export.Abort(w)
	} else if err := w.Close(); err != nil {
		ioErr = err
	}
	switch {
	case errors.Is(rd.err, repository.ErrUnreadable):
		ex.failed(cat, path, e, "the backed-up item cannot be read: "+rd.err.Error())
		return nil
	case rd.err != nil:
		return repositoryError(rd.err)
	case ioErr != nil:
		return invalidInput("write the export: " + ioErr.Error())
	case convErr != nil:
		ex.failed(cat, path, e, convErr.Error())
		return nil
	}
	if ex.table != nil {
		if err := ex.table.Add(kept.Bytes()); err != nil {
			ex.failed(cat, path, e, err.Error())
			return nil
		}
	}
	c.Restored++
	c.Bytes += n
	return nil
}

// writeItem converts one stored item into its file format; subject is
// what details recorded of it (a post's conversation topic, which the
// post does not carry). It tells a conversion error (the item) from a
// write error (the disk).
func writeItem(w io.Writer, cat m365.Category, threadFormat, subject string, rd io.Reader) (n int64, convErr, ioErr error) {
	if cat == m365.Email {
		n, err := io.Copy(w, rd)
		return n, nil, err
	}
	raw, err := io.ReadAll(rd)
	if err != nil {
		return 0, nil, err
	}
	cw := &countingWriter{w: w}
	switch cat {
	case m365.Contacts:
		err = export.ContactVCard(cw, raw)
	case m365.ChannelMessages:
		if threadFormat == export.ThreadAsHTML {
			err = export.ThreadHTML(cw, raw)
		} else {
			err = export.ThreadJSON(cw, raw)
		}
	case m365.Conversations:
		err = export.PostEML(cw, raw, subject)
	case m365.ListItems:
		err = export.ListItemJSON(cw, raw)
	case m365.Events:
		err = export.EventICS(cw, raw)
	default:
		err = fmt.Errorf("unknown category %s", cat)
	}
	if err != nil && cw.err != nil {
		return cw.n, nil, cw.err
	}
	return cw.n, err, nil
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}
