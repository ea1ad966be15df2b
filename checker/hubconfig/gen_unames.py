#!/usr/bin/env python3
"""Writes unames.txt.gz: the names Python accepts in a "\\N{...}" escape.

Run it with the Python whose unicodedata the reader should agree with
(go generate ./checker/hubconfig); the file records its Unicode version
on the first line. Besides unicodedata's own names it keeps the name
aliases (NameAliases.txt: NUL, LF, NBSP, ...), which unicodedata accepts but
cannot list: candidates come from a copy of the same Unicode version's
names (Perl's unicore/Name.pl by default, or the file given), and each is
kept only if Python accepts it. CJK UNIFIED IDEOGRAPH-XXXX names are left
out: Python computes them, and so does the reader (unames.go).

Usage: python3 gen_unames.py [Name.pl]
"""
import glob
import gzip
import sys
import unicodedata


def accepted(name):
    try:
        eval('"\\N{%s}"' % name)
    except (SyntaxError, ValueError):
        return False
    return True


def main():
    names = set()
    for cp in range(0x110000):
        n = unicodedata.name(chr(cp), None)
        if n and not n.startswith("CJK UNIFIED IDEOGRAPH-"):
            names.add(n)
    paths = sys.argv[1:] or sorted(glob.glob("/usr/share/perl/*/unicore/Name.pl"))
    if not paths:
        sys.exit("no Name.pl to take the aliases from: give its path")
    src = open(paths[0], encoding="utf-8").read()
    if "Version %s." % unicodedata.unidata_version not in src:
        sys.exit("%s is not Unicode %s" % (paths[0], unicodedata.unidata_version))
    body = src.split("<<'END';\n", 1)[1].split("\nEND\n", 1)[0]
    for entry in body.split("\n\n"):
        lines = entry.split("\n")
        if len(lines) != 2 or " " in lines[0]:
            continue  # a named sequence: several code points, refused in \N{...}
        n = lines[1]
        if n not in names and not n.startswith("CJK UNIFIED IDEOGRAPH-") and accepted(n):
            names.add(n)
    for n in names:
        assert n == n.upper() and n.isascii() and accepted(n), n
    out = "unicode %s\n" % unicodedata.unidata_version + "\n".join(sorted(names)) + "\n"
    with open("unames.txt.gz", "wb") as f:
        f.write(gzip.compress(out.encode(), 9, mtime=0))
    print("%d names, Unicode %s" % (len(names), unicodedata.unidata_version))


main()
