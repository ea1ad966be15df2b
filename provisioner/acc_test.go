package provisioner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// accEnv is the acceptance test's world: Packer v1.15.0 built from the
// module proxy, the plugin installed in a private plugin path, the
// hubsecrets CLI, and a Debian root served by a chrooted sshd on 127.0.0.1.
type accEnv struct {
	repo, root, port, key, cli, work string
}

// TestAccProvisioner runs real `packer build`s of examples/local against the
// throwaway root (scripts/testenv/sshd-root.sh), then checks the root with
// openssl and `hubsecrets check --profile image`. It needs root, debootstrap
// (the root is cached after the first run) and the Go module proxy once.
//
//	PACKER_ACC=1 go test -count=1 -run TestAcc -v ./provisioner
func TestAccProvisioner(t *testing.T) {
	if os.Getenv(acctest.TestEnvVar) == "" { // opt-in: make e2e-provisioner runs it (CI does)
		t.Skipf("acceptance test: set %s=1 (needs root and debootstrap)", acctest.TestEnvVar)
	}
	env := setupAcc(t)
	example := env.read(t, "examples/local/build.pkr.hcl")

	// A build as root, then as a sudoer with use_sudo, then as a sudoer
	// without it (elevated with sudo -n, as check --ssh does), each on a
	// clean root.
	for _, tc := range []struct{ name, user, sudo string }{
		{"root", "root", "false"},
		{"sudo", "builder", "true"},
		{"auto_sudo", "builder", "false"},
	} {
		env.reset(t)
		report := filepath.Join(env.work, "report-"+tc.name+".json")
		env.build(t, "jupyterhub_"+tc.name, example, []string{
			"-var", "ssh_username=" + tc.user, "-var", "use_sudo=" + tc.sudo, "-var", "report_file=" + report,
		}, func(log string) error {
			if err := env.checkImage(); err != nil {
				return err
			}
			return checkJSONReport(report)
		})
	}

	// A hub that ran during the build left a secret: removed, loudly.
	env.reset(t)
	env.bake(t)
	env.build(t, "jupyterhub_remove", example, nil, func(log string) error {
		for _, want := range []string{"!!! WARNING", "!!!   /srv/jupyterhub/" + layout.CookieSecretFile, "may survive in the disk snapshot"} {
			if !strings.Contains(log, want) {
				return fmt.Errorf("build output lacks %q", want)
			}
		}
		if strings.Contains(log, "0123456789abcdef") {
			return errors.New("the secret's value is in the build output")
		}
		return env.checkImage()
	})

	// ... or fails the build, changing nothing.
	env.reset(t)
	env.bake(t)
	env.buildFails(t, "jupyterhub_fail", example, []string{"-var", "existing_secrets=fail"}, func(log string) error {
		if !strings.Contains(log, `existing_secrets = "fail": the image already holds per-instance secrets (/srv/jupyterhub/`+layout.CookieSecretFile) {
			return errors.New(`no existing_secrets = "fail" error naming the secret`)
		}
		if _, err := os.Lstat(env.path(filepath.Join(layout.DefaultDir, layout.CookieSecretFile))); err != nil {
			return fmt.Errorf("fail mode touched the secret: %v", err)
		}
		if _, err := os.Lstat(env.path(layout.UnitPath)); !errors.Is(err, os.ErrNotExist) {
			return errors.New("fail mode installed the unit anyway")
		}
		return nil
	})

	// sudo that wants a password: a clear error, not a hang.
	env.reset(t)
	env.buildFails(t, "jupyterhub_needspw", example, []string{"-var", "ssh_username=needspw", "-var", "use_sudo=false"}, func(log string) error {
		if !strings.Contains(log, `needs passwordless sudo for "needspw"`) {
			return errors.New("no passwordless-sudo error naming the user")
		}
		return nil
	})

	// Twice in one build, the second with existing_secrets = "fail" and
	// DH parameters generated on the build host: harmless.
	env.reset(t)
	env.build(t, "jupyterhub_twice", env.read(t, "provisioner/testdata/twice.pkr.hcl"), nil, func(log string) error {
		if n := strings.Count(log, "Verified: no deny findings"); n != 2 {
			return fmt.Errorf("%d verified runs, want 2", n)
		}
		if !strings.Contains(log, "Generated 2048-bit DH parameters") {
			return errors.New("no DH parameters generated on the build host")
		}
		return env.checkImage()
	})

	// A site policy's deny fails the build, printed as the CLI prints it.
	env.reset(t)
	sitePolicy := strings.Replace(example, "report_format    = \"json\"",
		"report_format    = \"json\"\n    policy_dirs      = [\""+filepath.Join(env.repo, "provisioner/testdata/policy")+"\"]", 1)
	env.buildFails(t, "jupyterhub_site", sitePolicy, nil, func(log string) error {
		for _, want := range []string{"SITE001", "/srv/jupyterhub has mode 0755", "the image fails 1 check(s)"} {
			if !strings.Contains(log, want) {
				return fmt.Errorf("build output lacks %q", want)
			}
		}
		return nil
	})

	// Bad settings fail validate and build, naming the fields.
	bad := env.read(t, "provisioner/testdata/bad.pkr.hcl")
	wantFields := []string{`directory "srv/jupyterhub"`, "dhparam_bits 1024"}
	out, err := env.packer(t, "validate", bad)
	if err == nil {
		t.Errorf("packer validate accepted the bad template:\n%s", out)
	}
	for _, f := range wantFields {
		if !strings.Contains(out, f) {
			t.Errorf("packer validate does not name %s:\n%s", f, out)
		}
	}
	env.buildFails(t, "jupyterhub_bad", bad, nil, func(log string) error {
		for _, f := range wantFields {
			if !strings.Contains(log, f) {
				return fmt.Errorf("packer build does not name %s", f)
			}
		}
		return nil
	})
}

