//go:build !unix

package source

import (
	"errors"
	"runtime"
)

// DirFS is not available on this OS: scanning a root needs lstat without
// following symlinks and Unix owners. Archives and remote hosts still work.
type DirFS struct{ FS }

// OpenDir reports that directory scans need a Unix system.
func OpenDir(dir string) (*DirFS, error) {
	return nil, errors.New("scanning a directory tree needs Linux, macOS or another Unix; on " + runtime.GOOS + " scan an archive (--tar) or a host (--ssh)")
}

// Close does nothing.
func (d *DirFS) Close() error { return nil }
