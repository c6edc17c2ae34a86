package activities

import (
	"os"
	"path/filepath"

	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/workflows"
)

// Exporter writes backed-up items as files on the machine it runs on: the
// CLI runs it for its own export requests.
type Exporter struct {
	Repos *Repositories
}

// openSink opens where the export goes. finish(ok) completes it: a zip is
// renamed into place only when ok, and removed otherwise.
func openSink(in workflows.ExportInput) (export.Sink, func(ok bool) error, error) {
	if !in.Archive {
		s, err := export.NewDirSink(in.Dir)
		if err != nil {
			return nil, nil, invalidInput(err.Error())
		}
		// Files are published by rename once complete; syncing each one
		// would cost a disk flush per item for little: a crash leaves only
		// temporary files behind, never a truncated one under its name.
		s.NoSync = true
		return s, func(bool) error { return s.Close() }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(in.Dir), "."+filepath.Base(in.Dir)+".*")
	if err != nil {
		return nil, nil, invalidInput("cannot write the export archive: " + err.Error())
	}
	z := export.NewZipSink(f)
	return z, func(ok bool) error {
		err := z.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if ok && err == nil {
			err = os.Rename(f.Name(), in.Dir)
		}
		if !ok || err != nil {
			_ = os.Remove(f.Name())
		}
		return err
	}, nil
}
