#!/usr/bin/env node
/*
 * gpt2_tokenize.js - writes the GPT-2 tokenizer fixtures of
 * tests/test_tokenizer.c with the npm package gpt-3-encoder@1.1.4 (a port
 * of openai/gpt-2's encoder.py) as the reference.
 *
 * Regenerate, from the repository root (needs node and the npm registry;
 * node_modules is never committed, the package lives in a temp dir):
 *
 *   d=$(mktemp -d) && (cd "$d" && npm pack gpt-3-encoder@1.1.4 &&
 *       tar xzf gpt-3-encoder-1.1.4.tgz)
 *   node tests/reference/gpt2_tokenize.js "$d/package"
 *
 * The package's encoder.json and vocab.bpe must be byte-identical to
 * data/tokenizers/gpt2/ (checked here), so the C tests and this script
 * tokenize with the same files.
 *
 * Reads  tests/fixtures/paper-data/<task>/gpt2.csv (the paper's CSVs) and
 *        tests/fixtures/paper-data/sva/combined_verb_list.csv.
 * Writes tests/fixtures/tokenizer/<task>.ids: '#' comment lines, then one
 *          line per CSV data row: clean ids, a tab, corrupted ids (ids
 *          space-separated, no BOS).  All rows, SVA's 12,400 included.
 *        tests/fixtures/tokenizer/strings.jsonl: one JSON array
 *          [text, [ids]] per line: first the edge cases of EDGE_CASES
 *          below, then each distinct answer string the tasks use: the
 *          pieces of IOI's, greater-than's and gender's label ids,
 *          " " + country of fact retrieval, " " + each hypernymy answer,
 *          " " + each SVA verb form.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const TASKS = ['ioi', 'greater-than', 'gender-bias', 'sva',
	       'fact-retrieval-comma', 'hypernymy-comma'];
const PAPER = 'tests/fixtures/paper-data';
const OUT = 'tests/fixtures/tokenizer';

if (process.argv.length !== 3) {
	console.error('usage: node tests/reference/gpt2_tokenize.js PACKAGE_DIR');
	process.exit(2);
}
const pkg = path.resolve(process.argv[2]);
const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'))).version;
if (version !== '1.1.4')
	throw new Error(`expected gpt-3-encoder 1.1.4, got ${version}`);
for (const f of ['encoder.json', 'vocab.bpe']) {
	const a = fs.readFileSync(path.join(pkg, f));
	const b = fs.readFileSync(path.join('data/tokenizers/gpt2', f));
	if (!a.equals(b))
		throw new Error(`${f} differs from data/tokenizers/gpt2/${f}`);
}
const { encode, decode } = require(path.join(pkg, 'Encoder.js'));

/* RFC 4180 CSV: quoted fields with "" escapes; returns objects by header. */
function readCsv(file) {
	const t = fs.readFileSync(file, 'utf8');
	const rows = [];
	let row = [], f = '', q = false;
	for (let i = 0; i < t.length; i++) {
		const c = t[i];
		if (q) {
			if (c === '"' && t[i + 1] === '"') { f += '"'; i++; }
			else if (c === '"') q = false;
			else f += c;
		} else if (c === '"') q = true;
		else if (c === ',') { row.push(f); f = ''; }
		else if (c === '\n') { row.push(f); rows.push(row); row = []; f = ''; }
		else if (c !== '\r') f += c;
	}
	if (f !== '' || row.length) { row.push(f); rows.push(row); }
	const head = rows[0];
	return rows.slice(1).map((r, i) => {
		if (r.length !== head.length)
			throw new Error(`${file}:${i + 2}: ${r.length} fields, header has ${head.length}`);
		return Object.fromEntries(head.map((k, j) => [k, r[j]]));
	});
}

/* "['gem', 'gems']" -> ['gem', 'gems'] (the CSVs hold Python list reprs) */
const pyList = s => Array.from(s.matchAll(/'([^']*)'/g), m => m[1]);

/* the pre-tokenisation regex's branches, white space runs, non-ASCII */
const EDGE_CASES = [
	'', ' ', 'Hello world', '  two leading spaces', 'trailing spaces   ',
	'tab\tand\nnewline\r\n', '\n\n\nx', 'a  b   c    d',
	"I'm sure you're right, they've said we'll see and he'd know it's",
	"'S 'T 'RE upper-case contractions don't split", "rock'n'roll ''quoted''",
	'1234567890 12 1.5 3,000,000', 'x1y2z3', '!!!??? ...  --- ;-)',
	'caf\u00e9 na\u00efve \u00fcber \u00f1and\u00fa', 'Bogot\u00e1, S\u00e3o Tom\u00e9',
	'\u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e', 'emoji \u{1F600}\u{1F680} done',
	'\u0391\u03b8\u03ae\u03bd\u03b1 \u041c\u043e\u0441\u043a\u0432\u0430',
	'nbsp\u00a0here and\u2003em space', 'x \u00a0y', 'x\u00a0 y',
	'word\u3000\u3000next \u3000 end', 'para\u2029graph', '<|endoftext|>', '<|endoftext|> after',
	'\u0100\u0120 byte-map look-alikes', 'x\u0301 combining', '\u0660\u0661\u0662 Arabic digits',
];

fs.mkdirSync(OUT, { recursive: true });
const answers = new Map();
const addAnswer = s => { if (!answers.has(s)) answers.set(s, encode(s)); };
EDGE_CASES.forEach(addAnswer);

for (const task of TASKS) {
	const rows = readCsv(path.join(PAPER, task, 'gpt2.csv'));
	const lines = [
		`# written by tests/reference/gpt2_tokenize.js (gpt-3-encoder ${version}); do not edit`,
		`# from ${PAPER}/${task}/gpt2.csv, ${rows.length} rows: clean ids<TAB>corrupted ids, no BOS`,
	];
	for (const r of rows) {
		lines.push(encode(r.clean).join(' ') + '\t' + encode(r.corrupted).join(' '));
		switch (task) {
		case 'ioi':
			addAnswer(decode([+r.correct_idx]));
			addAnswer(decode([+r.incorrect_idx]));
			break;
		case 'greater-than':
			addAnswer(r.correct_idx.padStart(2, '0'));
			break;
		case 'gender-bias':
			addAnswer(decode([+r.clean_answer_idx]));
			addAnswer(decode([+r.corrupted_answer_idx]));
			break;
		case 'fact-retrieval-comma':
			addAnswer(' ' + r.country);
			addAnswer(' ' + r.corrupted_country);
			break;
		case 'hypernymy-comma':
			pyList(r.answers).concat(pyList(r.corrupted_answers))
				.forEach(a => addAnswer(' ' + a));
			break;
		}
	}
	fs.writeFileSync(path.join(OUT, task + '.ids'), lines.join('\n') + '\n');
	console.log(`${task}: ${rows.length} rows`);
}
for (const r of readCsv(path.join(PAPER, 'sva', 'combined_verb_list.csv'))) {
	addAnswer(' ' + r.sing);
	addAnswer(' ' + r.plur);
}
fs.writeFileSync(path.join(OUT, 'strings.jsonl'),
	Array.from(answers, ([s, ids]) => JSON.stringify([s, ids])).join('\n') + '\n');
console.log(`strings: ${answers.size} (${EDGE_CASES.length} edge cases)`);
