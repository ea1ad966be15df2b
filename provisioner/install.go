package provisioner

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// Exit statuses of the install script that the plugin turns into errors;
// anything else non-zero is a failed command, reported on stderr.
const (
	exitExistingSecrets = 3 // existing_secrets = "fail" and a secret is in the image
	exitNotRoot         = 4 // not running as root
	exitNoAccount       = 5 // owner or group missing in the image
	exitPathConflict    = 6 // something else sits where a directory or file goes
)

// Lines the install script prints, parsed by the plugin.
const (
	removedPrefix = "hubsecrets: removed per-instance secret "
	foundPrefix   = "hubsecrets: found per-instance secret "
)

// installPlan is everything one install script does.
type installPlan struct {
	// root prefixes every image path; empty except in tests, which run the
	// script against a temporary directory.
	root     string
	dir      string
	owner    string
	group    string
	dirMode  os.FileMode
	dhMode   os.FileMode
	existing string
	dhPEM    []byte
	payload  []firstboot.File
	// metricsDir and checkBinary, with install_check_timer (its files are
	// in payload): the directory made, the binary looked for.
	metricsDir, checkBinary string
	// collectPath, when set, is where the script stages collectScript for
	// the verification command that follows.
	collectPath   string
	collectScript string
}

// perInstance are the entries of the secrets directory that belong to one
// instance and must never be in an image. The first-boot script's
// temporary files may hold a half-written secret.
func perInstance() []string {
	return []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.StampFile}
}

