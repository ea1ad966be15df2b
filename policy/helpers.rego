# Helpers shared by the rules: the profile, the finding shape, modes,
# ownership and how paths are shown to people and to a shell.
package hubsecrets

# profile is "instance" (a running server: everything present and right) or
# "image" (a machine image: no per-instance secret, first-boot hook in place).
default profile := "instance"

profile := input.profile

# finding builds one finding. Its id comes from the rule's own METADATA
# (custom.id), so the id a report shows and the rule it documents never differ.
finding(meta, path, msg, fix) := {"id": meta.custom.id, "path": path, "msg": msg, "fix": fix}

# octal turns a mode string such as "0600" or "600" into its number.
octal(s) := sum([v |
	some i, d in split(padded, "")
	v := to_number(d) * octal_weights[i]
]) if {
	padded := substring(concat("", ["0000", s]), count(s), 4)
}

octal_weights := [512, 64, 8, 1]

# mode_text shows a mode as chmod takes it, e.g. "0600".
mode_text(m) := sprintf("%04o", [m])

# modes_text lists modes for a message, e.g. "0600 or 0400".
modes_text(ms) := concat(" or ", [mode_text(m) | some m in ms])

# Mode bits (Rego has no octal literals).
other_bits(m) := bits.and(m, 7) # 0o007

group_bits(m) := bits.and(m, 56) # 0o070

group_other_write(m) := bits.and(m, 18) # 0o022

group_read := 32 # 0o040

# owner_is and group_is compare a file's owner or group with a name. When the
# scanned root has no name for the id (no /etc/passwd in an archive, say),
# id 0 still counts as root: it is root on every Unix.
owner_is(f, name) if f.owner == name

owner_is(f, "root") if {
	f.owner == ""
	f.uid == 0
}

group_is(f, name) if f.group == name

group_is(f, "root") if {
	f.group == ""
	f.gid == 0
}

# owner_text and group_text name a file's owner and group for a message.
owner_text(f) := f.owner if {
	f.owner != ""
} else := sprintf("uid %d (no name in the scanned root's /etc/passwd)", [f.uid])

group_text(f) := f.group if {
	f.group != ""
} else := sprintf("gid %d (no name in the scanned root's /etc/group)", [f.gid])

# show renders a path or name for a message: as is when it is printable
# ASCII, Go-quoted otherwise, so a hostile file name cannot forge output.
show(s) := s if {
	regex.match(`^[ -~]*$`, s)
} else := sprintf("%q", [s])

# sh quotes a path for a fix command, so a copied command does exactly what it
# says whatever the path holds (spaces, quotes, $(...)).
sh(s) := s if {
	regex.match(`^[A-Za-z0-9_./:=@%+,-]+$`, s)
} else := concat("", ["'", replace(s, "'", `'\''`), "'"])

# move_aside is a command that moves p out of the way without deleting or
# overwriting anything: into a new directory beside it (p.old.XXXXXX), made
# by mktemp -d, so an existing p.old is never clobbered.
move_aside(p) := sprintf(`sudo mv %s "$(sudo mktemp -d %s)"`, [sh(p), sh(concat("", [p, ".old.XXXXXX"]))])

# type_text names a file type for a message.
type_text(f) := "a symlink" if {
	f.type == "symlink"
} else := "a directory" if {
	f.type == "dir"
} else := "a regular file" if {
	f.type == "file"
} else := "a special file (device, FIFO or socket)"

# unchecked is true when the facts hold an error for the file: it is reported
# once by HUB041, and no other rule guesses about it.
unchecked(f) if f.error != ""
