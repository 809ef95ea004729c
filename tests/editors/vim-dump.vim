" Dumps the Vim syntax group of every token of the current buffer into the file
" named by g:acc_dump_out: "LINE: text<TAB>group", one line per run of characters
" with the same group ('-' for none). A run ends at a change of group, at a gap of
" blanks outside comments, and, in text with no group, between word and other
" characters. The first line is the buffer's 'filetype' (set by ftdetect/acc.vim).
function! s:Runs(lnum) abort
  let line = getline(a:lnum)
  let out = []
  let [text, group, gap, prevword] = ['', '', 0, 0]
  for col in range(1, strlen(line))
    let ch = line[col - 1]
    if ch =~# '\s'
      let gap = 1
      continue
    endif
    let g = synIDattr(synID(a:lnum, col, 1), 'name')
    let g = g ==# '' ? '-' : g
    let isword = ch =~# '\w'
    let split = g !=# group || (gap && g !~# 'Comment') || (g ==# '-' && isword != prevword)
    if text !=# '' && split
      call add(out, a:lnum . ': ' . text . "\t" . group)
      let text = ''
    endif
    let text .= (text !=# '' && gap ? ' ' : '') . ch
    let [group, gap, prevword] = [g, 0, isword]
  endfor
  if text !=# ''
    call add(out, a:lnum . ': ' . text . "\t" . group)
  endif
  return out
endfunction

function! AccDump() abort
  let out = ['filetype: ' . &filetype]
  for lnum in range(1, line('$'))
    call extend(out, s:Runs(lnum))
  endfor
  call writefile(out, g:acc_dump_out)
endfunction
