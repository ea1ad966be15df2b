//go:build unix

package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// leave is the Options that leave the owner alone.
var leave = Options{UID: -1, GID: -1}

// entries lists dir's names: a leftover temporary file shows here.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func checkFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != perm {
		t.Errorf("%s: mode %v, want a regular file %v", path, fi.Mode(), perm)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != content {
		t.Errorf("%s: content %q (%v), want %q", path, b, err, content)
	}
}

// TestWriteMode: the mode is exactly Perm whatever the umask (tests here
// must not run in parallel: the umask is the process's).
func TestWriteMode(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o077, 0o777} {
		for _, perm := range []fs.FileMode{0, 0o600, 0o640, 0o644, 0o400} {
			dir := t.TempDir()
			old := syscall.Umask(umask)
			path := filepath.Join(dir, "secret")
			opt := leave
			opt.Perm = perm
			err := Write(path, []byte("s3cret\n"), opt)
			syscall.Umask(old)
			if err != nil {
				t.Fatalf("umask %03o perm %v: %v", umask, perm, err)
			}
			want := perm
			if want == 0 {
				want = 0o600
			}
			checkFile(t, path, "s3cret\n", want)
			if names := entries(t, dir); len(names) != 1 {
				t.Errorf("umask %03o perm %v: directory holds %v", umask, perm, names)
			}
		}
	}
}

func TestWriteBadPerm(t *testing.T) {
	dir := t.TempDir()
	for _, perm := range []fs.FileMode{fs.ModeSetuid | 0o700, fs.ModeDir | 0o700} {
		opt := leave
		opt.Perm = perm
		if err := Write(filepath.Join(dir, "f"), nil, opt); err == nil || !strings.Contains(err.Error(), "only permission bits") {
			t.Errorf("Perm %v: error %v", perm, err)
		}
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("left %v", names)
	}
}

// TestWriteReplace: an existing file is replaced by a new one (a new inode:
// a reader holding the old file keeps reading the old content whole), with
// the new mode, not the old file's.
func TestWriteReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("old secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if err := Write(path, []byte("new"), leave); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "new", 0o600)
	var b bytes.Buffer
	if _, err := b.ReadFrom(reader); err != nil || b.String() != "old secret" {
		t.Errorf("the old file changed under its reader: %q, %v", b.String(), err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v", names)
	}
}

func TestWriteNoReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	opt := leave
	opt.NoReplace = true
	if err := Write(path, []byte("first"), opt); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "first", 0o600)
	err := Write(path, []byte("second"), opt)
	if !errors.Is(err, ErrExists) || !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("second write: error %v, want ErrExists naming %s", err, path)
	}
	checkFile(t, path, "first", 0o600)
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v", names)
	}
}

// TestWriteRefuses: symlinks and non-files are refused, and whatever a link
// points to is untouched.
func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to write
		want  string
	}{
		{"symlink to a file", func(t *testing.T, dir string) string {
			mustWrite(t, filepath.Join(dir, "dest"), "precious")
			mustSymlink(t, "dest", filepath.Join(dir, "link"))
			return filepath.Join(dir, "link")
		}, "is a symbolic link"},
		{"dangling symlink", func(t *testing.T, dir string) string {
			mustSymlink(t, "nowhere", filepath.Join(dir, "link"))
			return filepath.Join(dir, "link")
		}, "is a symbolic link"},
		{"symlinked parent directory", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "real"), 0o700); err != nil {
				t.Fatal(err)
			}
			mustSymlink(t, "real", filepath.Join(dir, "linkdir"))
			return filepath.Join(dir, "linkdir", "secret")
		}, "parent directory " + "LINKDIR" + " is a symbolic link"},
		{"directory", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "d")
		}, "not a regular file"},
		{"fifo", func(t *testing.T, dir string) string {
			if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
				testenv.Missing(t, fmt.Sprintf("mkfifo (%v)", err), "a FIFO in place of the file must be refused")
			}
			return filepath.Join(dir, "fifo")
		}, "not a regular file"},
		{"missing directory", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing", "secret")
		}, "open parent directory"},
		{"trailing slash", func(t *testing.T, dir string) string { return dir + "/" }, "not a file name"},
		{"dot dot", func(t *testing.T, dir string) string { return filepath.Join(dir, "sub") + "/.." }, "not a file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := snapshot(t, dir)
			err := Write(path, []byte("new secret"), leave)
			want := strings.ReplaceAll(tt.want, "LINKDIR", filepath.Join(dir, "linkdir"))
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, path, want)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the tree changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot describes every entry under dir: names, types, modes, contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(path + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			c, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.WriteString(" " + string(c))
		}
		b.WriteString("; ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := Write("secret", []byte("x"), leave); err != nil {
		t.Fatal(err)
	}
	checkFile(t, "secret", "x", 0o600)
}

