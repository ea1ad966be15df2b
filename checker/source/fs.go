// Package source collects a facts document from where the files live: a
// directory tree (a live host or a mounted image) today, archives and remote
// hosts through the same FS interface.
//
// Sources observe; they never judge. Everything here ends up in a
// facts.Document, and the policy decides what is wrong.
package source

import (
	"errors"
	"io/fs"
	"syscall"
)

// Node is what a source knows about one path, without following symlinks.
type Node struct {
	Type       string // facts.Type*
	Mode       int    // permission bits plus setuid/setgid/sticky (07777)
	UID, GID   int
	Size       int64
	LinkTarget string
}

// FS is a read-only view of a root filesystem. Paths are absolute and clean,
// relative to the scanned root ("/srv/jupyterhub"). No method follows a
// symlink in the last path element.
type FS interface {
	// Lstat describes p; the error wraps fs.ErrNotExist when p is absent.
	Lstat(p string) (Node, error)
	// ReadDir lists the names in directory p.
	ReadDir(p string) ([]string, error)
	// ReadPrefix returns at most n bytes from the start of regular file p.
	ReadPrefix(p string, n int64) ([]byte, error)
}

// isNotExist: the path is missing, or a component on the way to it is not
// a directory (the secrets directory is a regular file, say), so nothing
// can be there. That is an absence to report, not a file left unchecked.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
