// Package atomicfile writes secret and key files so that nothing is lost and
// nothing leaks: a reader (or a crash) sees the old file or the complete new
// one, never a part; the file has its final owner and mode before the first
// byte is written; symbolic links are refused, never followed.
package atomicfile

import "io/fs"

// Options say how Write creates the file.
type Options struct {
	// Perm is the file's mode, exactly, whatever the umask; 0 means 0600.
	// Only permission bits are allowed.
	Perm fs.FileMode
	// NoReplace makes Write fail with ErrExists if the target exists, even
	// if it appears while Write runs.
	NoReplace bool
	// UID and GID are the owner to give the file; -1 leaves it as created
	// (the caller's). Beware: the zero Options ask for root (0), 0.
	UID, GID int
}

// ErrExists is returned (wrapped) by Write with NoReplace when the target
// exists; errors.Is(err, fs.ErrExist) holds too.
var ErrExists error = existsError{}

type existsError struct{}

func (existsError) Error() string        { return "file already exists" }
func (existsError) Is(target error) bool { return target == fs.ErrExist }
