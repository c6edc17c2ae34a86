package activities

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kopia/kopia/snapshot"

	"github.com/corso-temporal/corso/repository"
)

// snapshotFile is a stored file as a backup's directory tree lays it out:
// the path of its folder below the owner's files (the library first) and
// its name there, each a pathName. With no name it only says that the
// folder exists.
type snapshotFile struct {
	Dir      []string  `json:"dir"`
	Name     string    `json:"name,omitempty"`
	ObjectID string    `json:"oid,omitempty"`
	Size     int64     `json:"size,omitempty"`
	Modified time.Time `json:"mod,omitzero"`
}

// bySnapshotPath orders files folder by folder, depth first: the files of
// a folder and of everything below it come together.
func bySnapshotPath(a, b snapshotFile) int {
	if c := slices.Compare(a.Dir, b.Dir); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// driveSnapshotTree gathers the files of an owner's drives, however many,
// and writes their directories: each as soon as the walk over the files,
// sorted by path, leaves it, so that a worker holds the folders on one
// path, never the drive.
type driveSnapshotTree struct {
	files *sortedSpill[snapshotFile]
}

func newDriveSnapshotTree(sess *repository.Session) *driveSnapshotTree {
	return &driveSnapshotTree{files: newSortedSpill(sess, "DRIVE-COMBINE-TREE-RUN", bySnapshotPath)}
}

// add lays a file out; a file with no name makes its folder exist, empty
// or not.
func (t *driveSnapshotTree) add(ctx context.Context, f snapshotFile) error {
	return t.files.add(ctx, f)
}

// write writes every directory below prefix and the root, and returns
// the root's entry. Paths name directories as treeNode.write does.
func (t *driveSnapshotTree) write(ctx context.Context, sess *repository.Session, prefix []string) (*snapshot.DirEntry, error) {
	files, err := t.files.sorted(ctx)
	if err != nil {
		return nil, err
	}
	defer files.close()
	type openDir struct {
		name    string
		entries []*snapshot.DirEntry
	}
	stack := []*openDir{{}} // the root, then the folders of path
	var path []string
	// leave writes the open folders deeper than depth.
	leave := func(depth int) error {
		for len(path) > depth {
			top := stack[len(stack)-1]
			de, err := sess.WriteDir(ctx, "/"+strings.Join(path, "/"), top.name, top.entries)
			if err != nil {
				return err
			}
			stack, path = stack[:len(stack)-1], path[:len(path)-1]
			parent := stack[len(stack)-1]
			parent.entries = append(parent.entries, de)
		}
		return nil
	}
	for {
		f, ok, err := files.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		dir := append(slices.Clip(prefix), f.Dir...)
		common := 0
		for common < len(path) && common < len(dir) && path[common] == dir[common] {
			common++
		}
		if err := leave(common); err != nil {
			return nil, err
		}
		for _, name := range dir[common:] {
			stack = append(stack, &openDir{name: name})
			path = append(path, name)
		}
		if f.Name == "" {
			continue
		}
		oid, err := repository.ParseObjectID(f.ObjectID)
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		top.entries = append(top.entries, repository.ItemEntry(f.Name, oid, f.Size, f.Modified))
	}
	if err := leave(0); err != nil {
		return nil, err
	}
	return sess.WriteDir(ctx, "", "", stack[0].entries)
}