func setupAcc(t *testing.T) *accEnv {
	if os.Geteuid() != 0 {
		t.Fatal("the acceptance test needs root: debootstrap, chroot and sshd")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	env := &accEnv{repo: repo, work: t.TempDir()}
	// acctest writes templates and logs into the working directory; keep
	// them where they outlive the test when it fails.
	t.Chdir(env.work)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		keep := filepath.Join(repo, ".cache", "acc-logs")
		os.RemoveAll(keep)
		os.MkdirAll(keep, 0o755)
		for _, pattern := range []string{"*.txt", "*.pkr.hcl", "*.json"} {
			matches, _ := filepath.Glob(filepath.Join(env.work, pattern))
			for _, m := range matches {
				if b, err := os.ReadFile(m); err == nil {
					os.WriteFile(filepath.Join(keep, filepath.Base(m)), b, 0o644)
				}
			}
		}
		t.Logf("packer logs and templates kept in %s", keep)
	})

	packerBin := strings.TrimSpace(env.run(t, filepath.Join(repo, "scripts/testenv/packer.sh")))
	t.Setenv("PATH", filepath.Dir(packerBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	// Nothing leaves 127.0.0.1, and nothing touches the user's Packer setup.
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("PACKER_PLUGIN_PATH", filepath.Join(env.work, "plugins"))
	t.Setenv("PACKER_CONFIG_DIR", filepath.Join(env.work, "config"))

	plugin := filepath.Join(env.work, "packer-plugin-jupyterhub")
	env.cli = filepath.Join(env.work, "hubsecrets")
	env.runIn(t, repo, "go", "build", "-o", plugin, "./cmd/packer-plugin-jupyterhub")
	env.runIn(t, repo, "go", "build", "-o", env.cli, "./cmd/hubsecrets")
	env.run(t, packerBin, "plugins", "install", "--path", plugin, "github.com/hubsecrets/jupyterhub")

	out := env.run(t, filepath.Join(repo, "scripts/testenv/sshd-root.sh"), "start", filepath.Join(env.work, "sshd"))
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	t.Cleanup(func() {
		// Kills sshd and its sessions, unmounts /proc, removes the root.
		cmd := exec.Command(filepath.Join(repo, "scripts/testenv/sshd-root.sh"), "stop", filepath.Join(env.work, "sshd"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sshd-root.sh stop: %v\n%s", err, out)
		}
	})
	env.root, env.port, env.key = vars["HUBSECRETS_SSH_ROOT"], vars["HUBSECRETS_SSH_PORT"], vars["HUBSECRETS_SSH_KEY"]
	if env.root == "" || env.port == "" || env.key == "" {
		t.Fatalf("sshd-root.sh start printed no environment:\n%s", out)
	}
	return env
}

func (e *accEnv) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return e.runIn(t, "", name, args...)
}

func (e *accEnv) runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

func (e *accEnv) read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *accEnv) path(image string) string { return filepath.Join(e.root, image) }

