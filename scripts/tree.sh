#!/bin/bash
# Create or update the kernel tree $LCR_BUILD/linux from the Debian tarball
# (committed and tagged ckpt-base) plus patches/[0-9]*.patch (git am -3).
#
# Safe to re-run: $LCR_BUILD/linux/.git/linuxcr-applied records the hash of
# the patch files applied and the HEAD that resulted.
#   - record matches patches/            -> nothing to do
#   - patches/ changed, tree untouched   -> reset to ckpt-base, re-apply
#   - local commits/changes in the tree  -> refuse (export them first with
#                                           scripts/export.sh), FORCE=1 overrides
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$LCR_TREE
record=$tree/.git/linuxcr-applied
want=$(lcr_patches_hash)
FORCE=${FORCE:-0}

git_tree() { git -C "$tree" "$@"; }

write_record() {
	printf 'patches=%s\nhead=%s\n' "$want" "$(git_tree rev-parse HEAD)" >"$record"
}

record_get() { sed -n "s/^$1=//p" "$record" 2>/dev/null; }

tree_dirty() { [ -n "$(git_tree status --porcelain)" ]; }

apply_series() {
	local n=0 p
	mapfile -t plist < <(lcr_patches)
	if [ ${#plist[@]} -eq 0 ]; then
		msg "patches/ holds no patches: the tree is the base"
	else
		msg "applying ${#plist[@]} patch(es) with git am -3"
		if ! git_tree am -3 --quiet "${plist[@]}"; then
			p=$(cat "$tree/.git/rebase-apply/next" 2>/dev/null || echo '?')
			die "git am failed (patch $p of ${#plist[@]}). Resolve in $tree and 'git am --continue' then scripts/export.sh, or 'git am --abort' and re-run with FORCE=1"
		fi
		n=${#plist[@]}
	fi
	write_record
	msg "tree $tree at $(git_tree rev-parse --short HEAD): ckpt-base + $n patch(es)"
}

setup_identity() {
	git_tree config --local user.name >/dev/null || git_tree config user.name "linux-cr"
	git_tree config --local user.email >/dev/null || git_tree config user.email "linux-cr@localhost"
	git_tree config gc.auto 0
	git_tree config am.threeWay true
}

create_tree() {
	local version tmp
	[ -r "$LCR_TARBALL" ] || die "$LCR_TARBALL not found: run scripts/setup.sh"
	version=$(lcr_installed_version)
	[ -n "$version" ] || version=unknown
	if [ -e "$tree" ]; then
		[ "$FORCE" = 1 ] || die "$tree exists but is not a git tree; remove it or re-run with FORCE=1"
		rm -rf "$tree"
	fi
	tmp=$LCR_BUILD/.unpack.$$
	rm -rf "$tmp"; mkdir -p "$tmp"
	msg "unpacking $LCR_TARBALL ($version)"
	tar -C "$tmp" -xf "$LCR_TARBALL"
	[ -d "$tmp/linux-source-6.12" ] || die "unexpected tarball layout: $(ls "$tmp")"
	mv "$tmp/linux-source-6.12" "$tree"
	rmdir "$tmp"
	# Debian's .gitignore ends with a block that ignores everything at the
	# top level except debian/; drop it or `git add` sees nothing.
	local n
	n=$(grep -n -m1 '^# Debian packaging: ignore everything at the top level' "$tree/.gitignore" | cut -d: -f1 || true)
	if [ -n "$n" ]; then
		# Also drop the "#" line that opens the block and trailing blank lines.
		[ "$n" -gt 1 ] && [ "$(sed -n "$((n - 1))p" "$tree/.gitignore")" = "#" ] && n=$((n - 1))
		head -n $((n - 1)) "$tree/.gitignore" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$tree/.gitignore.new"
		mv "$tree/.gitignore.new" "$tree/.gitignore"
	fi
	git -C "$tree" init -q
	setup_identity
	git_tree add -A
	# The kernel's .gitignore ignores dot-files (.gitignore, .kunitconfig,
	# ...) and a few others that upstream tracks anyway: track the whole
	# tarball so patches touching them apply.
	git_tree ls-files -z -o -i --exclude-standard | (cd "$tree" && xargs -0 -r git add -f --)
	# Reproducible base commit: same upload -> same ckpt-base hash.
	local date
	date=$(stat -c %Y "$tree/Makefile")
	GIT_AUTHOR_NAME=linux-cr GIT_AUTHOR_EMAIL=linux-cr@localhost \
	GIT_COMMITTER_NAME=linux-cr GIT_COMMITTER_EMAIL=linux-cr@localhost \
	GIT_AUTHOR_DATE="@$date +0000" GIT_COMMITTER_DATE="@$date +0000" \
		git_tree commit -q -m "Debian $LCR_DEBIAN_PACKAGE $version"
	git_tree tag ckpt-base
	msg "base committed and tagged ckpt-base: $(git_tree rev-parse --short HEAD)"
}

lcr_check_pin

if [ ! -d "$tree/.git" ]; then
	create_tree
	apply_series
	exit 0
fi

setup_identity
git_tree rev-parse -q --verify ckpt-base >/dev/null || die "$tree has no ckpt-base tag; remove the tree or re-run with FORCE=1"
[ ! -d "$tree/.git/rebase-apply" ] || [ "$FORCE" = 1 ] ||
	die "git am in progress in $tree: finish it (git am --continue; scripts/export.sh) or abort it (git am --abort), or FORCE=1"

head=$(git_tree rev-parse HEAD)
base=$(git_tree rev-parse ckpt-base^{commit})
rec_patches=$(record_get patches)
rec_head=$(record_get head)

if [ -n "$rec_patches" ] && [ "$rec_patches" = "$want" ]; then
	if [ "$head" != "$rec_head" ] || tree_dirty; then
		msg "tree in sync with patches/; note: it has local work not yet exported (scripts/export.sh)"
	else
		msg "tree in sync with patches/ ($(git_tree rev-parse --short HEAD))"
	fi
	exit 0
fi

# patches/ changed (or no record yet).
if [ -z "$rec_head" ] && [ "$head" = "$base" ] && ! tree_dirty && [ -z "$(lcr_patches)" ]; then
	write_record
	msg "tree is the base and patches/ is empty: recorded"
	exit 0
fi
untouched=0
if [ -n "$rec_head" ] && [ "$head" = "$rec_head" ] && ! tree_dirty; then
	untouched=1
fi
if [ "$untouched" = 0 ] && [ "$FORCE" != 1 ]; then
	if [ -z "$rec_head" ]; then
		why="it has no record of what was applied (.git/linuxcr-applied)"
	elif [ "$head" != "$rec_head" ]; then
		why="it has local commits ($(git_tree rev-list --count "$rec_head..HEAD" 2>/dev/null || echo '?') new since the last apply/export)"
	else
		why="it has uncommitted changes"
	fi
	die "patches/ changed but $tree cannot be reset: $why. Export your work first (commit, then scripts/export.sh) or re-run with FORCE=1 to discard it."
fi
[ "$untouched" = 1 ] || warn "FORCE=1: discarding local work in $tree"
git_tree am --abort >/dev/null 2>&1 || true
git_tree reset -q --hard ckpt-base
git_tree clean -q -fd
apply_series
