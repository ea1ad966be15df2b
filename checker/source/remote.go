package source

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/contract"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// The remote collector runs one POSIX sh command on the target (over SSH or
// Packer's communicator) that prints what Collect needs, and ParseRemote
// turns that output into an FS. It needs only sh, stat, head, od and tr, as
// in GNU coreutils and busybox, and awk when nginx's configuration exists.
// Every path, name and byte is hex-encoded, so no file name or content can
// break the framing.
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
//	R Hpath Hcontent                   first bytes of a configuration file, symlinks followed
//	Q Hpath                            a configuration file that does not exist (followed)
//	W Hpath Hmessage                   one that is not a regular file (followed)
//	X Hpath Hmessage                   one that could not be read
//	G Hpattern [Hmatch]                an include pattern was expanded [to this match]
//	end
//
// Every planned path is walked on the target as Collect resolves it
// (resolve.go): wk stats each component it traverses ("/" first), follows
// the symlinks in the parents with readlink (at most 40), and leaves the
// path it resolved to in $wr, through which files are read (C) and the
// secrets directory listed (D); that directory itself is never followed,
// and what is in it is observed only when it is a directory. So ParseRemote's
// FS answers every Lstat the resolver makes, with the paths it makes them.
//
// Configuration files are read on the target as their programs read them
// (following symlinks): the hub's jupyterhub_config.py, and nginx's main
// file and everything its include directives name, found by a small awk
// reading of nginx's syntax (quotes, escapes, comments), expanded by the
// shell's own globbing (glob(3)'s rules), within hubconfig's bounds; and
// every ssl_dhparam file. The awk reading only chooses what to send: the
// Go side parses with nginx-go-crossplane, and what it asks for and the
// command did not send is an error, never a silent absence.
const remoteMagic = "hubsecrets-remote 1"

// remotePlan lists what Collect will ask of an FS for the given options.
type remotePlan struct {
	stat []string         // Lstat
	read map[string]int64 // ReadPrefix limits, by path
	list string           // ReadDir (its entries are stat'ed too, but for the known names, stat'ed already)
	// listRead is how much of each regular file in list is read (the
	// small ones are compared with the secrets: findCopies).
	listRead int64
	// parent is the secrets directory's parent, listed (up to
	// maxParentEntries others) with its entries stat'ed and read up to
	// listRead: parentCopies. Empty when the parent is /.
	parent string
	// Configuration files, read following symlinks.
	hubConfig, nginxConfig string
}

func planFor(opt Options) remotePlan {
	opt = opt.withDefaults()
	p := remotePlan{read: map[string]int64{}, list: opt.Dir, listRead: copyReadLimit + 1, hubConfig: opt.HubConfig, nginxConfig: opt.NginxConfig}
	p.stat = append(p.stat, "/etc/passwd", "/etc/group", opt.Dir, layout.MachineIDPath)
	if parent := path.Dir(opt.Dir); parent != "/" {
		p.parent = parent
		p.stat = append(p.stat, parent)
	}
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
		layout.DropInPath(opt.HubUnit), path.Join(opt.Dir, layout.StampFile), layout.ContractPath)
	p.read[layout.ContractPath] = contract.MaxSize + 1
	p.read[path.Join(opt.Dir, layout.StampFile)] = stampReadLimit
	idStat, idRead := identityPaths()
	fbStat, fbRead := firstbootPaths(opt.HubUnit)
	idStat = append(append(append(idStat, fbStat...), identityFiles...), systemdPaths(opt.HubUnit)...)
	maps.Copy(idRead, fbRead)
	for _, q := range idStat {
		if !slices.Contains(p.stat, q) {
			p.stat = append(p.stat, q)
		}
	}
	for k, v := range idRead {
		p.read[k] = v
	}
	return p
}

