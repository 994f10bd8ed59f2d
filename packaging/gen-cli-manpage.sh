#!/bin/sh
# Writes juleseg-cli(1): the hand-written TEMPLATE with its "GENERATED-SUBCOMMAND-SECTIONS" comment line
# replaced by a list of the subcommands and one section per subcommand, generated from `juleseg-cli SUB
# --help`. Generating it from the binary keeps the page in step with the options every subcommand really
# has (they come from one parameter schema).
# Usage: gen-cli-manpage.sh JULESEG_CLI TEMPLATE OUTPUT
set -eu
cli=$1
template=$2
out=$3

subs=$("$cli" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [^ ]/ { print $1 }')
if [ -z "$subs" ]; then
  echo "gen-cli-manpage: no subcommands found in '$cli --help'" >&2
  exit 1
fi

# CLI11 help layout: description line, "Usage: ARGV0 SUB ...", then "Positionals:"/"Options:" blocks whose
# entries start at column 2 ("NAME TYPE  description") and whose wrapped descriptions are indented further.
to_roff='
function dashes(s,   n, i, parts, r) {
  n = split(s, parts, "-"); r = parts[1]
  for (i = 2; i <= n; i++) r = r BS "-" parts[i]
  return r
}
function text(s) {
  if (s ~ /^[.'"'"']/) s = BS "&" s
  return s
}
function flush() {
  if (name == "") return
  print ".TP"
  n = split(name, w, " ")
  head = ""
  m = split(w[1], flags, ",")
  for (i = 1; i <= m; i++) head = head (i > 1 ? ", " : "") BS "fB" dashes(flags[i]) BS "fR"
  for (i = 2; i <= n; i++) head = head " " BS "fI" dashes(w[i]) BS "fR"
  print head
  print text(desc)
  name = ""; desc = ""
}
BEGIN { BS = "\\" }
NR == 1 { print ".SS " dashes(cmd); print text($0); next }
/^Usage:/ {
  sub_at = index($0, " " cmd " ")
  rest = (sub_at > 0) ? substr($0, sub_at + length(cmd) + 2) : ""
  print ".PP"; print BS "fBjuleseg" BS "-cli " cmd BS "fR " dashes(rest); next
}
/^[A-Za-z][A-Za-z ]*:$/ { flush(); print ".PP"; print BS "fI" substr($0, 1, length($0) - 1) BS "fR"; next }
/^  [^ ]/ {
  flush()
  line = substr($0, 3)
  gap = match(line, /  +/)
  if (gap > 0) { name = substr(line, 1, gap - 1); desc = substr(line, gap + RLENGTH) }
  else { name = line; desc = "" }
  next
}
/^    +[^ ]/ { d = $0; sub(/^ +/, "", d); desc = (desc == "" ? d : desc " " d); next }
/^$/ { flush(); next }
{ flush(); print ".PP"; print text($0) }
END { flush() }
'

tmp="$out.tmp.$$"
trap 'rm -f "$tmp" "$tmp.sections"' EXIT
{
  # The summary list, then one section per subcommand.
  "$cli" --help | sed 's/\\/\\e/g' | awk '
    /^Subcommands:/ { on = 1; next }
    on && /^  [^ ]/ {
      line = substr($0, 3); gap = match(line, /  +/)
      n = split(substr(line, 1, gap - 1), part, "-"); name = part[1]
      for (i = 2; i <= n; i++) name = name "\\-" part[i]
      print ".TP"; print ".B " name; print substr(line, gap + RLENGTH)
    }'
  echo ".PP"
  echo "Each subcommand and its options in detail:"
  for s in $subs; do
    help=$("$cli" "$s" --help)
    printf '%s\n' "$help" | sed 's/\\/\\e/g' | awk -v cmd="$s" "$to_roff"
  done
} > "$tmp.sections"
awk -v sections="$tmp.sections" '
  /^\.\\" GENERATED-SUBCOMMAND-SECTIONS$/ { while ((getline l < sections) > 0) print l; found = 1; next }
  { print }
  END { if (!found) { print "gen-cli-manpage: no GENERATED-SUBCOMMAND-SECTIONS line in the template" > "/dev/stderr"; exit 1 } }
' "$template" > "$tmp"
mv "$tmp" "$out"
