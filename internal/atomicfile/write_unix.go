//go:build unix

package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Write writes data to path atomically: a new file in the same directory
// (O_CREAT|O_EXCL|O_NOFOLLOW, so never an existing file or a link), given its
// owner (fchown) and mode (fchmod, defeating the umask) while still empty,
// then written, fsynced, and renamed over path (with NoReplace: hard-linked
// to path, which fails if path exists, then unlinked), and the directory
// fsynced. All names are resolved relative to the parent directory opened
// once with O_NOFOLLOW, so a symlink swapped in meanwhile is not followed.
//
// Write refuses a path that is a symbolic link or not a regular file, and a
// parent directory that is a symbolic link (links further up the path are
// followed, as the administrator made them). On error no temporary file is
// left and path is unchanged. Errors name path, never the data.
func Write(path string, data []byte, opt Options) error {
	if err := write(path, data, opt); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func write(path string, data []byte, opt Options) (err error) {
	perm := opt.Perm
	if perm == 0 {
		perm = 0o600
	}
	if perm&^os.ModePerm != 0 {
		return fmt.Errorf("mode %v: only permission bits are allowed", perm)
	}
	dir, name := filepath.Split(path)
	if name == "" || name == "." || name == ".." {
		return errors.New("not a file name")
	}
	// Clean drops the trailing slash, which would make open(2) follow a link.
	dir = filepath.Clean(dir) // "" becomes "."
	dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		// O_NOFOLLOW|O_DIRECTORY on a link fails with ELOOP or ENOTDIR.
		if fi, lerr := os.Lstat(dir); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("parent directory %s is a symbolic link; refusing to follow it", dir)
		}
		return fmt.Errorf("open parent directory %s: %w", dir, err)
	}
	defer unix.Close(dirfd)

	var st unix.Stat_t
	switch err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == unix.ENOENT:
	case err != nil:
		return err
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return errors.New("is a symbolic link; refusing to replace or follow it")
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return errors.New("exists and is not a regular file")
	case opt.NoReplace:
		return ErrExists
	}

	tmp, f, err := createTemp(dirfd, dir, name, perm)
	if err != nil {
		return err
	}
	placed := false // the temporary name is gone once renamed
	defer func() {
		if f != nil {
			f.Close()
		}
		if !placed {
			unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if opt.UID != -1 || opt.GID != -1 {
		if err := f.Chown(opt.UID, opt.GID); err != nil {
			return fmt.Errorf("set owner %d:%d: %w", opt.UID, opt.GID, errno(err))
		}
	}
	// The file is created with perm minus the umask: set it exactly while
	// empty, never after a byte is there.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("set mode %v: %w", perm, errno(err))
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write data: %w", errno(err))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync data: %w", errno(err))
	}
	err = f.Close()
	f = nil
	if err != nil {
		return fmt.Errorf("close: %w", errno(err))
	}

	if opt.NoReplace {
		// link(2) never replaces: if path appeared since the check, fail.
		if err := unix.Linkat(dirfd, tmp, dirfd, name, 0); err != nil {
			if err == unix.EEXIST {
				return ErrExists
			}
			return fmt.Errorf("link into place: %w", err)
		}
		placed = true
		if err := unix.Unlinkat(dirfd, tmp, 0); err != nil {
			return fmt.Errorf("written, but remove the temporary name %s: %w", tmp, err)
		}
	} else {
		if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
			return fmt.Errorf("rename into place: %w", err)
		}
		placed = true
	}
	// The new directory entry is durable only once the directory is.
	if err := unix.Fsync(dirfd); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// createTemp creates a new, empty, hidden file next to name, in dirfd.
func createTemp(dirfd int, dir, name string, perm os.FileMode) (string, *os.File, error) {
	prefix := "." + name
	if len(prefix) > 200 { // NAME_MAX is 255
		prefix = prefix[:200]
	}
	var b [8]byte
	for range 100 {
		rand.Read(b[:])
		tmp := prefix + "." + hex.EncodeToString(b[:]) + ".tmp"
		fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm))
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("create a temporary file in %s: %w", dir, err)
		}
		return tmp, os.NewFile(uintptr(fd), filepath.Join(dir, tmp)), nil
	}
	return "", nil, fmt.Errorf("create a temporary file in %s: too many name collisions", dir)
}

// errno drops the temporary file's name from an *os.PathError: the caller
// names the target instead.
func errno(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