// installPrelude holds the script's functions. put writes a file through a
// temporary name in the same directory, so a reader sees the old file or
// the new one; ownership and mode are set before the rename, never trusted
// from the upload.
const installPrelude = `rm -f -- "$0" # staged: nothing of it stays on the target
set -eu
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C

say() { printf 'hubsecrets: %s\n' "$*"; }
die() { c=$1; shift; printf 'hubsecrets: error: %s\n' "$*" >&2; exit "$c"; }

has_group() {
	if command -v getent >/dev/null 2>&1; then getent group "$1" >/dev/null
	else awk -F: -v g="$1" '$1 == g { found = 1 } END { exit !found }' /etc/group; fi
}

# mkparent makes the parent directories of $1 as a package would (0755).
mkparent() { (umask 022 && mkdir -p -- "$(dirname -- "$1")"); }

# put IMAGEPATH MODE OWNER GROUP CONTENT
put() {
	dst=$R$1
	if [ -d "$dst" ] && [ ! -h "$dst" ]; then die @EXIT_CONFLICT@ "$1 is a directory; remove it, a file belongs there"; fi
	mkparent "$dst"
	# Not the first-boot script's temporary prefix: a leftover of ours holds
	# nothing secret, and is removed here, on the next run.
	d=$(dirname -- "$dst") b=$(basename -- "$dst")
	rm -f -- "$d"/.hubsecrets-install.*."$b"
	tmp=$d/.hubsecrets-install.$$."$b"
	(set -C && printf '%s' "$5" >"$tmp")
	chown -- "$3:$4" "$tmp"
	chmod -- "$2" "$tmp"
	# mv onto a symlink to a directory would move into that directory.
	if [ -h "$dst" ]; then rm -f -- "$dst"; fi
	mv -f -- "$tmp" "$dst"
	say "installed $1 ($2 $3:$4)"
}

# link IMAGEPATH TARGET
link() {
	dst=$R$1
	if [ -d "$dst" ] && [ ! -h "$dst" ]; then die @EXIT_CONFLICT@ "$1 is a directory; remove it, a symlink belongs there"; fi
	mkparent "$dst"
	ln -sfn -- "$2" "$dst"
	say "linked $1 -> $2"
}

# wipe overwrites a regular file with zeros before removing it, so its
# blocks on this filesystem no longer hold the secret. A symlink is only
# removed: its target is not ours to overwrite.
wipe() {
	if [ -f "$1" ] && [ ! -h "$1" ]; then
		if command -v shred >/dev/null 2>&1; then
			shred -f -n 0 -z -- "$1"
		else
			n=$(wc -c <"$1")
			if [ "$n" -gt 0 ]; then
				dd if=/dev/zero of="$1" bs=1024 count=$(((n + 1023) / 1024)) conv=notrunc 2>/dev/null
			fi
		fi
	fi
	rm -f -- "$1"
}

[ "$(id -u)" -eq 0 ] || die @EXIT_NOT_ROOT@ "must run as root, not as $(id -un): set use_sudo = true (passwordless sudo) or connect as root"
id -u -- "$OWNER" >/dev/null 2>&1 || die @EXIT_NO_ACCOUNT@ "owner: user $OWNER does not exist in the image; create it before this provisioner (e.g. useradd --system $OWNER) or change owner"
has_group "$GROUP" || die @EXIT_NO_ACCOUNT@ "group: group $GROUP does not exist in the image; create it before this provisioner (e.g. groupadd --system $GROUP) or change group"

D=$R$DIR
if [ -h "$D" ]; then die @EXIT_CONFLICT@ "directory: $DIR is a symlink in the image; replace it with a real directory"; fi
if [ -e "$D" ] && [ ! -d "$D" ]; then die @EXIT_CONFLICT@ "directory: $DIR exists and is not a directory; remove it"; fi

# Per-instance secrets first, before anything changes.
found=0
for f in @SECRETS@ "$D"/@TEMP@*; do
	[ -e "$f" ] || [ -h "$f" ] || continue
	if [ -d "$f" ] && [ ! -h "$f" ]; then die @EXIT_CONFLICT@ "${f#"$R"} is a directory where a per-instance secret belongs; remove it"; fi
	found=$((found + 1))
	printf '@FOUND@%s\n' "${f#"$R"}" >&2
done
if [ "$found" -gt 0 ] && [ "$EXISTING" = fail ]; then
	die @EXIT_EXISTING@ "the image already holds $found per-instance secret file(s) and existing_secrets = \"fail\""
fi
for f in @SECRETS@ "$D"/@TEMP@*; do
	[ -e "$f" ] || [ -h "$f" ] || continue
	wipe "$f"
	say "removed per-instance secret ${f#"$R"}"
done
if [ "$found" -gt 0 ]; then sync; fi

if [ ! -d "$D" ]; then
	mkparent "$D"
	mkdir -m "$MODE" -- "$D"
	say "created $DIR"
fi
# root's, for the first-boot script writes the secrets in it as root; the
# group may read it (0750) to reach its files.
chown -- "root:$GROUP" "$D"
chmod -- "$MODE" "$D"
say "directory $DIR ($MODE root:$GROUP)"

# What every clone of the image would share. The machine ID is emptied, not
# removed: systemd makes a new one at each instance's first boot.
M=$R@MACHINE_ID@
if [ -f "$M" ] && [ ! -h "$M" ] && [ -s "$M" ] && [ "$(head -n 1 -- "$M")" != uninitialized ]; then
	: >"$M"
	say "emptied @MACHINE_ID@: each instance makes its own machine ID at first boot"
fi
# D-Bus's own copy: with @MACHINE_ID@ empty, systemd would take the ID from
# it at every boot. Debian's dbus package writes one; it must be a link.
B=$R@DBUS_ID@
if [ -h "$B" ]; then
	case $(readlink -- "$B") in
	@MACHINE_ID@ | ../../..@MACHINE_ID@) ;;
	*) ln -sfn -- @MACHINE_ID@ "$B"; say "relinked @DBUS_ID@ -> @MACHINE_ID@" ;;
	esac
elif [ -d "$B" ]; then
	die @EXIT_CONFLICT@ "@DBUS_ID@ is a directory; remove it, a link to @MACHINE_ID@ belongs there"
elif [ -e "$B" ]; then
	ln -sfn -- @MACHINE_ID@ "$B"
	say "replaced @DBUS_ID@, an ID of its own, by a link to @MACHINE_ID@"
fi
# cloud-init's record of the build machine, and only that (cloud-init clean
# would remove all of /var/lib/cloud).
for f in @CLOUD_RECORDS@; do
	if [ -h "$R$f" ] || [ -f "$R$f" ]; then
		rm -f -- "$R$f"
		say "removed $f: cloud-init's record of the build machine"
	elif [ -e "$R$f" ]; then
		die @EXIT_CONFLICT@ "$f is not cloud-init's record (a link or a file); remove it"
	fi
done
`

