#!/usr/bin/env bash
# Renders every *.mmd file under DIR to SVG with the Mermaid CLI (Debian's Chromium, no
# browser download), as an independent check that dqc's diagrams parse and lay out.
# Exits non-zero when any render fails; prints how many rendered.
#
# Usage: tests/mermaid/render-all.sh DIR [OUT]
#   DIR  searched recursively for *.mmd
#   OUT  where the SVGs go (default: a temporary directory, removed at exit)
# Needs node, npm and /usr/bin/chromium (apt-get install -y chromium). Installs the pinned
# packages with `npm ci` on first use.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: render-all.sh DIR [OUT]}"
[ -d "$dir" ] || { echo "render-all: $dir is not a directory" >&2; exit 2; }
[ -x /usr/bin/chromium ] || { echo "render-all: /usr/bin/chromium is missing (apt-get install -y chromium)" >&2; exit 2; }

export PUPPETEER_SKIP_DOWNLOAD=1
if [ ! -x "$here/node_modules/.bin/mmdc" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >&2)
fi

if [ -n "${2:-}" ]; then
  out="$2"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi

rendered=0
failed=0
while IFS= read -r -d '' file; do
  rel="${file#"$dir"/}"
  svg="$out/${rel//\//__}.svg"
  if log="$("$here/node_modules/.bin/mmdc" -q -p "$here/puppeteer-config.json" -i "$file" -o "$svg" 2>&1)" && [ -s "$svg" ]; then
    rendered=$((rendered + 1))
  else
    failed=$((failed + 1))
    echo "FAILED $file" >&2
    printf '%s\n' "$log" | sed 's/^/  /' >&2
  fi
done < <(find "$dir" -type f -name '*.mmd' -print0 | sort -z)

echo "rendered $rendered diagram(s), $failed failed"
[ "$failed" -eq 0 ] && [ "$rendered" -gt 0 ]
