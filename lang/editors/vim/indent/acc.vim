" Vim indent file for the .acc kernel language: one 'shiftwidth' (4 spaces in the
" canonical layout) per open brace, bracket or parenthesis; a line that starts with a
" closer goes back one level.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetAccIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O
setlocal autoindent expandtab shiftwidth=4 softtabstop=4
let b:undo_indent = 'setlocal indentexpr< indentkeys< autoindent< expandtab< shiftwidth< softtabstop<'

if exists('*GetAccIndent')
  finish
endif

" The number of openers minus closers on line lnum, outside comments.
function! s:AccBalance(lnum) abort
  let line = substitute(getline(a:lnum), '//.*$', '', '')
  let line = substitute(line, '/\*.\{-}\*/', '', 'g')
  let opens = len(substitute(line, '[^{[(]', '', 'g'))
  let closes = len(substitute(line, '[^}\])]', '', 'g'))
  " A line that starts with closers already went back for them.
  let leading = len(matchstr(line, '^\s*\zs[}\])]*'))
  return opens - (closes - leading)
endfunction

function! GetAccIndent(lnum) abort
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  let ind = indent(prev) + shiftwidth() * (s:AccBalance(prev) > 0 ? 1 : s:AccBalance(prev) < 0 ? -1 : 0)
  if getline(a:lnum) =~# '^\s*[}\])]'
    let ind -= shiftwidth()
  endif
  return max([ind, 0])
endfunction
