" .acc files are kernels for accl.
autocmd BufRead,BufNewFile *.acc setfiletype acc
