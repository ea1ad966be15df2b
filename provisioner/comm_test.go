package provisioner

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
)

// recComm is a Communicator that records every upload and command, which
// the SDK's MockCommunicator does not (it keeps the last of each). Each
// command is answered by respond.
type recComm struct {
	mu       sync.Mutex
	uploads  []upload
	commands []string
	respond  func(cmd string) reply
}

type upload struct {
	path string
	data string
}

type reply struct {
	stdout, stderr string
	status         int
}

func (c *recComm) Start(_ context.Context, cmd *packersdk.RemoteCmd) error {
	c.mu.Lock()
	c.commands = append(c.commands, cmd.Command)
	c.mu.Unlock()
	r := c.respond(cmd.Command)
	go func() {
		if cmd.Stdout != nil {
			io.WriteString(cmd.Stdout, r.stdout)
		}
		if cmd.Stderr != nil {
			io.WriteString(cmd.Stderr, r.stderr)
		}
		cmd.SetExited(r.status)
	}()
	return nil
}

func (c *recComm) Upload(path string, r io.Reader, _ *os.FileInfo) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uploads = append(c.uploads, upload{path, string(b)})
	return nil
}

func (c *recComm) UploadDir(string, string, []string) error {
	return errors.New("recComm: UploadDir is not used by the provisioner")
}

func (c *recComm) Download(string, io.Writer) error {
	return errors.New("recComm: Download is not used by the provisioner")
}

func (c *recComm) DownloadDir(string, string, []string) error {
	return errors.New("recComm: DownloadDir is not used by the provisioner")
}

// localTarget answers recComm's commands on this machine: uploads land in
// their (temporary) remote_dir, the install script runs for real with sh,
// its image paths relocated under root, and the fact collection is answered
// from root, after mutate (if set) has changed it.
type localTarget struct {
	t      *testing.T
	root   string
	mutate func(root string)
}

// relocate points the install script's image paths into root: the script
// reads every image path through $R, empty on a real target.
func (l *localTarget) relocate(script string) string {
	out := strings.Replace(script, "\nR=''\n", "\nR="+shQuote(l.root)+"\n", 1)
	if out == script {
		l.t.Fatal("install script has no R='' line to relocate")
	}
	return out
}

// comm returns a recording communicator backed by l.
func (l *localTarget) comm() *recComm {
	c := &recComm{}
	c.respond = func(cmd string) reply {
		// The last upload is the one the command runs.
		up := c.uploads[len(c.uploads)-1]
		switch {
		case strings.HasPrefix(cmd, "rm -f -- "):
			return runSh(l.t, cmd)
		case strings.Contains(cmd, "-collect.sh'"):
			return l.collect(cmd)
		case strings.Contains(cmd, up.path):
			if err := os.WriteFile(up.path, []byte(l.relocate(up.data)), 0o600); err != nil {
				l.t.Fatal(err)
			}
			return runSh(l.t, cmd)
		}
		l.t.Fatalf("unexpected command %q", cmd)
		return reply{}
	}
	return c
}

// collect checks the install script staged the collector, then answers
// with what the collector would print about root.
func (l *localTarget) collect(cmd string) reply {
	staged := cmd[strings.LastIndex(cmd[:len(cmd)-1], "'")+1 : len(cmd)-1]
	b, err := os.ReadFile(staged)
	if err != nil {
		l.t.Fatalf("the install script did not stage the collector: %v", err)
	}
	if !strings.HasPrefix(string(b), asRoot+"rm -f -- \"$0\"\n") || !strings.Contains(string(b), "hubsecrets-remote 1") {
		l.t.Fatalf("staged collector is not the remote collector:\n%s", b)
	}
	os.Remove(staged) // as its first line does
	if l.mutate != nil {
		l.mutate(l.root)
	}
	return reply{stdout: remoteStream(l.t, l.root)}
}

func runSh(t *testing.T, cmd string) reply {
	var out, errb bytes.Buffer
	c := exec.Command("sh", "-c", cmd)
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var ee *exec.ExitError
	status := 0
	switch {
	case errors.As(err, &ee):
		status = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return reply{out.String(), errb.String(), status}
}

// remoteStream prints what source.RemoteScript would print on a target
// whose root is dir: it records what Collect asks of a DirFS and writes the
// answers in the remote collector's record format, so ParseRemote sees
// exactly the files a real collection would.
func remoteStream(t *testing.T, dir string) string {
	fsys, err := source.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	rec := &recFS{FS: fsys, seen: map[string]bool{}}
	// Live: the provisioner collects from a running system (the packer
	// source), so it asks for the instance identity too.
	if _, err := source.Collect(context.Background(), rec, facts.Source{Kind: "dir", Root: dir}, source.Options{Live: true}); err != nil {
		t.Fatal(err)
	}
	return "hubsecrets-remote 1\n" + rec.out.String() + "end\n"
}

type recFS struct {
	source.FS
	out  strings.Builder
	seen map[string]bool
}

func hx(s string) string { return hex.EncodeToString([]byte(s)) }

var typeBits = map[string]uint32{
	facts.TypeFile: 0o100000, facts.TypeDir: 0o040000, facts.TypeSymlink: 0o120000, facts.TypeOther: 0o010000,
}

func (r *recFS) Lstat(p string) (source.Node, error) {
	n, err := r.FS.Lstat(p)
	if key := "S" + p; !r.seen[key] {
		r.seen[key] = true
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(&r.out, "N %s\n", hx(p))
		case err != nil:
			fmt.Fprintf(&r.out, "E %s %s\n", hx(p), hx(err.Error()))
		default:
			fmt.Fprintf(&r.out, "S %s %x %d %d %d\n", hx(p), typeBits[n.Type]|uint32(n.Mode), n.UID, n.GID, n.Size)
			if n.Type == facts.TypeSymlink {
				fmt.Fprintf(&r.out, "L %s %s\n", hx(p), hx(n.LinkTarget))
			}
		}
	}
	return n, err
}

func (r *recFS) ReadDir(p string) ([]string, error) {
	names, err := r.FS.ReadDir(p)
	if err == nil {
		sorted := append([]string(nil), names...)
		sort.Strings(sorted)
		for _, name := range sorted {
			fmt.Fprintf(&r.out, "D %s %s\n", hx(p), hx(name))
			// The collector stats every entry it lists.
			r.Lstat(strings.TrimSuffix(p, "/") + "/" + name)
		}
	}
	return names, err
}

func (r *recFS) ReadPrefix(p string, n int64) ([]byte, error) {
	b, err := r.FS.ReadPrefix(p, n)
	if key := "C" + p; err == nil && !r.seen[key] {
		r.seen[key] = true
		fmt.Fprintf(&r.out, "C %s %s\n", hx(p), hx(string(b)))
	}
	return b, err
}

// syncBuf is a bytes.Buffer safe for the UI's concurrent writers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testUI records what the provisioner says (Say) and shouts (Error).
type testUI struct {
	packersdk.Ui
	out, errs *syncBuf
}

func newUI() *testUI {
	u := &testUI{out: &syncBuf{}, errs: &syncBuf{}}
	u.Ui = &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: u.out, ErrorWriter: u.errs, PB: &packersdk.NoopProgressTracker{}}
	return u
}

func (u *testUI) all() string { return u.out.String() + u.errs.String() }
