//go:build unix

package source

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// DirFS reads a directory tree as a root filesystem: a live host ("/") or a
// mounted image. Every access goes through os.Root, so no path, symlink or
// ".." inside the tree can reach outside it.
type DirFS struct {
	root *os.Root
}

// OpenDir opens dir as the root of a DirFS. Close it when done.
func OpenDir(dir string) (*DirFS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", dir, err)
	}
	return &DirFS{root: r}, nil
}

// Close releases the root directory.
func (d *DirFS) Close() error { return d.root.Close() }

// rel turns an absolute path inside the root into os.Root's relative form.
func rel(p string) string {
	r := strings.TrimPrefix(path.Clean("/"+p), "/")
	if r == "" {
		return "."
	}
	return r
}

// Lstat implements FS.
func (d *DirFS) Lstat(p string) (Node, error) {
	fi, err := d.root.Lstat(rel(p))
	if err != nil {
		return Node{}, err
	}
	n := nodeFromFileInfo(fi)
	if n.Type == facts.TypeSymlink {
		if t, err := d.root.Readlink(rel(p)); err == nil {
			n.LinkTarget = t
		}
	}
	return n, nil
}

func nodeFromFileInfo(fi fs.FileInfo) Node {
	n := Node{Size: fi.Size(), Mode: permBits(fi.Mode())}
	switch m := fi.Mode(); {
	case m.IsRegular():
		n.Type = facts.TypeFile
	case m.IsDir():
		n.Type = facts.TypeDir
	case m&fs.ModeSymlink != 0:
		n.Type = facts.TypeSymlink
	default:
		n.Type = facts.TypeOther
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.UID, n.GID = int(st.Uid), int(st.Gid)
	}
	return n
}

// permBits converts Go's FileMode to the Unix 07777 bits.
func permBits(m fs.FileMode) int {
	b := int(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= 04000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 02000
	}
	if m&fs.ModeSticky != 0 {
		b |= 01000
	}
	return b
}

// ReadDir implements FS.
func (d *DirFS) ReadDir(p string) ([]string, error) {
	f, err := d.root.OpenFile(rel(p), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// ReadPrefix implements FS. It opens without following a final symlink and
// without blocking on a FIFO, and reads only if the opened file is regular,
// so a file swapped between Lstat and open is never misread.
func (d *DirFS) ReadPrefix(p string, n int64) ([]byte, error) {
	f, err := d.root.OpenFile(rel(p), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	return io.ReadAll(io.LimitReader(f, n))
}