// remoteFuncs are the shell functions the remote command is built from.
// ls1 lists a directory and stats its entries, except the names already
// stat'ed by the list before it (KNOWN).
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
sx() { case "$NL$wseen$NL" in *"$NL$1$NL"*) ;; *) wseen=$wseen$NL$1; st "$1" ;; esac; }
wk() {
	wq=$1 wc= wn=0 wr=
	sx /
	while :; do
		while [ "${wq#/}" != "$wq" ]; do wq=${wq#/}; done
		[ -n "$wq" ] || { wr=${wc:-/}; return 0; }
		c=${wq%%/*}
		case $wq in */*) wq=${wq#*/} ;; *) wq= ;; esac
		case $c in .) continue ;; ..) wc=${wc%/*}; continue ;; esac
		while [ "${wq#/}" != "$wq" ]; do wq=${wq#/}; done
		p=$wc/$c
		sx "$p"
		if [ -z "$wq" ]; then wr=$p; return 0; fi
		if [ -h "$p" ]; then
			wn=$((wn + 1)); [ "$wn" -le MAXLINKS ] || return 0
			t=$(readlink -- "$p"); [ -n "$t" ] || return 0
			case $t in /*) wc= ;; esac
			wq=$t/$wq
			continue
		fi
		[ -d "$p" ] || return 0
		wc=$p
	done
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
		n=$((n + 1)); [ "$n" -le MAXLIST ] || break
		echo "D $(hx "$1") $(hx "${e##*/}")"
		case ${e##*/} in KNOWN) ;; *) st "$e"; rd "$e" LISTREAD ;; esac
	done
}
lsp() {
	[ -d "$1" ] && [ ! -h "$1" ] || return 0
	n=0
	for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$e" ] || [ -h "$e" ] || continue
		n=$((n + 1)); [ "$n" -le MAXPARENT ] || break
		echo "D $(hx "$1") $(hx "${e##*/}")"
		[ "$e" = "$2" ] || { st "$e"; rd "$e" LISTREAD; }
	done
}
rf() {
	if [ ! -e "$1" ]; then echo "Q $(hx "$1")"; return 1; fi
	if [ ! -f "$1" ]; then echo "W $(hx "$1") $(hx 'not a regular file')"; return 1; fi
	if [ ! -r "$1" ]; then echo "X $(hx "$1") $(hx 'permission denied: run as root or with sudo')"; return 1; fi
	h=$(head -c "$2" -- "$1" | od -An -v -tx1 | tr -d ' \n')
	echo "R $(hx "$1") $h"
	rfbytes=$((${#h} / 2))
}
NL='
'
TAB=$(printf '\t')
NGXAWK='BEGIN { sq = sprintf("%c", 39); n = 0; q = ""; tok = ""; intok = 0 }
function emit() { if (intok) { t[n++] = tok; tok = ""; intok = 0 } }
function stmt(term) {
	emit()
	if (term == ";" && n == 2 && index(t[1], "\n") == 0) {
		if (t[0] == "include") print "i\t" t[1]
		if (t[0] == "ssl_dhparam") print "d\t" t[1]
	}
	n = 0
}
{
	line = $0; L = length(line)
	for (i = 1; i <= L; i++) {
		c = substr(line, i, 1)
		if (q != "") {
			if (c == "\\" && i < L) { i++; d = substr(line, i, 1); if (d == q) tok = tok d; else tok = tok c d; continue }
			if (c == q) { q = ""; t[n++] = tok; tok = ""; intok = 0; continue }
			tok = tok c; continue
		}
		if (c == "#" && !intok) break
		if (c == " " || c == "\t" || c == "\r") { emit(); continue }
		if (c == ";" || c == "{" || c == "}") { stmt(c); continue }
		if ((c == "\"" || c == sq) && !intok) { q = c; intok = 1; continue }
		if (c == "\\" && i < L) { i++; tok = tok c substr(line, i, 1); intok = 1; continue }
		tok = tok c; intok = 1
	}
	if (q != "") tok = tok "\n"; else emit()
}'
gl() {
	echo "G $(hx "$1")"
	gn=0 o=$IFS
	IFS=
	for m in $1; do
		IFS=$o
		if [ -e "$m" ] || [ -h "$m" ]; then
			gn=$((gn + 1))
			if [ "$gn" -gt MAXGLOB ]; then echo "X $(hx "$1") $(hx 'more than MAXGLOB matches')"; break; fi
			echo "G $(hx "$1") $(hx "$m")"; ngxq=$ngxq$NL$m
		fi
		IFS=
	done
	IFS=$o
}
ngx() {
	rf "$1" 1 >/dev/null || { rf "$1" MAXREAD; return 0; }
	if ! command -v awk >/dev/null 2>&1; then
		echo "X $(hx "$1") $(hx 'awk not found: the remote collector needs it to follow nginx include directives')"; return 0
	fi
	pre=${1%/*}; [ -n "$pre" ] || pre=/
	ngxq=$1 seen= nf=0 tot=0 dhs=
	while [ -n "$ngxq" ]; do
		f=${ngxq%%"$NL"*}
		case $ngxq in *"$NL"*) ngxq=${ngxq#*"$NL"} ;; *) ngxq= ;; esac
		[ -n "$f" ] || continue
		case "$NL$seen$NL" in *"$NL$f$NL"*) continue ;; esac
		seen=$seen$NL$f
		nf=$((nf + 1)); [ "$nf" -le MAXFILES ] || break
		[ "$tot" -le MAXTOTAL ] || break
		rfbytes=0
		rf "$f" MAXREAD || continue
		tot=$((tot + rfbytes))
		refs=$(awk "$NGXAWK" "$f" 2>/dev/null) || refs=
		while IFS= read -r r; do
			[ -n "$r" ] || continue
			k=${r%%"$TAB"*} a=${r#*"$TAB"}
			case $a in /*) ;; *) a=$pre/$a ;; esac
			case $k in
			i) case $a in *[*?[]*) gl "$a" ;; *) ngxq=$ngxq$NL$a ;; esac ;;
			d) case "$NL$dhs$NL" in *"$NL$a$NL"*) ;; *) dhs=$dhs$NL$a; wk "$a"; rf "$a" DHREAD || : ;; esac ;;
			esac
		done <<HUBSECRETS_EOF
$refs
HUBSECRETS_EOF
	done
}
`

// RemoteScript returns the command that collects, on the target, what
// Collect needs for opt. Run it as root (or through sudo): secrets are 0600.
func RemoteScript(opt Options) string {
	p := planFor(opt)
	var b strings.Builder
	b.WriteString("LC_ALL=C; export LC_ALL; umask 077\n")
	known := []string{layout.StampFile, layout.LockFile}
	for _, e := range expected {
		known = append(known, e.name)
	}
	b.WriteString(strings.NewReplacer(
		"MAXLIST", strconv.Itoa(maxUnexpected+len(expected)+3),
		"LISTREAD", strconv.FormatInt(p.listRead, 10),
		"MAXPARENT", strconv.Itoa(maxParentEntries+2),
		"KNOWN", shCasePattern(known),
		"MAXREAD", strconv.Itoa(hubconfig.MaxFileSize+1),
		"MAXFILES", strconv.Itoa(hubconfig.MaxFiles),
		"MAXTOTAL", strconv.Itoa(hubconfig.MaxTotal),
		"MAXGLOB", strconv.Itoa(maxGlobMatches),
		"DHREAD", strconv.Itoa(dhparamReadLimit+1),
		"MAXLINKS", strconv.Itoa(maxSymlinks),
	).Replace(remoteFuncs))
	b.WriteString("echo '" + remoteMagic + "'\n")
	// Every path is walked as Collect resolves it (resolve.go): each
	// component stat'ed, symlinks in the parents followed; the secrets
	// directory is never followed, and what is in it is read through the
	// path it resolved to (dr), when it is a directory.
	fmt.Fprintf(&b, "wk %s; dr=$wr; [ -d \"$dr\" ] && [ ! -h \"$dr\" ] || dr=\n", shQuote(p.list))
	where := func(q string) string {
		if path.Dir(q) == p.list {
			return "[ -z \"$dr\" ] || %s \"$dr\"/" + shQuote(path.Base(q))
		}
		return "wk " + shQuote(q) + "; %s \"$wr\""
	}
	for _, s := range p.stat {
		if path.Dir(s) == p.list {
			fmt.Fprintf(&b, where(s)+"\n", "sx")
		} else {
			fmt.Fprintf(&b, "wk %s\n", shQuote(s))
		}
	}
	reads := make([]string, 0, len(p.read))
	for r := range p.read {
		reads = append(reads, r)
	}
	sort.Strings(reads)
	for _, r := range reads {
		fmt.Fprintf(&b, where(r)+" %d\n", "rd", p.read[r])
	}
	b.WriteString("ls1 \"$dr\"\n")
	if p.parent != "" {
		fmt.Fprintf(&b, "lsp %s %s\n", shQuote(p.parent), shQuote(p.list))
	}
	fmt.Fprintf(&b, "rf %s %d || :\n", shQuote(p.hubConfig), hubconfig.MaxFileSize+1)
	fmt.Fprintf(&b, "ngx %s\n", shQuote(p.nginxConfig))
	b.WriteString("echo end\n")
	return b.String()
}

// shCasePattern is a case pattern matching exactly the given names.
func shCasePattern(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = shQuote(n)
	}
	return strings.Join(q, "|")
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
	// Configuration files, read on the target following symlinks: their
	// content, or why there is none.
	config    map[string][]byte
	configErr map[string]error
	globs     map[string][]string
	globErr   map[string]error
}

// ParseRemote parses RemoteScript's output. An FS method asked about a path
// the output does not cover fails rather than guessing it absent.
func ParseRemote(out []byte) (FS, error) {
	m := &memFS{
		nodes: map[string]Node{}, missing: map[string]bool{}, errs: map[string]error{},
		entries: map[string][]string{}, content: map[string][]byte{},
		config: map[string][]byte{}, configErr: map[string]error{},
		globs: map[string][]string{}, globErr: map[string]error{},
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
	// The shell joins relative include arguments to nginx's prefix without
	// cleaning them; Go asks with clean paths.
	p = path.Clean(p)
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
	case "R":
		c, err := arg(2)
		if err != nil {
			return err
		}
		m.config[p] = []byte(c)
	case "Q":
		m.configErr[p] = &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	case "W", "X":
		msg, err := arg(2)
		if err != nil {
			return err
		}
		if f[0] == "W" {
			m.configErr[p] = fmt.Errorf("%s: %s: %w", p, msg, hubconfig.ErrNotRegular)
		} else {
			m.configErr[p] = fmt.Errorf("%s: %s", p, msg)
			m.globErr[p] = m.configErr[p]
		}
	case "G":
		match, err := arg(2)
		if err != nil {
			return err
		}
		if _, ok := m.globs[p]; !ok {
			m.globs[p] = []string{}
		}
		if match != "" {
			m.globs[p] = append(m.globs[p], path.Clean(match))
		}
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

func (m *memFS) recordedRead(p string, n int64) ([]byte, error, bool) {
	if err, ok := m.configErr[p]; ok {
		return nil, err, true
	}
	c, ok := m.config[p]
	if !ok {
		return nil, nil, false
	}
	if int64(len(c)) > n {
		c = c[:max(n, 0)]
	}
	return append([]byte(nil), c...), nil, true
}

func (m *memFS) recordedGlob(pattern string) ([]string, error, bool) {
	if err, ok := m.globErr[pattern]; ok {
		return nil, err, true
	}
	g, ok := m.globs[pattern]
	if !ok {
		return nil, nil, false
	}
	out := append([]string(nil), g...)
	sort.Strings(out)
	return out, nil, true
}
