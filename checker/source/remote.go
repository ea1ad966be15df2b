package source

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// The remote collector runs one POSIX sh command on the target (over SSH or
// Packer's communicator) that prints what Collect needs, and ParseRemote
// turns that output into an FS. It needs only sh, stat, head, od and tr, as
// in GNU coreutils and busybox. Every path, name and byte is hex-encoded, so
// no file name or content can break the framing.
//
// Records, one per line (H = hex):
//
//	hubsecrets-remote 1
//	S Hpath rawmode-hex uid gid size   lstat result
//	N Hpath                            does not exist
//	E Hpath Hmessage                   could not be observed
//	L Hpath Htarget                    symlink target
//	D Hdir Hname                       directory entry
//	C Hpath Hcontent                   first bytes of a regular file
//	end
const remoteMagic = "hubsecrets-remote 1"

// remotePlan lists what Collect will ask of an FS for the given options.
type remotePlan struct {
	stat []string         // Lstat
	read map[string]int64 // ReadPrefix limits, by path
	list string           // ReadDir (its entries are stat'ed too)
}

func planFor(opt Options) remotePlan {
	opt = opt.withDefaults()
	p := remotePlan{read: map[string]int64{}, list: opt.Dir}
	p.stat = append(p.stat, "/etc/passwd", "/etc/group", opt.Dir, layout.MachineIDPath)
	p.read["/etc/passwd"] = accountReadLimit
	p.read["/etc/group"] = accountReadLimit
	p.read[layout.MachineIDPath] = 64
	for _, e := range expected {
		fp := path.Join(opt.Dir, e.name)
		p.stat = append(p.stat, fp)
		if e.key == facts.DHParam {
			p.read[fp] = dhparamReadLimit + 1
		} else {
			p.read[fp] = secretReadLimit + 1
		}
	}
	p.stat = append(p.stat, layout.ScriptPath, layout.UnitPath, layout.WantsLink,
		layout.DropInPath(opt.HubUnit), path.Join(opt.Dir, layout.StampFile))
	return p
}

// remoteFuncs are the shell functions the remote command is built from.
const remoteFuncs = `hx() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
st() {
	if [ ! -e "$1" ] && [ ! -h "$1" ]; then echo "N $(hx "$1")"; return; fi
	if s=$(stat -c '%f %u %g %s' -- "$1" 2>/dev/null); then :
	elif t=$(stat -t -- "$1" 2>/dev/null); then
		set -- "$1" ${t#"$1 "}; s="$4 $5 $6 $2"
	else echo "E $(hx "$1") $(hx 'stat failed')"; return; fi
	echo "S $(hx "$1") $s"
	if [ -h "$1" ]; then echo "L $(hx "$1") $(hx "$(readlink -- "$1")")"; fi
}
rd() {
	if [ -f "$1" ] && [ ! -h "$1" ]; then
		if [ -r "$1" ]; then echo "C $(hx "$1") $(head -c "$2" -- "$1" | od -An -v -tx1 | tr -d ' \n')"
		else echo "E $(hx "$1") $(hx 'permission denied: run as root or with sudo')"; fi
	fi
}
ls1() {
	[ -d "$1" ] && [ ! -h "$1" ] || return 0
	n=0
	for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$e" ] || [ -h "$e" ] || continue
		n=$((n + 1)); [ "$n" -le ` + "MAXLIST" + ` ] || break
		echo "D $(hx "$1") $(hx "${e##*/}")"; st "$e"
	done
}
`

// RemoteScript returns the command that collects, on the target, what
// Collect needs for opt. Run it as root (or through sudo): secrets are 0600.
func RemoteScript(opt Options) string {
	p := planFor(opt)
	var b strings.Builder
	b.WriteString("LC_ALL=C; export LC_ALL; umask 077\n")
	b.WriteString(strings.Replace(remoteFuncs, "MAXLIST", strconv.Itoa(maxUnexpected+len(expected)+3), 1))
	b.WriteString("echo '" + remoteMagic + "'\n")
	for _, s := range p.stat {
		fmt.Fprintf(&b, "st %s\n", shQuote(s))
	}
	reads := make([]string, 0, len(p.read))
	for r := range p.read {
		reads = append(reads, r)
	}
	sort.Strings(reads)
	for _, r := range reads {
		fmt.Fprintf(&b, "rd %s %d\n", shQuote(r), p.read[r])
	}
	fmt.Fprintf(&b, "ls1 %s\n", shQuote(p.list))
	b.WriteString("echo end\n")
	return b.String()
}

