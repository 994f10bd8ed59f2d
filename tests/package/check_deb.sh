#!/usr/bin/env bash
# Builds the Debian package with cpack in a build tree whose binaries are already built, then checks the
# control fields, the file list, the man page and lintian (no errors allowed).
# Usage: check_deb.sh BUILD_DIR VERSION GUI(ON|OFF)
set -euo pipefail
build=$1
version=$2
gui=$3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
for tool in cpack dpkg-deb dpkg-shlibdeps lintian file; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/packages.txt lists its package)"
done

cd "$build"
rm -f juleseg_*.deb
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT
if ! cpack -G DEB >"$log" 2>&1; then
  cat "$log" >&2
  fail "cpack failed"
fi
shopt -s nullglob
debs=(juleseg_*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one juleseg_*.deb in $build, found ${#debs[@]}"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
[ "$deb" = "juleseg_${version}-1_${arch}.deb" ] || fail "unexpected package file name $deb"
echo "package: $build/$deb ($(du -h "$deb" | cut -f1))"

field() { dpkg-deb -f "$deb" "$1"; }
expect_field() {
  local got
  got=$(field "$1")
  [ "$got" = "$2" ] || fail "control field $1 is '$got', expected '$2'"
}
expect_field Package juleseg
expect_field Version "${version}-1"
expect_field Architecture "$arch"
expect_field Section science
expect_field Maintainer "juleseg developers <juleseg@example.org>"
depends=$(field Depends)
echo "Depends: $depends"
[ -n "$depends" ] || fail "Depends is empty (dpkg-shlibdeps did not run?)"
wanted_deps=(libc6 libstdc++6 libtiff6 libdcmtk17)
if [ "$gui" = ON ]; then wanted_deps+=(libqt6widgets6 libqt6svg6); fi
dep_names=$(sed 's/([^)]*)//g; s/|/,/g' <<<"$depends" | tr ',' '\n' | tr -d ' ')
for d in "${wanted_deps[@]}"; do
  grep -qxF "$d" <<<"$dep_names" || fail "Depends lacks $d"
done
[ "$(field Description | wc -l)" -ge 5 ] || fail "the long description is missing"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/files"
echo "files:"
sed 's/^/  /' "$work/files"
wanted=(/usr/bin/juleseg-cli /usr/share/man/man1/juleseg-cli.1.gz /usr/share/doc/juleseg/copyright
        /usr/share/doc/juleseg/changelog.Debian.gz)
if [ "$gui" = ON ]; then
  wanted+=(/usr/bin/juleseg /usr/share/man/man1/juleseg.1.gz /usr/share/applications/juleseg.desktop
           /usr/share/metainfo/org.example.juleseg.metainfo.xml /usr/share/icons/hicolor/scalable/apps/juleseg.svg)
fi
for f in "${wanted[@]}"; do
  grep -qx "$f" "$work/files" || fail "$f is not in the package"
done
# Nothing but these belongs in the package: no headers, static libraries, tests or benchmarks.
if grep -Ev '/$|^/usr/(bin/juleseg(-cli)?|share/(man/man1/juleseg(-cli)?\.1\.gz|doc/juleseg/(copyright|changelog\.Debian\.gz)|applications/juleseg\.desktop|metainfo/org\.example\.juleseg\.metainfo\.xml|icons/hicolor/scalable/apps/juleseg\.svg))$' \
   "$work/files"; then
  fail "unexpected files in the package (above)"
fi

dpkg-deb -x "$deb" "$work/root"
for b in "$work"/root/usr/bin/*; do
  file -b "$b" | grep -q ', stripped' || fail "$(basename "$b") is not stripped"
done
grep -q 'License: BSD-3-Clause' "$work/root/usr/share/doc/juleseg/copyright" || fail "copyright names no licence"
# Every subcommand has its own section in the man page, with its options.
man_page=$(gzip -dc "$work/root/usr/share/man/man1/juleseg-cli.1.gz")
for s in info convert baseline eval demo train cluster-images run; do
  grep -qxF ".SS ${s//-/\\-}" <<<"$man_page" || fail "juleseg-cli.1 has no section for '$s'"
done
grep -q -- '--threshold' <<<"$(gzip -dc "$work/root/usr/share/man/man1/juleseg-cli.1.gz" | sed 's/\\-/-/g')" ||
  fail "juleseg-cli.1 does not list the --threshold option"
if command -v man >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
    man --warnings -E UTF-8 -l -Tutf8 -Z "$work/root/usr/share/man/man1/"*.gz 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || fail "man page warnings: $warnings"
fi
if [ "$gui" = ON ]; then
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$work/root/usr/share/applications/juleseg.desktop" || fail "invalid desktop entry"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$work/root/usr/share/metainfo/org.example.juleseg.metainfo.xml" ||
      fail "invalid AppStream metainfo"
  fi
fi

# lintian exits non-zero on errors; its full report is printed either way.
set +e
lintian --tag-display-limit 0 "$deb" >"$work/lintian" 2>&1
set -e
echo "lintian:"
sed 's/^/  /' "$work/lintian"
if grep -q '^E:' "$work/lintian"; then fail "lintian reports errors"; fi
echo "OK"
