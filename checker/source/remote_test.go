package source

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// busyboxOnly returns a PATH holding only busybox applets, so the remote
// command is tried as on a busybox-only target.
func busyboxOnly(t *testing.T) string {
	t.Helper()
	bb := testenv.NeedTool(t, "busybox", "the remote script must run on a busybox-only target")
	dir := t.TempDir()
	for _, applet := range []string{"sh", "stat", "od", "tr", "head", "readlink", "printf", "echo", "[", "awk"} {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRemoteMatchesDir runs the real remote command with real shells on a
// real tree and checks it yields the same facts document as reading the
// tree directly: one collector, two transports.
func TestRemoteMatchesDir(t *testing.T) {
	tr := testtree.New(t, "root")
	tr.Write("/srv/jupyterhub/jupyterhub_cookie_secret", 0o600, hexSecret)
	tr.Write("/srv/jupyterhub/proxy_auth_token", 0o640, "")
	tr.DHParam("/srv/jupyterhub/dhparam.pem", 0o600)
	tr.Write("/srv/jupyterhub/jupyterhub_cookie_secretl", 0o644, hexSecret)
	tr.Write("/srv/jupyterhub/name with spaces\nand a newline", 0o644, "x")
	tr.Write("/srv/jupyterhub/.hidden", 0o644, "x")
	tr.Symlink("/etc/shadow", "/srv/jupyterhub/link")
	if err := os.Mkdir(tr.Path("/srv/jupyterhub/subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The remote command sees the host's / and etc files: point the
	// secrets directory at the tree instead.
	opt := Options{Dir: tr.Path("/srv/jupyterhub")}

	host, err := OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	want, err := Collect(context.Background(), host, facts.Source{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Unexpected) != 5 {
		t.Fatalf("direct collection found %d unexpected entries, want 5: %+v", len(want.Unexpected), want.Unexpected)
	}

	shells := map[string][]string{"dash": {"dash"}, "busybox sh": {"busybox", "sh"}}
	for name, argv := range shells {
		t.Run(name, func(t *testing.T) {
			sh := testenv.NeedTool(t, argv[0], "the remote script's facts under "+name+" must equal the direct collection's")
			cmd := exec.Command(sh, append(argv[1:], "-c", RemoteScript(opt))...)
			if name == "busybox sh" {
				cmd.Env = []string{"PATH=" + busyboxOnly(t)}
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("remote command: %v\n%s", err, stderrOf(err))
			}
			if strings.Contains(string(out), strings.TrimSpace(hexSecret)) {
				t.Fatal("the remote output carries the secret in the clear; it must be hex-encoded")
			}
			fsys, err := ParseRemote(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Collect(context.Background(), fsys, facts.Source{}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := toJSON(t, got), toJSON(t, want); a != b {
				t.Errorf("remote facts differ from direct facts\nremote: %s\ndirect: %s", a, b)
			}
		})
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// toJSON is how the tests compare facts; a whole document is also checked
// against the published schema.
func toJSON(t *testing.T, v any) string {
	t.Helper()
	if doc, ok := v.(*facts.Document); ok {
		validFacts(t, doc)
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseRemoteRejectsBadOutput(t *testing.T) {
	tests := map[string]string{
		"banner":        "Welcome to host!\n" + remoteMagic + "\nend\n",
		"truncated":     remoteMagic + "\nN 2f\n",
		"bad hex":       remoteMagic + "\nN zz\nend\n",
		"bad stat":      remoteMagic + "\nS 2f 81a4 0 0\nend\n",
		"bad mode":      remoteMagic + "\nS 2f 8x 0 0 1\nend\n",
		"negative id":   remoteMagic + "\nS 2f 81a4 -1 0 1\nend\n",
		"unknown":       remoteMagic + "\nZ 2f\nend\n",
		"empty path":    remoteMagic + "\nQ \nend\n",
		"slash in name": remoteMagic + "\nD 2f 612f62\nend\n",
	}
	for name, in := range tests {
		if _, err := ParseRemote([]byte(in)); err == nil {
			t.Errorf("%s: ParseRemote accepted %q", name, in)
		}
	}
}

func TestParseRemoteUncollectedPathFails(t *testing.T) {
	fsys, err := ParseRemote([]byte(remoteMagic + "\nN 2f78\nend\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Lstat("/x"); !isNotExist(err) {
		t.Errorf("Lstat(/x) = %v, want not-exist", err)
	}
	if _, err := fsys.Lstat("/y"); err == nil || isNotExist(err) {
		t.Errorf("Lstat(/y) = %v, want a 'not collected' error, never a silent absence", err)
	}
}

// TestRemoteStatsEachPathOnce: the expected files are stat'ed by the list,
// not again by the directory walk.
func TestRemoteStatsEachPathOnce(t *testing.T) {
	dash := testenv.NeedTool(t, "dash", "the remote script runs under dash to count its stat calls")
	tr := testtree.Correct(t)
	tr.Write("/srv/jupyterhub/.hubsecrets-instance", 0o600, "x\n")
	tr.Write("/srv/jupyterhub/extra", 0o600, "x\n")
	out, err := exec.Command(dash, "-c", RemoteScript(Options{Dir: tr.Path("/srv/jupyterhub")})).Output()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && (f[0] == "S" || f[0] == "N") {
			seen[f[1]]++
		}
	}
	for p, n := range seen {
		if n > 1 {
			b, _ := hex.DecodeString(p)
			t.Errorf("%s stat'ed %d times", b, n)
		}
	}
	if seen[hex.EncodeToString([]byte(tr.Path("/srv/jupyterhub/extra")))] != 1 {
		t.Error("the unexpected entry was not stat'ed")
	}
}
