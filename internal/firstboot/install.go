package firstboot

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// Install writes files under root (the host's / or a mounted image) as they
// are meant to be on the machine. Missing parent directories are made 0755.
// Each file replaces the old one atomically: it is written to a temporary file
// beside it, flushed, then renamed over it, and the directory is flushed. A
// symbolic link anywhere inside root on the way to a file is refused rather
// than followed, and nothing outside root is touched.
func Install(root string, files []File) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("firstboot: install: %w", err)
	}
	defer r.Close()
	for _, f := range files {
		if err := installFile(r, f); err != nil {
			return fmt.Errorf("firstboot: install %s under %s: %w", f.Path, root, err)
		}
	}
	return nil
}

func installFile(r *os.Root, f File) error {
	if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
		return errors.New("not an absolute clean file path")
	}
	link := f.Mode&fs.ModeSymlink != 0
	switch {
	case link && (f.LinkTarget == "" || len(f.Data) > 0):
		return errors.New("a symbolic link needs a target and no data")
	case !link && (f.Mode.Type() != 0 || f.LinkTarget != ""):
		return fmt.Errorf("mode %v: neither a regular file nor a symbolic link", f.Mode)
	}
	dirPath, base := path.Split(strings.TrimPrefix(f.Path, "/"))
	d, err := openDirNoFollow(r, strings.TrimSuffix(dirPath, "/"))
	if err != nil {
		return err
	}
	defer d.Close()

	tmp, err := tempName(base)
	if err != nil {
		return err
	}
	if link {
		err = d.Symlink(f.LinkTarget, tmp)
	} else {
		err = writeNew(d, tmp, f.Data, f.Mode.Perm())
	}
	if err == nil {
		err = d.Rename(tmp, base)
	}
	if err != nil {
		d.Remove(tmp)
		return err
	}
	return syncDir(d)
}

// openDirNoFollow opens dir (slash-separated, relative to r) one component at
// a time, making missing ones 0755 and refusing symbolic links.
func openDirNoFollow(r *os.Root, dir string) (*os.Root, error) {
	cur, err := r.OpenRoot(".")
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return cur, nil
	}
	walked := ""
	for _, c := range strings.Split(dir, "/") {
		walked += "/" + c
		fi, err := cur.Lstat(c)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := cur.Mkdir(c, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				cur.Close()
				return nil, err
			}
			// Mkdir is subject to the umask; the unit directories must be readable.
			if err := cur.Chmod(c, 0o755); err != nil {
				cur.Close()
				return nil, err
			}
		case err != nil:
			cur.Close()
			return nil, err
		case fi.Mode()&fs.ModeSymlink != 0:
			cur.Close()
			return nil, fmt.Errorf("%s is a symbolic link; refusing to follow it", walked)
		case !fi.IsDir():
			cur.Close()
			return nil, fmt.Errorf("%s is not a directory", walked)
		}
		next, err := cur.OpenRoot(c)
		cur.Close()
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

func tempName(base string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return layout.TempPrefix + base + "." + hex.EncodeToString(b[:]), nil
}

// writeNew writes data to a new file name in d with exactly mode perm, and
// flushes it to disk.
func writeNew(d *os.Root, name string, data []byte, perm os.FileMode) error {
	f, err := d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // the umask may have taken bits off
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(d *os.Root) error {
	f, err := d.Open(".")
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
