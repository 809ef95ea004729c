// Tokenizes .acc files with the VS Code TextMate engine (vscode-textmate and
// vscode-oniguruma) and the grammar in lang/editors/vscode, and compares the
// scopes with golden files. Usage: node vscode.js GOLDEN_DIR [--update] FILE...
// Prints one line per file: "ok NAME", "FAIL NAME" (with a diff hint) or "updated NAME".
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..', '..');
const grammarPath = path.join(root, 'lang/editors/vscode/syntaxes/acc.tmLanguage.json');

async function loadGrammar() {
    const wasm = fs.readFileSync(path.join(__dirname, 'node_modules/vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
        onigLib: Promise.resolve({
            createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
            createOnigString: (s) => new oniguruma.OnigString(s),
        }),
        loadGrammar: async (scopeName) => scopeName === 'source.acc'
            ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath)
            : null,
    });
    return registry.loadGrammar('source.acc');
}

// One line per run of tokens with the same scopes: "LINE: text <TAB> scopes".
// Whitespace-only tokens are left out; unscoped text shows as "-".
function scopesOf(grammar, text) {
    const out = [];
    let state = vsctm.INITIAL;
    text.split('\n').forEach((line, i) => {
        const r = grammar.tokenizeLine(line, state);
        state = r.ruleStack;
        let run = null;
        for (const t of r.tokens) {
            const piece = line.slice(t.startIndex, t.endIndex);
            const scope = t.scopes.slice(1).join(' ') || '-';
            if (piece.trim() === '') {
                if (run && !scope.startsWith('comment')) { out.push(run); run = null; }
                else if (run) run.text += piece;
                continue;
            }
            if (run && run.scope === scope) { run.text += piece; continue; }
            if (run) out.push(run);
            run = { line: i + 1, text: piece, scope };
        }
        if (run) out.push(run);
    });
    return out.map((r) => `${r.line}: ${r.text.trim()}\t${r.scope}`).join('\n') + '\n';
}

async function main() {
    const args = process.argv.slice(2);
    const update = args.includes('--update');
    const [goldenDir, ...files] = args.filter((a) => a !== '--update');
    const grammar = await loadGrammar();
    let failed = 0;
    for (const file of files) {
        const name = path.basename(file, '.acc');
        const golden = path.join(goldenDir, name + '.scopes');
        const got = scopesOf(grammar, fs.readFileSync(file, 'utf8'));
        if (update) {
            fs.writeFileSync(golden, got);
            console.log(`updated ${name}`);
            continue;
        }
        const want = fs.existsSync(golden) ? fs.readFileSync(golden, 'utf8') : '';
        if (got === want) {
            console.log(`ok ${name}`);
            continue;
        }
        failed++;
        const g = got.split('\n'), w = want.split('\n');
        let k = 0;
        while (k < g.length && g[k] === w[k]) k++;
        console.log(`FAIL ${name}: first difference at line ${k + 1} of ${golden}\n  want: ${w[k]}\n  got:  ${g[k]}`);
    }
    process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 2; });
