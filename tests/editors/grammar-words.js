// Prints the word lists of the TextMate grammar in the format of words.c:
// "CATEGORY word word ...", one repository rule per category.
'use strict';
const fs = require('fs');
const path = require('path');

const file = path.join(__dirname, '../../lang/editors/vscode/syntaxes/acc.tmLanguage.json');
const repo = JSON.parse(fs.readFileSync(file, 'utf8')).repository;
for (const cat of ['decl', 'clause', 'const', 'types', 'intrinsics', 'hardware', 'targets', 'shapes']) {
    const m = /^\\b\(\?:(.*)\)\\b$/.exec((repo[cat] || {}).match || '');
    const words = m ? m[1].split('|').map((w) => w.replace(/\\\./g, '.')) : [];
    console.log([cat, ...words].join(' '));
}