// TestWriteOwner: the owner is set (as root), or left as the caller's.
func TestWriteOwner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := Write(path, []byte("x"), leave); err != nil {
		t.Fatal(err)
	}
	st := stat(t, path)
	if int(st.Uid) != os.Geteuid() {
		t.Errorf("uid %d, want the caller's %d", st.Uid, os.Geteuid())
	}
	if os.Geteuid() != 0 {
		err := Write(path, []byte("y"), Options{UID: 0, GID: 0})
		if err == nil || !strings.Contains(err.Error(), "set owner 0:0") {
			t.Errorf("chown to root as non-root: error %v", err)
		}
		checkFile(t, path, "x", 0o600)
		return
	}
	for _, o := range []struct{ uid, gid int }{{4242, 4343}, {-1, 4444}, {4545, -1}} {
		if err := Write(path, []byte("z"), Options{Perm: 0o640, UID: o.uid, GID: o.gid}); err != nil {
			t.Fatal(err)
		}
		st = stat(t, path)
		wantUID, wantGID := uint32(o.uid), uint32(o.gid)
		if o.uid == -1 {
			wantUID = uint32(os.Geteuid()) // a new file: the caller's, not prev's
		}
		if o.gid == -1 {
			wantGID = uint32(os.Getegid())
		}
		if st.Uid != wantUID || st.Gid != wantGID {
			t.Errorf("owner %d:%d, want %d:%d", st.Uid, st.Gid, wantUID, wantGID)
		}
		checkFile(t, path, "z", 0o640)
	}
}

func stat(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t)
}

// TestWriteFullDisk: a write that fails midway (ENOSPC on a 64 KiB tmpfs)
// leaves the old file whole and no temporary file, and the error does not
// carry the data.
func TestWriteFullDisk(t *testing.T) {
	why := "a write to a full file system (a 64 KiB tmpfs) must leave the old file"
	testenv.NeedRoot(t, why)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("a tmpfs mount (%v: %s)", err, bytes.TrimSpace(out)), why)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	path := filepath.Join(dir, "secret")
	mustWrite(t, path, "old secret")
	big := bytes.Repeat([]byte("TOPSECRET"), 1<<15) // 288 KiB
	err := Write(path, big, leave)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want ENOSPC naming %s", err, path)
	}
	if strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("the error carries the data: %v", err)
	}
	checkFile(t, path, "old secret", 0o600)
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only secret", names)
	}
	opt := leave
	opt.NoReplace = true
	if err := Write(filepath.Join(dir, "other"), big, opt); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("NoReplace: error %v, want ENOSPC", err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("NoReplace: directory holds %v, want only secret", names)
	}
}

// TestWriteReadOnlyDir: nothing is created where the caller may not write.
func TestWriteReadOnlyDir(t *testing.T) {
	testenv.NeedNonRoot(t, "root writes to read-only directories")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	path := filepath.Join(dir, "secret")
	err := Write(path, []byte("x"), leave)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want permission denied naming %s", err, path)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v", names)
	}
}
