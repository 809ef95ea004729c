#!/usr/bin/env bash
# Dumps the Vim syntax groups of each .acc file and compares them with golden files.
# Usage: vim.sh GOLDEN_DIR [--update] FILE...   Prints "ok NAME" / "FAIL NAME" / "updated NAME".
set -u
here=$(cd "$(dirname "$0")" && pwd)
rtp=$(cd "$here/../../lang/editors/vim" && pwd)
golden=$1; shift
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failed=0
for f in "$@"; do
    name=$(basename "$f" .acc)
    out=$tmp/$name.syn
    # -es: silent Ex mode; -u NONE: no user setup; rtp holds only Vim's own files and ours.
    vim -es -u NONE -i NONE -N --cmd "set rtp^=$rtp" --cmd "source $here/vim-dump.vim" \
        -c 'filetype on' -c 'syntax on' -c "let g:acc_dump_out = '$out'" \
        -c "edit $f" -c 'call AccDump()' -c 'qa!' </dev/null
    if [ "$update" = 1 ]; then cp "$out" "$golden/$name.syn"; echo "updated $name"; continue; fi
    if [ -f "$out" ] && cmp -s "$out" "$golden/$name.syn"; then
        echo "ok $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
        diff "$golden/$name.syn" "$out" 2>&1 | head -5
    fi
done
exit $((failed > 0))