func (e *accEnv) vars() []string {
	return []string{"-var", "ssh_port=" + e.port, "-var", "ssh_private_key_file=" + e.key}
}

// packer runs one packer command on a template and returns its output.
func (e *accEnv) packer(t *testing.T, command, template string) (string, error) {
	t.Helper()
	f := filepath.Join(e.work, command+".pkr.hcl")
	if err := os.WriteFile(f, []byte(template), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("packer", append(append([]string{command}, e.vars()...), f)...).CombinedOutput()
	return string(out), err
}

// reset removes everything the provisioner installs, and any secret.
func (e *accEnv) reset(t *testing.T) {
	t.Helper()
	for _, p := range []string{layout.DefaultDir, filepath.Dir(layout.ScriptPath), layout.UnitPath,
		filepath.Dir(layout.DropInPath(layout.DefaultHubUnit)), layout.WantsLink} {
		if err := os.RemoveAll(e.path(p)); err != nil {
			t.Fatal(err)
		}
	}
}

// bake leaves a cookie secret in the image, as a hub started during the
// build would.
func (e *accEnv) bake(t *testing.T) {
	t.Helper()
	dir := e.path(layout.DefaultDir)
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, layout.CookieSecretFile), []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *accEnv) build(t *testing.T, name, template string, args []string, check func(log string) error) {
	t.Helper()
	e.buildCase(t, name, template, args, true, check)
}

func (e *accEnv) buildFails(t *testing.T, name, template string, args []string, check func(log string) error) {
	t.Helper()
	e.buildCase(t, name, template, args, false, check)
}

// buildCase runs `packer build` through the SDK's acctest and checks the
// exit status, then check(log) with Packer's log, which holds the UI output.
func (e *accEnv) buildCase(t *testing.T, name, template string, args []string, succeed bool, check func(log string) error) {
	t.Helper()
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:           name,
		Type:           "jupyterhub-secrets",
		Template:       template,
		BuildExtraArgs: append(e.vars(), args...),
		Check: func(cmd *exec.Cmd, logfile string) error {
			b, err := os.ReadFile(logfile)
			if err != nil {
				return err
			}
			log := string(b)
			if code := cmd.ProcessState.ExitCode(); (code == 0) != succeed {
				return fmt.Errorf("%s: packer build exited %d, want success=%v", name, code, succeed)
			}
			return check(log)
		},
	})
}

// checkImage checks the root as an image builder would: the directory, valid
// DH parameters, the enabled unit, no secret, and the CLI's image profile.
func (e *accEnv) checkImage() error {
	dir := e.path(layout.DefaultDir)
	for p, want := range map[string]os.FileMode{
		dir:                               os.ModeDir | 0o755,
		filepath.Join(dir, "dhparam.pem"): 0o600,
		e.path(layout.ScriptPath):         0o755,
		e.path(layout.UnitPath):           0o644,
		e.path(layout.DropInPath("jupyterhub.service")): 0o644,
	} {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode() != want {
			return fmt.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
	if target, err := os.Readlink(e.path(layout.WantsLink)); err != nil || target != layout.UnitPath {
		return fmt.Errorf("unit not enabled: %s -> %q (%v)", layout.WantsLink, target, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) != 1 || entries[0].Name() != "dhparam.pem" {
		return fmt.Errorf("%s holds %v, want only dhparam.pem", layout.DefaultDir, entries)
	}
	if out, err := exec.Command("openssl", "dhparam", "-check", "-noout", "-in", filepath.Join(dir, "dhparam.pem")).CombinedOutput(); err != nil {
		return fmt.Errorf("openssl dhparam -check: %v\n%s", err, out)
	}
	if out, err := exec.Command(e.cli, "check", "--root", e.root, "--profile", "image").CombinedOutput(); err != nil {
		return fmt.Errorf("hubsecrets check --profile image: %v\n%s", err, out)
	}
	return nil
}

func checkJSONReport(name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("report_file: %w", err)
	}
	var v interface{}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("report_file %s is not JSON: %w", name, err)
	}
	return nil
}
