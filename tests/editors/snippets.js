// Prints the kernel snippet and then the schedule snippet of the VS Code extension with
// every placeholder at its default (the first choice of a choice list), so that
// run.sh can check the result with accl --check.
'use strict';
const fs = require('fs');
const path = require('path');

const file = path.join(__dirname, '../../lang/editors/vscode/snippets/acc.json');
const snippets = JSON.parse(fs.readFileSync(file, 'utf8'));
const expand = (body) => body.join('\n')
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/\$\{\d+\|([^,|]*)[^}]*\}/g, '$1')
    .replace(/\$\d+/g, '');
console.log(expand(snippets.kernel.body) + '\n\n' + expand(snippets.schedule.body));
