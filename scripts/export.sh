#!/bin/bash
# Export the commits ckpt-base..HEAD of $LCR_BUILD/linux to patches/ with
# git format-patch (cover letter from Documentation/cover-letter.txt) and
# record the tree as in sync, so scripts/tree.sh leaves it alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$LCR_TREE
git_tree() { git -C "$tree" "$@"; }

[ -d "$tree/.git" ] || die "no kernel tree at $tree (scripts/tree.sh)"
[ ! -d "$tree/.git/rebase-apply" ] || die "git am/rebase in progress in $tree: finish it first"
git_tree rev-parse -q --verify ckpt-base >/dev/null || die "$tree has no ckpt-base tag"
[ -z "$(git_tree status --porcelain)" ] ||
	die "uncommitted changes in $tree: commit them (git -C $tree commit) or stash them first:
$(git_tree status --short | head -20)"

out=$LCR_REPO/patches
mkdir -p "$out"
rm -f "$out"/[0-9]*.patch
n=$(git_tree rev-list --count ckpt-base..HEAD)
if [ "$n" -gt 0 ]; then
	git_tree format-patch -q --numbered --cover-letter --base=ckpt-base \
		--zero-commit --no-signature -o "$out" ckpt-base..HEAD >/dev/null
	cover=$(ls "$out"/0000-*.patch)
	python3 - "$cover" "$LCR_REPO/Documentation/cover-letter.txt" \
		"$(git_tree log -1 --format=%aD HEAD)" <<'PY'
import re, sys
cover, src, date = sys.argv[1:4]
text = open(cover, encoding='utf-8').read()
lines = open(src, encoding='utf-8').read().split('\n')
subject = re.sub(r'^\s*\[[^]]*\]\s*', '', lines[0]).strip()
body = '\n'.join(lines[1:]).strip('\n')
text = text.replace('*** SUBJECT HERE ***', subject, 1)
text = text.replace('*** BLURB HERE ***', body, 1)
# Reproducible output: the cover letter carries the date of HEAD.
text = re.sub(r'^Date: .*$', 'Date: ' + date, text, count=1, flags=re.M)
open(cover, 'w', encoding='utf-8').write(text)
PY
fi

printf 'patches=%s\nhead=%s\n' "$(lcr_patches_hash)" "$(git_tree rev-parse HEAD)" >"$tree/.git/linuxcr-applied"
msg "exported $n patch(es) to patches/ (ckpt-base..$(git_tree rev-parse --short HEAD)); commit them: git add patches && git commit"
