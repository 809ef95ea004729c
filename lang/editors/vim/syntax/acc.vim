" Vim syntax file for the .acc kernel language (accl).
" The word lists match src/parser/langdefs.h; tests/editors/run.sh checks that they do.
if exists('b:current_syntax')
  finish
endif

syn case match
syn iskeyword @,48-57,_

syn keyword accDecl kernel schedule for in out inout var let if else
syn keyword accClause param assume fuse into at by split tile reorder unroll vectorize parallel bind cache shared registers pad swizzle pipeline stages specialize tensorize with rfactor
syn keyword accConstant inf pi true false
syn keyword accType bool i8 i16 i32 i64 u8 u32 f16 bf16 f32 f64
syn keyword accIntrinsic exp log sqrt rsqrt tanh erf sin cos abs min max pow fma
syn keyword accTarget cpu nvidia sm_80 sm_86 sm_89 sm_90 sm_90a amd gfx90a gfx942 gfx1100
syn keyword accShape mma

syn match accHardware "\<block\.x\>"
syn match accHardware "\<block\.y\>"
syn match accHardware "\<block\.z\>"
syn match accHardware "\<warp\.x\>"
syn match accHardware "\<warp\.y\>"
syn match accHardware "\<thread\.x\>"
syn match accHardware "\<thread\.y\>"
syn match accHardware "\<thread\.z\>"
syn match accHardware "\<warpgroup\.x\>"
syn match accHardware "\<warpgroup\.y\>"

" Operators first: numbers and comments defined later win where they start at the
" same column. '..' is an operator, so 0..M is an integer, '..', a name.
syn match accOperator "\.\.\|->\|[-+*/%=<>!?]=\=\|&&\|||"

" Numbers as the lexer reads them: an integer, a float (digits '.' digits, or an
" exponent), or an error where a word follows the digits.
syn match accInteger "\<\d\+\>"
syn match accFloat "\<\d\+\%(\.\d\+\%([eE][+-]\=\d\+\)\=\|[eE][+-]\=\d\+\)\>"
syn match accNumberError "\<\d\+\%(\.\d\+\%([eE][+-]\=\d\+\)\=\|[eE][+-]\=\d\+\)\=\h\w*"

syn keyword accTodo contained TODO FIXME XXX NOTE
syn match accLineComment "//.*$" contains=accTodo,@Spell
syn region accBlockComment start="/\*" end="\*/" contains=accTodo,@Spell

hi def link accDecl Statement
hi def link accClause PreProc
hi def link accConstant Boolean
hi def link accType Type
hi def link accIntrinsic Function
hi def link accTarget Special
hi def link accHardware Special
hi def link accShape Special
hi def link accOperator Operator
hi def link accInteger Number
hi def link accFloat Float
hi def link accNumberError Error
hi def link accTodo Todo
hi def link accLineComment Comment
hi def link accBlockComment Comment

let b:current_syntax = 'acc'
