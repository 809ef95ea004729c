;;; acc-mode.el --- Major mode for the .acc kernel language (accl)  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Keywords: languages
;; Package-Requires: ((emacs "25.1"))

;;; Commentary:

;; Colours, indentation and comments for .acc files.  The word lists match
;; src/parser/langdefs.h of accl; tests/editors/run.sh checks that they do.
;; Install: put this file on `load-path' and (require 'acc-mode).

;;; Code:

(defgroup acc nil
  "The .acc kernel language."
  :group 'languages)

(defcustom acc-indent-offset 4
  "Columns per level of braces, brackets or parentheses in `acc-mode'."
  :type 'integer
  :safe #'integerp)

(defface acc-decl-face '((t :inherit font-lock-keyword-face))
  "Declaration and statement keywords: kernel, for, in, let...")
(defface acc-clause-face '((t :inherit font-lock-preprocessor-face))
  "Schedule clause keywords: split, tile, bind...")
(defface acc-type-face '((t :inherit font-lock-type-face))
  "Element types: f32, i64...")
(defface acc-target-face '((t :inherit font-lock-variable-name-face))
  "Targets (cpu, nvidia, sm_80...) and tensor-core shapes (mma).")
(defface acc-hardware-face '((t :inherit acc-target-face))
  "Hardware indices: block.x, thread.y, warp.x...")
(defface acc-intrinsic-face '((t :inherit font-lock-builtin-face))
  "Intrinsics: exp, sqrt, max...")
(defface acc-constant-face '((t :inherit font-lock-constant-face))
  "Named constants: inf, pi, true, false.")
(defface acc-number-face '((t :inherit font-lock-string-face))
  "Integer and float literals.")
(defface acc-operator-face '((t :inherit font-lock-negation-char-face :weight bold))
  "Operators: + - * / % = += == && -> .. and the others.")
(defface acc-number-error-face '((t :inherit font-lock-warning-face))
  "A number with a word stuck to it (an error in the lexer).")

(defconst acc-decl-words
  '("kernel" "schedule" "for" "in" "out" "inout" "var" "let" "if" "else"))
(defconst acc-clause-words
  '("param" "assume" "fuse" "into" "at" "by" "split" "tile" "reorder" "unroll"
    "vectorize" "parallel" "bind" "cache" "shared" "registers" "pad" "swizzle"
    "pipeline" "stages" "specialize" "tensorize" "with" "rfactor"))
(defconst acc-const-words '("inf" "pi" "true" "false"))
(defconst acc-type-words
  '("bool" "i8" "i16" "i32" "i64" "u8" "u32" "f16" "bf16" "f32" "f64"))
(defconst acc-intrinsic-words
  '("exp" "log" "sqrt" "rsqrt" "tanh" "erf" "sin" "cos" "abs" "min" "max" "pow" "fma"))
(defconst acc-hardware-words
  '("block.x" "block.y" "block.z" "warp.x" "warp.y" "thread.x" "thread.y" "thread.z"
    "warpgroup.x" "warpgroup.y"))
(defconst acc-target-words
  '("cpu" "nvidia" "sm_80" "sm_86" "sm_89" "sm_90" "sm_90a" "amd" "gfx90a" "gfx942" "gfx1100"))
(defconst acc-shape-words '("mma"))

(defun acc--words (words)
  "A regexp matching any of WORDS as a whole symbol."
  (concat "\\_<" (regexp-opt words t) "\\_>"))

(defconst acc-float-regexp
  "\\_<[0-9]+\\(?:\\.[0-9]+\\(?:[eE][-+]?[0-9]+\\)?\\|[eE][-+]?[0-9]+\\)\\_>"
  "A float as the lexer reads it: digits, '.', digits, an optional exponent; or digits and an exponent.")

(defconst acc-font-lock-keywords
  `((,(acc--words acc-hardware-words) . 'acc-hardware-face)
    ("\\_<\\(kernel\\|schedule\\)\\s-+\\([A-Za-z_][A-Za-z0-9_]*\\)"
     (1 'acc-decl-face) (2 font-lock-function-name-face))
    ("\\_<\\([A-Za-z_][A-Za-z0-9_]*\\)\\s-*:\\s-*for\\_>" 1 font-lock-constant-face)
    (,(acc--words acc-decl-words) . 'acc-decl-face)
    (,(acc--words acc-clause-words) . 'acc-clause-face)
    (,(acc--words acc-const-words) . 'acc-constant-face)
    (,(acc--words acc-type-words) . 'acc-type-face)
    (,(acc--words acc-intrinsic-words) . 'acc-intrinsic-face)
    (,(acc--words acc-target-words) . 'acc-target-face)
    (,(acc--words acc-shape-words) . 'acc-target-face)
    (,acc-float-regexp . 'acc-number-face)
    ("\\_<[0-9]+\\(?:\\.[0-9]+\\(?:[eE][-+]?[0-9]+\\)?\\|[eE][-+]?[0-9]+\\)?[A-Za-z_][A-Za-z0-9_]*"
     . 'acc-number-error-face)
    ("\\_<[0-9]+\\_>" . 'acc-number-face)
    ("\\.\\.\\|->\\|[-+*/%=<>!]=?\\|&&\\|||\\|\\?" . 'acc-operator-face))
  "Font-lock rules of `acc-mode'; earlier rules win.")

(defvar acc-mode-syntax-table
  (let ((st (make-syntax-table)))
    (modify-syntax-entry ?_ "_" st)
    (modify-syntax-entry ?. "." st)
    (modify-syntax-entry ?/ ". 124b" st)
    (modify-syntax-entry ?* ". 23" st)
    (modify-syntax-entry ?\n "> b" st)
    (dolist (c '(?+ ?- ?% ?= ?< ?> ?! ?& ?| ?? ?: ?\; ?,))
      (modify-syntax-entry c "." st))
    st)
  "Syntax table of `acc-mode': // and /* */ comments, no strings.")

(defun acc-indent-line ()
  "Indent the current line: `acc-indent-offset' per open bracket; a line that
starts with a closer goes back one level."
  (interactive)
  (let* ((depth (save-excursion (car (syntax-ppss (line-beginning-position)))))
         (closer (save-excursion
                   (back-to-indentation)
                   (looking-at-p "[])}]")))
         (col (* acc-indent-offset (max 0 (- depth (if closer 1 0)))))
         (offset (- (current-column) (current-indentation))))
    (indent-line-to col)
    (when (> offset 0)
      (forward-char offset))))

;;;###autoload
(define-derived-mode acc-mode prog-mode "acc"
  "Major mode for .acc kernels (accl)."
  :syntax-table acc-mode-syntax-table
  (setq-local comment-start "// ")
  (setq-local comment-end "")
  (setq-local comment-start-skip "\\(?://+\\|/\\*+\\)\\s-*")
  (setq-local indent-line-function #'acc-indent-line)
  (setq-local indent-tabs-mode nil)
  (setq-local electric-indent-chars (append "{}()[]" electric-indent-chars))
  (setq-local font-lock-defaults '(acc-font-lock-keywords)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.acc\\'" . acc-mode))

(provide 'acc-mode)
;;; acc-mode.el ends here
