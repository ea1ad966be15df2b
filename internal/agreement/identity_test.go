package agreement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// TestIdentityAgrees: the collector reads the instance identity as the
// first-boot script does: over combinations of the four sources
// (present, absent, or holding an id that tells nothing), cloud-init having
// run on this boot or not, a container marker, and a transient machine-id,
// the source the collector names is the one whose id the script records.
func TestIdentityAgrees(t *testing.T) {
	testenv.NeedRoot(t, "the script gives files to root")
	sh := testShells(t)[0]
	prm := paramsWith(t, nil)
	values := [][]string{
		{"-", "i-run\n", "iid-datasource-none\n"}, // /run/cloud-init/.instance-id
		{"-", "i-data\n", ""},                     // /var/lib/cloud/data/instance-id
		{"-", "4c4c4544-0042-3510-8052-b4c04f4e4d32\n", "03000200-0400-0500-0006-000700080009\n"}, // DMI
		{"-", "4b6f1c0e9d2a4c8e8f3a2b1c0d9e8f7a\n", "uninitialized\n"},                            // machine-id
	}
	n, combo := 0, 0
	for a := range values[0] {
		for b := range values[1] {
			for c := range values[2] {
				for d := range values[3] {
					for env := 0; env < 8; env++ {
						// A quarter of the 648 combinations, every source value and
						// environment among them: each run forks a dozen processes.
						if combo++; combo%4 != 0 {
							continue
						}
						ran, container, transient := env&1 != 0, env&2 != 0, env&4 != 0
						name := fmt.Sprintf("run=%d data=%d dmi=%d mid=%d ran=%v container=%v transient=%v", a, b, c, d, ran, container, transient)
						root := scratch(t)
						paths := []string{"/run/cloud-init/.instance-id", "/var/lib/cloud/data/instance-id", "/sys/class/dmi/id/product_uuid", layout.MachineIDPath}
						for i, v := range []string{values[0][a], values[1][b], values[2][c], values[3][d]} {
							if v == "-" {
								continue
							}
							p := filepath.Join(root, paths[i])
							must(t, os.MkdirAll(filepath.Dir(p), 0o755))
							must(t, os.WriteFile(p, []byte(v), 0o644))
						}
						if ran {
							must(t, os.MkdirAll(filepath.Join(root, "run/cloud-init"), 0o755))
						} else {
							os.Remove(filepath.Join(root, "run/cloud-init/.instance-id"))
							os.Remove(filepath.Join(root, "run/cloud-init"))
						}
						if container {
							must(t, os.MkdirAll(filepath.Join(root, "run/systemd"), 0o755))
							must(t, os.WriteFile(filepath.Join(root, "run/systemd/container"), []byte("systemd-nspawn\n"), 0o644))
						}
						must(t, os.MkdirAll(filepath.Join(root, "proc/self"), 0o755))
						var mounts string
						if transient {
							// The collector reads the root's own table; the script,
							// run here, sees the tree's path.
							mounts = fmt.Sprintf("30 25 0:26 /machine-id /etc/machine-id rw - tmpfs tmpfs rw\n31 25 0:26 /machine-id %s rw - tmpfs tmpfs rw\n",
								filepath.Join(root, layout.MachineIDPath))
						}
						must(t, os.WriteFile(filepath.Join(root, "proc/self/mountinfo"), []byte(mounts), 0o644))
						c := treeCase{prm: prm}
						if err := runHook(c, root, sh); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						stamp, err := os.ReadFile(filepath.Join(root, layout.DefaultDir, layout.StampFile))
						must(t, err)
						fsys, err := source.OpenDir(root)
						must(t, err)
						doc, err := source.Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: root}, source.Options{Live: true})
						fsys.Close()
						must(t, err)
						want := "none"
						if src := doc.Instance.Source; src != "" {
							b, err := os.ReadFile(filepath.Join(root, src))
							must(t, err)
							id := strings.Trim(strings.SplitN(string(b), "\n", 2)[0], " \t")
							sum := sha256.Sum256([]byte(id + "\n"))
							want = hex.EncodeToString(sum[:])
						}
						if got := strings.TrimSpace(string(stamp)); got != want {
							t.Errorf("%s: the collector names %q, the script recorded another identity", name, doc.Instance.Source)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d combinations agree", n)
}