// shQuote quotes s for POSIX sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// memFS is an FS built from a remote collector's output.
type memFS struct {
	nodes   map[string]Node
	missing map[string]bool
	errs    map[string]error
	entries map[string][]string
	content map[string][]byte
}

// ParseRemote parses RemoteScript's output. An FS method asked about a path
// the output does not cover fails rather than guessing it absent.
func ParseRemote(out []byte) (FS, error) {
	m := &memFS{
		nodes: map[string]Node{}, missing: map[string]bool{}, errs: map[string]error{},
		entries: map[string][]string{}, content: map[string][]byte{},
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 2*accountReadLimit+1<<10)
	line, ended := 0, false
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			if text != remoteMagic {
				return nil, fmt.Errorf("remote collector: unexpected first line %q: the command did not run as expected (a login banner or a shell without stat/od?)", truncate(text, 80))
			}
			continue
		}
		if text == "end" {
			ended = true
			break
		}
		if err := m.record(text); err != nil {
			return nil, fmt.Errorf("remote collector: line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("remote collector: %w", err)
	}
	if !ended {
		return nil, errors.New("remote collector: output ended early (the command was interrupted or failed part way)")
	}
	return m, nil
}

func (m *memFS) record(text string) error {
	f := strings.Fields(text)
	if len(f) < 2 {
		return fmt.Errorf("malformed record %q", truncate(text, 40))
	}
	p, err := unhex(f[1])
	if err != nil {
		return err
	}
	arg := func(i int) (string, error) {
		if len(f) <= i {
			return "", nil // an empty hex field (empty file, empty target)
		}
		return unhex(f[i])
	}
	switch f[0] {
	case "S":
		if len(f) != 6 {
			return fmt.Errorf("stat record for %s: want 4 fields, got %d", p, len(f)-2)
		}
		n, err := parseStat(f[2:])
		if err != nil {
			return fmt.Errorf("stat record for %s: %w", p, err)
		}
		m.nodes[p] = n
	case "N":
		m.missing[p] = true
	case "E":
		msg, err := arg(2)
		if err != nil {
			return err
		}
		m.errs[p] = errors.New(msg)
	case "L":
		t, err := arg(2)
		if err != nil {
			return err
		}
		n := m.nodes[p]
		n.LinkTarget = t
		m.nodes[p] = n
	case "D":
		name, err := arg(2)
		if err != nil {
			return err
		}
		if name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("bad entry name in %s", p)
		}
		m.entries[p] = append(m.entries[p], name)
	case "C":
		c, err := arg(2)
		if err != nil {
			return err
		}
		m.content[p] = []byte(c)
	default:
		return fmt.Errorf("unknown record type %q", f[0])
	}
	return nil
}

func unhex(s string) (string, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("bad hex field: %w", err)
	}
	return string(b), nil
}

// parseStat reads "rawmode-hex uid gid size" as printed by stat %f %u %g %s.
func parseStat(f []string) (Node, error) {
	raw, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return Node{}, fmt.Errorf("mode %q: %w", f[0], err)
	}
	var ids [3]int64
	for i, s := range f[1:] {
		if ids[i], err = strconv.ParseInt(s, 10, 64); err != nil || ids[i] < 0 {
			return Node{}, fmt.Errorf("field %q is not a number", s)
		}
	}
	n := Node{Mode: int(raw & 0o7777), UID: int(ids[0]), GID: int(ids[1]), Size: ids[2]}
	switch raw & 0o170000 {
	case 0o100000:
		n.Type = facts.TypeFile
	case 0o040000:
		n.Type = facts.TypeDir
	case 0o120000:
		n.Type = facts.TypeSymlink
	default:
		n.Type = facts.TypeOther
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func (m *memFS) Lstat(p string) (Node, error) {
	if n, ok := m.nodes[p]; ok {
		return n, nil
	}
	if m.missing[p] {
		return Node{}, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
	}
	if err, ok := m.errs[p]; ok {
		return Node{}, err
	}
	return Node{}, fmt.Errorf("%s: not collected by the remote command", p)
}

func (m *memFS) ReadDir(p string) ([]string, error) {
	if n, ok := m.nodes[p]; !ok || n.Type != facts.TypeDir {
		return nil, fmt.Errorf("%s: not a directory the remote command listed", p)
	}
	return append([]string(nil), m.entries[p]...), nil
}

func (m *memFS) ReadPrefix(p string, n int64) ([]byte, error) {
	if err, ok := m.errs[p]; ok {
		return nil, err
	}
	c, ok := m.content[p]
	if !ok {
		return nil, fmt.Errorf("%s: content not collected by the remote command", p)
	}
	if int64(len(c)) > n {
		c = c[:n]
	}
	return append([]byte(nil), c...), nil
}
