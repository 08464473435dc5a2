# Sourced by scripts that need a Debian source made from the machine's own apt configuration
# (install-valkey.sh: bookworm-backports; prebuild.sh: the mirror for a Debian 11 root).
# Nothing here names a mirror: the URI always comes from /etc/apt.

# Prints the bookworm-backports stanza made from the first deb822 stanza whose Types include
# deb and whose Suites include bookworm (and not Enabled: no): its first URI and its Signed-By (a keyring path, or
# an inline key kept with its continuation lines). Comments are skipped.
from_deb822() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk '
      function flush() {
        if (!done && enabled != "no" && types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && uri != "") {
          split(uri, u, " ")
          printf "Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n", u[1]
          if (key != "") printf "Signed-By: %s\n", key
          done = 1
        }
        types = ""; suites = ""; uri = ""; key = ""; field = ""; enabled = "yes"
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]/ { if (field == "signed-by") key = key "\n" $0; next }
      {
        field = tolower($0); sub(/:.*/, "", field)
        value = $0; sub(/^[^:]*:[[:space:]]*/, "", value); sub(/[[:space:]]+$/, "", value)
        if (field == "types") types = value
        else if (field == "suites") suites = value
        else if (field == "uris") uri = value
        else if (field == "signed-by") key = value
        else if (field == "enabled") enabled = tolower(value)
      }
      END { flush() }
    ' "$file"
  done | awk '/^Types:/ { n++ } n == 1'
}

# The same from one-line sources: `deb [options] URI bookworm components...`.
from_one_line() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
    $1 != "deb" { next }
    {
      key = ""; i = 2
      if ($2 ~ /^\[/) {
        for (; i <= NF; i++) {
          if ($i ~ /^\[?signed-by=/) { key = $i; sub(/^\[?signed-by=/, "", key); sub(/\]$/, "", key) }
          if ($i ~ /\]$/) { i++; break }
        }
      }
      if ($(i + 1) == "bookworm") {
        printf "Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n", $i
        if (key != "") printf "Signed-By: %s\n", key
        exit
      }
    }'
}

# Prints the mirror URI of the machine's bookworm source (deb822 or one-line), or nothing.
bookworm_mirror() {
  local stanza
  stanza=$(from_deb822)
  [ -n "$stanza" ] || stanza=$(from_one_line)
  awk '/^URIs:/ { print $2; exit }' <<<"$stanza"
}
