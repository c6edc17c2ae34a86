package repository

import (
	"context"
	"fmt"
	"time"

	"github.com/kopia/kopia/repo/manifest"

	"github.com/corso-temporal/corso/backup"
)

// LatestBackup returns the newest completed backup of a tenant's resource
// in a service, recorded before t (RefreshSince): the backup an
// incremental one starts from. For a non-zero t the newest backups of
// every resource of the tenant's service are read once per refresh and
// kept: reading one resource's backups would make kopia reload every
// backup record each time this process has flushed, work that grows with
// the repository.
func (r *Repository) LatestBackup(ctx context.Context, t time.Time, tenant, service, resource string) (Backup, bool, error) {
	if t.IsZero() {
		if err := r.Refresh(ctx); err != nil {
			return Backup{}, false, err
		}
		bs, err := r.Backups(ctx, BackupFilter{Tenant: tenant, Service: service, Resource: resource})
		if err != nil {
			return Backup{}, false, err
		}
		for _, b := range bs {
			if b.Status == backup.StatusCompleted {
				return b, true, nil
			}
		}
		return Backup{}, false, nil
	}
	if err := r.RefreshSince(ctx, t); err != nil {
		return Backup{}, false, err
	}
	h := r.entry
	h.refreshing.Lock()
	defer h.refreshing.Unlock()
	key := tenant + "\x00" + service
	latest, ok := h.latest[key]
	if !ok {
		var err error
		if latest, err = r.latestBackups(ctx, tenant, service); err != nil {
			return Backup{}, false, err
		}
		if h.latest == nil {
			h.latest = map[string]map[string]Backup{}
		}
		h.latest[key] = latest
	}
	b, ok := latest[resource]
	return b, ok, nil
}

// latestBackups reads the records of a tenant's service one at a time and
// keeps each resource's newest completed one, in Backups' order: latest
// start first, then backup id.
func (r *Repository) latestBackups(ctx context.Context, tenant, service string) (map[string]Backup, error) {
	metas, err := r.FindManifests(ctx, map[string]string{manifest.TypeLabelKey: backupManifestType, "tenant": tenant, "service": service})
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	latest := map[string]Backup{}
	for _, m := range metas {
		var b Backup
		if _, err := r.GetManifest(ctx, m.ID, &b); err != nil {
			return nil, fmt.Errorf("read backup record %s: %w", m.ID, err)
		}
		if b.Status != backup.StatusCompleted {
			continue
		}
		if cur, ok := latest[b.Resource]; ok && (cur.Started.After(b.Started) || cur.Started.Equal(b.Started) && cur.BackupID < b.BackupID) {
			continue
		}
		latest[b.Resource] = b
	}
	return latest, nil
}