// asRoot starts every staged script: a user other than root runs it again
// through sudo -n (passwordless), as `hubsecrets check --ssh` does; sudo's
// own complaint (a password, not in sudoers, not installed) is what the
// plugin then explains.
const asRoot = `[ "$(id -u)" = 0 ] || exec sudo -n /bin/sh "$0" "$@"` + "\n"

// installScript renders the one script uploaded and run on the target.
func installScript(pl installPlan) (string, error) {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Generated by the jupyterhub-secrets Packer provisioner. It never writes a secret.\n")
	var secrets []string
	for _, name := range perInstance() {
		secrets = append(secrets, `"$D"/`+shQuote(name))
	}
	prelude := strings.NewReplacer(
		"@TEMP@", layout.TempPrefix,
		"@FOUND@", foundPrefix,
		"@SECRETS@", strings.Join(secrets, " "),
		"@EXIT_NOT_ROOT@", strconv.Itoa(exitNotRoot),
		"@EXIT_NO_ACCOUNT@", strconv.Itoa(exitNoAccount),
		"@EXIT_CONFLICT@", strconv.Itoa(exitPathConflict),
		"@EXIT_EXISTING@", strconv.Itoa(exitExistingSecrets),
		"@MACHINE_ID@", layout.MachineIDPath,
		"@DBUS_ID@", layout.DBusMachineIDPath,
		"@CLOUD_RECORDS@", layout.CloudInstanceIDPath+" "+layout.CloudInstanceLinkPath,
	).Replace(installPrelude)
	// Only the prelude's first line must come first: it removes the file,
	// as root when the SSH user is not root (sudo -n, as check --ssh does).
	first, rest, _ := strings.Cut(prelude, "\n")
	b.WriteString(asRoot + first + "\n")
	fmt.Fprintf(&b, "R=%s\nDIR=%s\nOWNER=%s\nGROUP=%s\nMODE=%s\nEXISTING=%s\n",
		shQuote(pl.root), shQuote(pl.dir), shQuote(pl.owner), shQuote(pl.group),
		shQuote(fmt.Sprintf("%04o", pl.dirMode)), shQuote(pl.existing))
	b.WriteString(rest)

	if err := putFile(&b, path.Join(pl.dir, layout.DHParamFile), pl.dhMode, "\"$OWNER\"", "\"$GROUP\"", pl.dhPEM); err != nil {
		return "", err
	}
	for _, f := range pl.payload {
		if f.LinkTarget != "" {
			fmt.Fprintf(&b, "link %s %s\n", shQuote(f.Path), shQuote(f.LinkTarget))
			continue
		}
		if err := putFile(&b, f.Path, f.Mode, "root", "root", f.Data); err != nil {
			return "", err
		}
	}
	if pl.metricsDir != "" {
		b.WriteString(timerScript(pl.metricsDir, pl.checkBinary))
	}
	if pl.collectPath != "" {
		// Readable by the SSH user, who runs it and may not be root (it
		// then runs itself again through sudo -n); root's, so nobody else
		// can change it; it holds no secret.
		fmt.Fprintf(&b, "rm -f -- %[1]s\n(umask 022 && set -C && printf '%%s' %[2]s >%[1]s)\n", shQuote(pl.collectPath), shQuote(pl.collectScript))
	}
	b.WriteString("say done\n")
	return b.String(), nil
}

func putFile(b *strings.Builder, p string, mode os.FileMode, owner, group string, data []byte) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("payload path %q is not absolute and clean", p)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return fmt.Errorf("payload file %s holds a NUL byte, which sh cannot carry", p)
	}
	fmt.Fprintf(b, "put %s %04o %s %s %s\n", shQuote(p), mode.Perm(), owner, group, shQuote(string(data)))
	return nil
}

// shQuote quotes s for POSIX sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
