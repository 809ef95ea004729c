#!/usr/bin/env bash
# The editor-grammar tests (lang/editors/). Usage: run.sh [ACCL] [--update]
#  - words: each grammar lists exactly the words of src/parser/langdefs.h (words.c);
#  - vscode: every example and sample.acc tokenized by vscode-textmate, scopes vs golden/vscode;
#  - vim: the syntax group under each token (vim -es), vs golden/vim; ftdetect sets 'acc';
#  - emacs: the faces under each token (emacs --batch, acc-mode), vs golden/emacs;
#  - indent: vim's = and Emacs's indent-region leave indent.acc (canonical layout) unchanged;
#  - snippets: the kernel and schedule snippets at their defaults pass ACCL --check (given ACCL).
# An editor that is not installed is skipped (make deps installs all three).
# --update rewrites the golden files. Prints "N passed, N failed"; exits 1 on a failure.
set -u
cd "$(dirname "$0")/../.."
here=tests/editors
accl=""
[ $# -gt 0 ] && [ "$1" != --update ] && { accl=$1; shift; }
update=""
[ "${1:-}" = --update ] && update=--update
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
files=(examples/*.acc "$here/sample.acc")

result() { # NAME, then the status of the check just run
    if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}
# Counts the ok/FAIL lines of a golden runner; prints the failures.
tally() {
    local out=$1
    grep -v '^ok \|^updated ' "$out"
    pass=$((pass + $(grep -c '^ok \|^updated ' "$out")))
    fail=$((fail + $(grep -c '^FAIL ' "$out")))
}
# Sorts the words of each "CATEGORY word..." line, so order does not matter.
canon() { while read -r cat rest; do echo "$cat $(tr ' ' '\n' <<<"$rest" | sort | tr '\n' ' ')"; done; }
check_words() { # EDITOR FILE-WITH-ITS-LISTS
    canon <"$2" >"$2.sorted"
    diff "$tmp/want" "$2.sorted" >"$tmp/diff" 2>&1
    local st=$?
    [ $st = 0 ] || { echo "words in the $1 grammar differ from langdefs.h (< langdefs, > $1):"; cat "$tmp/diff"; }
    result "words $1" $st
}
has() { command -v "$1" >/dev/null 2>&1 || { echo "skipped: $1 is not installed"; return 1; }; }

${CC:-cc} -std=c11 -Wall -Wextra -Werror -Isrc -o "$tmp/words" "$here/words.c" || exit 1
"$tmp/words" | canon >"$tmp/want"

if has node && { [ -d "$here/node_modules/vscode-textmate" ] ||
        { echo "skipped: vscode (run make deps: npm ci --prefix tests/editors)"; false; }; }; then
    node "$here/grammar-words.js" >"$tmp/vscode.words" && check_words vscode "$tmp/vscode.words"
    for f in lang/editors/vscode/*.json lang/editors/vscode/*/*.json; do
        node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$f"
        result "json $f" $?
    done
    if [ -n "$accl" ]; then
        node "$here/snippets.js" >"$tmp/snippets.acc" && "$accl" --check "$tmp/snippets.acc"
        result "snippets" $?
    fi
    node "$here/vscode.js" "$here/golden/vscode" $update "${files[@]}" >"$tmp/vscode.out" 2>&1
    tally "$tmp/vscode.out"
fi

if has vim; then
    awk '/^syn keyword acc/ { map["accDecl"] = "decl"; map["accClause"] = "clause";
            map["accConstant"] = "const"; map["accType"] = "types"; map["accIntrinsic"] = "intrinsics";
            map["accTarget"] = "targets"; map["accShape"] = "shapes";
            if ($3 in map) for (i = 4; i <= NF; i++) w[map[$3]] = w[map[$3]] " " $i }
         /^syn match accHardware / { s = $4; gsub(/"|\\<|\\>|\\/, "", s); w["hardware"] = w["hardware"] " " s }
         END { n = split("decl clause const types intrinsics hardware targets shapes", c, " ")
               for (i = 1; i <= n; i++) print c[i] w[c[i]] }' \
        lang/editors/vim/syntax/acc.vim >"$tmp/vim.words"
    check_words vim "$tmp/vim.words"
    bash "$here/vim.sh" "$here/golden/vim" $update "${files[@]}" >"$tmp/vim.out" 2>&1
    tally "$tmp/vim.out"
    sed 's/^[ \t]*//' "$here/indent.acc" >"$tmp/indent-vim.acc"
    vim -es -u NONE -i NONE -N --cmd "set rtp^=$PWD/lang/editors/vim" -c 'filetype plugin indent on' \
        -c "edit $tmp/indent-vim.acc" -c 'normal! gg=G' -c 'w' -c 'qa!' </dev/null
    diff "$here/indent.acc" "$tmp/indent-vim.acc"
    result "indent vim" $?
fi

if has emacs; then
    emacs --batch -Q -L lang/editors/emacs -l acc-mode --eval '
      (dolist (p (quote ((decl . acc-decl-words) (clause . acc-clause-words)
                         (const . acc-const-words) (types . acc-type-words)
                         (intrinsics . acc-intrinsic-words) (hardware . acc-hardware-words)
                         (targets . acc-target-words) (shapes . acc-shape-words))))
        (princ (format "%s %s\n" (car p) (mapconcat (function identity) (symbol-value (cdr p)) " "))))' \
        >"$tmp/emacs.words" 2>"$tmp/emacs.err" || cat "$tmp/emacs.err"
    check_words emacs "$tmp/emacs.words"
    mkdir -p "$tmp/emacs"
    emacs --batch -Q -L lang/editors/emacs -l "$here/emacs-dump.el" "$tmp/emacs" "${files[@]}" 2>"$tmp/emacs.err" ||
        cat "$tmp/emacs.err"
    for f in "${files[@]}"; do
        name=$(basename "$f" .acc)
        if [ -n "$update" ]; then cp "$tmp/emacs/$name.faces" "$here/golden/emacs/"; pass=$((pass + 1)); continue; fi
        diff "$here/golden/emacs/$name.faces" "$tmp/emacs/$name.faces" >"$tmp/diff" 2>&1
        st=$?; [ $st = 0 ] || head -5 "$tmp/diff"
        result "emacs $name" $st
    done
    sed 's/^[ \t]*//' "$here/indent.acc" >"$tmp/indent-emacs.acc"
    emacs --batch -Q -L lang/editors/emacs -l acc-mode --eval "(progn (find-file \"$tmp/indent-emacs.acc\")
        (indent-region (point-min) (point-max)) (save-buffer))" 2>/dev/null
    diff "$here/indent.acc" "$tmp/indent-emacs.acc"
    result "indent emacs" $?
fi

echo "editors: $pass passed, $fail failed"
[ "$fail" = 0 ]
