#!/usr/bin/env bash
# Fails (listing each place) when a C++ source of the project differs from what
# clang-format makes of it with .clang-format. Part of `npm run lint`.
# Fix with: clang-format -i $(git ls-files '*.cc' '*.h')
set -euo pipefail
cd "$(dirname "$0")/.."

# The project's C++ files: tracked or new, not ignored (so build output and node_modules stay
# out). Outside a git checkout: every .cc/.h under the source folders.
list_sources() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- '*.cc' '*.h'
  else
    find src test bench \( -name '*.cc' -o -name '*.h' \) -not -path '*/node_modules/*'
  fi
}
files=()
while IFS= read -r file; do
  [ -f "$file" ] && files+=("$file")
done < <(list_sources)
if ((${#files[@]} == 0)); then
  echo "check-format: no C++ files found" >&2
  exit 1
fi
clang-format --dry-run --Werror "${files[@]}"
