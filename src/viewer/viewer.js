/*
 * viewer.js - the circuit viewer of eap-viewer (issue #17): no libraries,
 * no network.  eap-viewer embeds this file, viewer.css and the data
 * (a script element of type application/json, id eap-data) into one HTML
 * file.  It must not contain a less-than sign followed by a slash (HTML
 * parsers end the script there), hence the backslashes in its markup.
 *
 * Data (see src/tools/eap-viewer.c): the graph (n_layer L, n_head H, the
 * forward and backward node names of SPEC §5) and per method the curve
 * (sizes = edges requested, edges after pruning, F, its 95% interval),
 * the summary (auc_log, cpr, cmd, min_edges_f80) and the edges in rank
 * order: u, v, score s and k, the index of the first size whose pruned
 * circuit holds the edge.  The circuit at size index i is every edge
 * with k <= i, exactly eap-prune's circuit of that size.
 *
 * State (method, size, compare partner, selection) lives in the URL
 * fragment: #m=eap-ig&size=100&cmp=exact&sel=n:a1.h2 (or sel=e:U-V).
 */
(function () {
	'use strict';

	var D = JSON.parse(document.getElementById('eap-data').textContent);
	var L = D.n_layer, H = D.n_head;
	var NF = D.fwd.length, NB = D.bwd.length;
	var LOGITS = NF;                 /* the logits node, after the forward ones */
	/* method colours as in plots/faithfulness.gp, then others in turn */
	var NAMED = { 'eap': '#d95f02', 'eap-ig': '#1b9e77', 'eap-ig-kl': '#7570b3', 'exact': '#333333' };
	var COLORS = ['#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#1f78b4', '#666666'];
	var POS = '#2166ac', NEG = '#c0392b';
	var SHARED = '#b4b4b4';   /* compare mode; the edges of one method only in its colour */
	var $ = function (id) { return document.getElementById(id); };

	/* ---- the graph: owners, kinds, layout ---- */

	/* backward input v: layer, kind (q k v mlp logits), owner node */
	function bwdInfo(v) {
		var per = 3 * H + 1;
		if (v === L * per)
			return { layer: L, kind: 'logits', owner: LOGITS };
		var l = Math.floor(v / per), r = v - l * per;
		if (r === 3 * H)
			return { layer: l, kind: 'mlp', owner: 1 + l * (H + 1) + H };
		return { layer: l, kind: 'qkv'.charAt(Math.floor(r / H)),
			owner: 1 + l * (H + 1) + (r % H) };
	}
	var BWD = [];
	for (var v = 0; v < NB; v++)
		BWD.push(bwdInfo(v));

	function nodeName(n) { return n === LOGITS ? 'logits' : D.fwd[n]; }
	function nodeIndex(name) {
		if (name === 'logits')
			return LOGITS;
		var i = D.fwd.indexOf(name);
		return i;
	}

	/* Layout: logits at the top, then per layer (from the last) its MLP
	 * row and its attention row, input at the bottom. */
	var COLW = Math.max(58, Math.min(84, 1000 / Math.max(H, 1)));
	var MARGIN = 64, NODE_W = Math.min(50, COLW - 10), NODE_H = 18;
	var GW = MARGIN + H * COLW + 20;
	var POSN = [], rowLabels = [];
	(function layout() {
		var y = 34, cx = MARGIN + H * COLW / 2;
		POSN[LOGITS] = { x: cx, y: y, w: 70 };
		rowLabels.push({ y: y, t: 'logits' });
		y += 56;
		for (var l = L - 1; l >= 0; l--) {
			POSN[1 + l * (H + 1) + H] = { x: cx, y: y, w: 60 };
			rowLabels.push({ y: y, t: 'MLP ' + l });
			y += 52;
			for (var h = 0; h < H; h++)
				POSN[1 + l * (H + 1) + h] = { x: MARGIN + (h + 0.5) * COLW, y: y, w: NODE_W };
			rowLabels.push({ y: y, t: 'attn ' + l });
			y += 64;
		}
		POSN[0] = { x: cx, y: y, w: 70 };
		rowLabels.push({ y: y, t: 'input' });
		POSN.height = y + 34;
	})();

	/* where an edge leaves u and enters v (q, k, v ports of a head) */
	function outPoint(u) { return [POSN[u].x, POSN[u].y - NODE_H / 2]; }
	function inPoint(v) {
		var b = BWD[v], p = POSN[b.owner];
		var dx = b.kind === 'q' ? -12 : b.kind === 'k' ? 0 : b.kind === 'v' ? 12 : 0;
		return [p.x + dx, p.y + NODE_H / 2];
	}
	function edgePath(u, v) {
		var a = outPoint(u), b = inPoint(v), dy = (a[1] - b[1]) * 0.45;
		return 'M' + a[0].toFixed(1) + ' ' + a[1].toFixed(1) + 'C' +
			a[0].toFixed(1) + ' ' + (a[1] - dy).toFixed(1) + ' ' +
			b[0].toFixed(1) + ' ' + (b[1] + dy).toFixed(1) + ' ' +
			b[0].toFixed(1) + ' ' + b[1].toFixed(1);
	}
	var DASH = { q: '', k: '5 2', v: '1.6 2', mlp: '', logits: '' };

	/* ---- methods ---- */
	var M = D.methods;
	var other = 0;
	M.forEach(function (m) {
		m.color = NAMED[m.name] || COLORS[other++ % COLORS.length];
		m.n = m.u.length;
		m.f80 = -1;              /* index of the smallest size with F >= 0.8 */
		for (var j = 0; j < m.f.length; j++)
			if (m.f[j] !== null && m.f[j] >= 0.8) { m.f80 = j; break; }
	});
	function methodIndex(name) {
		for (var i = 0; i < M.length; i++)
			if (M[i].name === name)
				return i;
		return -1;
	}
	/* the size index of method m with requested size req, or -1 */
	function sizeIndex(m, req) { return m.sizes.indexOf(req); }
	/* the nearest size index of m to req (for a method switch) */
	function nearestIndex(m, req) {
		var best = 0;
		for (var i = 0; i < m.sizes.length; i++)
			if (Math.abs(m.sizes[i] - req) < Math.abs(m.sizes[best] - req))
				best = i;
		return best;
	}
	/* ranks (0-based) of the edges of method m's circuit at size index i */
	function circuit(m, i) {
		var out = [];
		if (i < 0)
			return out;
		for (var r = 0; r < m.n; r++)
			if (m.k[r] <= i)
				out.push(r);
		return out;
	}
	function edgeKey(u, v) { return u * NB + v; }

	/* ---- state and the URL fragment ---- */
	var S = { m: 0, i: 0, cmp: false, c: -1, sel: null, canvas: false };
	(function defaults() {
		S.m = Math.max(0, methodIndex('eap-ig'));
		S.i = nearestIndex(M[S.m], 100);
		S.c = methodIndex('exact');
		if (S.c < 0 || S.c === S.m)
			S.c = S.m === 0 && M.length > 1 ? 1 : 0;
	})();

	function stateHash() {
		var p = ['m=' + encodeURIComponent(M[S.m].name),
			'size=' + M[S.m].sizes[S.i]];
		if (S.cmp)
			p.push('cmp=' + encodeURIComponent(M[S.c].name));
		if (S.sel)
			p.push('sel=' + encodeURIComponent(S.sel));
		if (S.canvas)
			p.push('draw=canvas');
		return '#' + p.join('&');
	}
	var lastHash = '';
	function readHash() {
		var h = location.hash.replace(/^#/, '');
		if (!h)
			return;
		var q = {};
		h.split('&').forEach(function (kv) {
			var j = kv.indexOf('=');
			if (j > 0)
				q[kv.slice(0, j)] = decodeURIComponent(kv.slice(j + 1));
		});
		if (q.m !== undefined && methodIndex(q.m) >= 0)
			S.m = methodIndex(q.m);
		if (q.size !== undefined) {
			var req = parseInt(q.size, 10);
			if (!isNaN(req))
				S.i = nearestIndex(M[S.m], req);
		}
		S.i = Math.min(S.i, M[S.m].sizes.length - 1);
		S.cmp = q.cmp !== undefined && methodIndex(q.cmp) >= 0;
		if (S.cmp)
			S.c = methodIndex(q.cmp);
		S.sel = q.sel && /^(n:|e:)/.test(q.sel) ? q.sel : null;
		S.canvas = q.draw === 'canvas';
	}
	function writeHash() {
		var h = stateHash();
		if (h === location.hash)
			return;
		lastHash = h;
		try {
			history.replaceState(null, '', h);
		} catch (e) {
			location.hash = h;
		}
	}

	/* ---- formatting ---- */
	function fmt(x, d) { return x === null || x === undefined ? 'n/a' : x.toFixed(d); }
	function fmtScore(s) {
		var a = Math.abs(s);
		return (s < 0 ? '\u2212' : '') + (a !== 0 && (a < 1e-3 || a >= 1e4) ? a.toExponential(2) : a.toPrecision(3));
	}
	function esc(s) {
		return String(s).replace(/&/g, '&amp;').replace(/\x3c/g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
	}
	function edgeName(u, v) { return D.fwd[u] + '\u2192' + D.bwd[v]; }
	function width(s, m) { return 0.5 + 4.5 * Math.min(1, Math.abs(s) / (m.max_abs || 1)); }

	/* ---- the graph ---- */
	var view = null;   /* what the last render drew: edges by data-i */
	/* Circuits of more edges than this are painted on a canvas under the
	 * SVG of the nodes: tens of thousands of SVG paths take seconds to lay
	 * out.  Their edges then have no hover; nodes keep theirs, and the SVG
	 * export still holds every edge.  #draw=canvas forces it (tests). */
	var CANVAS_EDGES = 2500;

	/* The SVG of the graph; with edges false, the edges are left out. */
	function graphSvg(edges) {
		var m = view.m, c = view.c, out = [];
		out.push('<svg id="graph-svg" width="' + GW + '" height="' + POSN.height +
			'" viewBox="0 0 ' + GW + ' ' + POSN.height + '" font-family="sans-serif" font-size="10">');
		if (edges)
			out.push('<rect width="100%" height="100%" fill="#ffffff"/>');
		out.push('<text x="8" y="14" font-size="11" fill="#333">' + esc(D.title) + ': ' +
			esc(m.name) + (c ? ' vs ' + esc(c.name) : '') + ', ' + m.sizes[S.i] + ' edges requested, ' +
			view.A.length + ' after pruning<\/text>');
		rowLabels.forEach(function (rl) {
			out.push('<text x="6" y="' + (rl.y + 3) + '" fill="#888">' + rl.t + '<\/text>');
		});
		out.push('<g id="edges" fill="none">');
		if (edges)
			view.style.forEach(function (e, j) {
				out.push('<path class="e" data-i="' + j + '" d="' + e.d + '" stroke="' + e.col +
					'" stroke-width="' + e.w.toFixed(2) + '" stroke-opacity="' + e.op + '"' +
					(e.dash ? ' stroke-dasharray="' + e.dash + '"' : '') + '/>');
			});
		out.push('<\/g><g id="nodes">');
		for (var n = 0; n <= NF; n++) {
			var p = POSN[n], on = !!view.nodesOn[n], isSel = n === view.hl;
			out.push('<g class="node' + (on ? ' on' : '') + '" data-node="' + esc(nodeName(n)) + '">' +
				'<rect x="' + (p.x - p.w / 2) + '" y="' + (p.y - NODE_H / 2) + '" width="' + p.w +
				'" height="' + NODE_H + '" rx="4" fill="' + (on ? '#fffbe6' : '#f4f4f4') +
				'" stroke="' + (isSel ? '#000' : on ? '#555' : '#cfcfcf') + '" stroke-width="' + (isSel ? 2.5 : 1) + '"/>' +
				'<text x="' + p.x + '" y="' + (p.y + 3.5) + '" text-anchor="middle" fill="' +
				(on ? '#111' : '#aaa') + '">' + esc(nodeName(n)) + '<\/text>');
			if (n !== 0 && n !== LOGITS && (n - 1) % (H + 1) !== H && on)
				['q', 'k', 'v'].forEach(function (t, z) {
					out.push('<text x="' + (p.x - 12 + 12 * z) + '" y="' + (p.y + NODE_H / 2 + 8) +
						'" text-anchor="middle" font-size="7" fill="#777">' + t + '<\/text>');
				});
			out.push('<\/g>');
		}
		out.push('<\/g><\/svg>');
		return out.join('');
	}

	function paintCanvas(cv) {
		var ratio = window.devicePixelRatio || 1, ctx = cv.getContext('2d');
		cv.width = Math.round(GW * ratio);
		cv.height = Math.round(POSN.height * ratio);
		cv.style.width = GW + 'px';   /* then scaled down with the SVG (viewer.css) */
		ctx.scale(ratio, ratio);
		ctx.fillStyle = '#ffffff';
		ctx.fillRect(0, 0, GW, POSN.height);
		/* one stroke per look (colour, opacity, dash, width to 0.5 px), in
		 * the order of each look's strongest edge: thousands of single
		 * strokes take seconds in a software rasteriser */
		var groups = {}, order = [];
		view.style.forEach(function (e) {
			var w = Math.max(0.5, Math.round(e.w * 2) / 2);
			var k = e.col + '|' + e.op + '|' + e.dash + '|' + w;
			if (!groups[k]) {
				groups[k] = { e: e, w: w, d: [] };
				order.push(k);
			}
			groups[k].d.push(e.d);
			groups[k].last = order.length;
		});
		order.sort(function (a, b) { return groups[a].last - groups[b].last; });
		order.forEach(function (k) {
			var g = groups[k];
			ctx.strokeStyle = g.e.col;
			ctx.globalAlpha = g.e.op;
			ctx.lineWidth = g.w;
			ctx.setLineDash(g.e.dash ? g.e.dash.split(' ').map(Number) : []);
			ctx.stroke(new Path2D(g.d.join('')));
		});
	}

	function renderGraph() {
		var m = M[S.m], A = circuit(m, S.i), req = m.sizes[S.i];
		var c = S.cmp ? M[S.c] : null, ci = c ? sizeIndex(c, req) : -1;
		var B = c ? circuit(c, ci) : [];
		var inA = {}, inB = {}, drawn = [], nodesOn = {};
		A.forEach(function (r) { inA[edgeKey(m.u[r], m.v[r])] = r; });
		B.forEach(function (r) { inB[edgeKey(c.u[r], c.v[r])] = r; });
		A.forEach(function (r) {
			var key = edgeKey(m.u[r], m.v[r]);
			drawn.push({ m: m, r: r, set: c ? (key in inB ? 'both' : 'a') : 'a' });
		});
		B.forEach(function (r) {
			if (!(edgeKey(c.u[r], c.v[r]) in inA))
				drawn.push({ m: c, r: r, set: 'b' });
		});
		var sel = selection();
		var hl = sel && sel.node !== undefined ? sel.node : -1;
		/* weakest first, so that strong edges lie on top, and above them
		 * the edges of one method only (compare), then the selected node's */
		drawn.forEach(function (d) {
			var u = d.m.u[d.r], v = d.m.v[d.r];
			nodesOn[u] = 1;
			nodesOn[BWD[v].owner] = 1;
			d.lit = hl >= 0 && (u === hl || BWD[v].owner === hl);
			d.key = (d.lit ? 4 : 0) + (c && d.set !== 'both' ? 2 : 0) + Math.abs(d.m.s[d.r]) / (d.m.max_abs || 1);
		});
		drawn.sort(function (x, y) { return x.key - y.key; });
		var style = drawn.map(function (d) {
			var u = d.m.u[d.r], v = d.m.v[d.r], s = d.m.s[d.r];
			var selE = sel && sel.edge !== undefined && sel.edge === edgeKey(u, v);
			var w = width(s, d.m);
			if (selE)
				w += 2;
			else if (d.lit || (c && d.set !== 'both'))
				w = Math.max(w, 1.6);   /* visible however weak */
			return { d: edgePath(u, v), w: w, dash: DASH[BWD[v].kind],
				col: !c ? (s < 0 ? NEG : POS) : d.set === 'both' ? SHARED : d.set === 'a' ? m.color : c.color,
				op: hl >= 0 && !d.lit ? 0.15 : selE || d.lit ? 1 : c && d.set === 'both' ? 0.5 : 0.8 };
		});
		view = { drawn: drawn, style: style, A: A, B: B, nodesOn: nodesOn, m: m, c: c, ci: ci, hl: hl };
		view.canvas = S.canvas || drawn.length > CANVAS_EDGES;
		var g = $('graph');
		if (view.canvas) {
			g.innerHTML = '<canvas id="graph-canvas"><\/canvas>' + graphSvg(false);
			paintCanvas($('graph-canvas'));
		} else
			g.innerHTML = graphSvg(true);
		g.setAttribute('data-mode', view.canvas ? 'canvas' : 'svg');
	}

	/* ---- selection: "n:NAME" or "e:U-V" ---- */
	function selection() {
		if (!S.sel)
			return null;
		if (S.sel.slice(0, 2) === 'n:') {
			var n = nodeIndex(S.sel.slice(2));
			return n >= 0 ? { node: n } : null;
		}
		var uv = S.sel.slice(2).split('-');
		var u = parseInt(uv[0], 10), v = parseInt(uv[1], 10);
		return u >= 0 && u < NF && v >= 0 && v < NB ? { edge: edgeKey(u, v), u: u, v: v } : null;
	}
	/* rank (0-based) of edge u->v in method m, or -1 if not embedded */
	function rankOf(m, u, v) {
		if (!m.rank) {
			m.rank = {};
			for (var r = 0; r < m.n; r++)
				m.rank[edgeKey(m.u[r], m.v[r])] = r;
		}
		var r = m.rank[edgeKey(u, v)];
		return r === undefined ? -1 : r;
	}
	function edgeRows(m, list, col) {
		if (!list.length)
			return '<p class="none">none<\/p>';
		var rows = list.slice(0, 40).map(function (r) {
			return '<tr class="sel-edge" data-u="' + m.u[r] + '" data-v="' + m.v[r] + '"><td>' +
				esc(col === 'in' ? D.fwd[m.u[r]] + ' \u2192 ' + D.bwd[m.v[r]] : '\u2192 ' + D.bwd[m.v[r]]) +
				'<\/td><td class="num">' + fmtScore(m.s[r]) + '<\/td><td class="num">' + (r + 1) + '<\/td><\/tr>';
		});
		return '<table class="list"><tr><th>edge<\/th><th>score<\/th><th>rank<\/th><\/tr>' + rows.join('') +
			'<\/table>' + (list.length > 40 ? '<p class="none">and ' + (list.length - 40) + ' more<\/p>' : '');
	}
	function renderDetails() {
		var sel = selection(), m = M[S.m], box = $('details');
		if (!sel) {
			box.innerHTML = '<p class="hint">Click a node or an edge for its scores and neighbours.<\/p>';
			return;
		}
		var h = [];
		if (sel.node !== undefined) {
			var n = sel.node, ins = [], outs = [];
			view.A.forEach(function (r) {
				if (BWD[m.v[r]].owner === n)
					ins.push(r);
				if (m.u[r] === n)
					outs.push(r);
			});
			var firstIn = -1;
			for (var r = 0; r < m.n; r++)
				if ((m.u[r] === n || BWD[m.v[r]].owner === n) && m.k[r] < m.sizes.length &&
				    (firstIn < 0 || m.k[r] < firstIn))
					firstIn = m.k[r];
			h.push('<h3 id="sel-title">node ' + esc(nodeName(n)) + '<\/h3>');
			h.push('<p id="sel-summary">' + (view.nodesOn[n] ? 'in' : 'not in') + ' the circuit of ' +
				m.sizes[S.i] + ' requested edges; <b id="n-in">' + ins.length + '<\/b> incoming and <b id="n-out">' + outs.length + '<\/b>' +
				' outgoing edges in it' + (firstIn >= 0 ? '; enters the circuits at ' + m.sizes[firstIn] +
				' requested edges' : '') + '.<\/p>');
			h.push('<h4>incoming (by |score|)<\/h4><div id="sel-in">' + edgeRows(m, ins, 'in') + '<\/div>');
			h.push('<h4>outgoing (by |score|)<\/h4><div id="sel-out">' + edgeRows(m, outs, 'out') + '<\/div>');
		} else {
			var u = sel.u, v = sel.v;
			h.push('<h3 id="sel-title">edge ' + esc(edgeName(u, v)) + '<\/h3>');
			var ms = S.cmp ? [m, M[S.c]] : [m];
			h.push('<table class="list"><tr><th>method<\/th><th>score<\/th><th>rank<\/th><th>in circuit from<\/th><\/tr>');
			ms.forEach(function (mm) {
				var r = rankOf(mm, u, v);
				h.push('<tr><td>' + esc(mm.name) + '<\/td><td class="num">' + (r < 0 ? 'n/a' : fmtScore(mm.s[r])) +
					'<\/td><td class="num">' + (r < 0 ? '> ' + mm.n : r + 1) + '<\/td><td class="num">' +
					(r < 0 || mm.k[r] >= mm.sizes.length ? 'never' : mm.sizes[mm.k[r]] + ' requested') + '<\/td><\/tr>');
			});
			h.push('<\/table>');
			h.push('<p class="hint">Score: estimated change of the metric when the edge is patched to its ' +
				'corrupted value (negative: the edge supports the task). Rank among ' + D.n_edges + ' edges by |score|.<\/p>');
		}
		box.innerHTML = h.join('');
	}

	/* ---- the curve ---- */
	function renderCurve() {
		var W = 440, Hh = 260, ml = 44, mr = 12, mt = 12, mb = 40;
		var xmax = D.n_edges, lo = 0, hi = 1;
		M.forEach(function (m) {
			for (var j = 0; j < m.f.length; j++) {
				[m.f[j], m.lo[j], m.hi[j]].forEach(function (y) {
					if (y !== null) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
				});
			}
		});
		lo = Math.max(lo, -1.5);
		hi = Math.min(hi, 2.5);
		var pad = (hi - lo) * 0.05;
		lo -= pad; hi += pad;
		function X(e) { return ml + (W - ml - mr) * Math.log(Math.max(e, 1)) / Math.log(Math.max(xmax, 2)); }
		function Y(f) { return mt + (Hh - mt - mb) * (hi - Math.max(lo, Math.min(hi, f))) / (hi - lo); }
		var o = [];
		o.push('<svg id="curve-svg" width="' + W + '" height="' + Hh + '" font-family="sans-serif" font-size="10">');
		o.push('<rect x="' + ml + '" y="' + mt + '" width="' + (W - ml - mr) + '" height="' + (Hh - mt - mb) +
			'" fill="#fff" stroke="#bbb"/>');
		var step = hi - lo > 2 ? 0.5 : 0.25;
		for (var t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
			o.push('<line x1="' + ml + '" x2="' + (W - mr) + '" y1="' + Y(t) + '" y2="' + Y(t) + '" stroke="#eee"/>');
			o.push('<text x="' + (ml - 4) + '" y="' + (Y(t) + 3) + '" text-anchor="end" fill="#555">' + t.toFixed(2) + '<\/text>');
		}
		for (var p = 1; p <= xmax; p *= 10) {
			o.push('<line x1="' + X(p) + '" x2="' + X(p) + '" y1="' + mt + '" y2="' + (Hh - mb) + '" stroke="#eee"/>');
			o.push('<text x="' + X(p) + '" y="' + (Hh - mb + 12) + '" text-anchor="middle" fill="#555">' +
				(p >= 1e6 ? p / 1e6 + 'M' : p >= 1e3 ? p / 1e3 + 'k' : p) + '<\/text>');
		}
		o.push('<text x="' + ((ml + W - mr) / 2) + '" y="' + (Hh - 8) + '" text-anchor="middle" fill="#333">' +
			'edges after pruning (log scale; ' + xmax + ' in the graph)<\/text>');
		o.push('<text transform="translate(11,' + ((mt + Hh - mb) / 2) + ') rotate(-90)" text-anchor="middle" fill="#333">' +
			'faithfulness F<\/text>');
		o.push('<line x1="' + ml + '" x2="' + (W - mr) + '" y1="' + Y(0.8) + '" y2="' + Y(0.8) +
			'" stroke="#999" stroke-dasharray="4 3"/><text x="' + (ml + 4) + '" y="' + (Y(0.8) + 11) +
			'" fill="#777">F = 0.8<\/text>');
		var order = M.map(function (m, i) { return i; }).filter(function (i) { return i !== S.m; });
		order.push(S.m);   /* the shown method on top */
		order.forEach(function (mi) {
			var m = M[mi], main = mi === S.m || (S.cmp && mi === S.c), band = [], line = [];
			for (var j = 0; j < m.f.length; j++) {
				if (m.f[j] === null || m.edges[j] < 1)
					continue;   /* an empty circuit has no place on a log axis */
				line.push(X(m.edges[j]).toFixed(1) + ',' + Y(m.f[j]).toFixed(1));
				if (m.lo[j] !== null)
					band.push([X(m.edges[j]), Y(m.lo[j]), Y(m.hi[j])]);
			}
			if (main && band.length) {
				var pts = band.map(function (b) { return b[0].toFixed(1) + ',' + b[1].toFixed(1); })
					.concat(band.slice().reverse().map(function (b) { return b[0].toFixed(1) + ',' + b[2].toFixed(1); }));
				o.push('<polygon points="' + pts.join(' ') + '" fill="' + m.color + '" fill-opacity="0.15"/>');
			}
			o.push('<polyline points="' + line.join(' ') + '" fill="none" stroke="' + m.color +
				'" stroke-width="' + (main ? 2 : 1.2) + '" stroke-opacity="' + (main ? 1 : 0.55) + '"/>');
			if (m.f80 >= 0 && m.edges[m.f80] >= 1) {
				var fx = X(m.edges[m.f80]), fy = Y(m.f[m.f80]);
				o.push('<path d="M' + fx + ' ' + (fy - 5) + 'l5 5l-5 5l-5 -5z" fill="#fff" stroke="' + m.color + '" stroke-width="1.5"/>');
			}
		});
		/* the current size: each method's point */
		var req = M[S.m].sizes[S.i];
		var mx = X(M[S.m].edges[S.i]);
		o.push('<line id="curve-now" x1="' + mx + '" x2="' + mx + '" y1="' + mt + '" y2="' + (Hh - mb) +
			'" stroke="#333" stroke-dasharray="2 2"/>');
		order.forEach(function (mi) {
			var m = M[mi], j = sizeIndex(m, req);
			if (j < 0 || m.f[j] === null || m.edges[j] < 1)
				return;
			o.push('<circle class="now" cx="' + X(m.edges[j]) + '" cy="' + Y(m.f[j]) + '" r="' +
				(mi === S.m ? 5 : 3.5) + '" fill="' + m.color + '" stroke="#fff" stroke-width="1"/>');
		});
		o.push('<\/svg>');
		$('curve').innerHTML = o.join('');
	}

	/* ---- the table, the size label, compare, legend ---- */
	/* the summary's smallest circuit with F >= 0.8, else the curve's */
	function f80text(m) {
		var e = m.summary && m.summary.min_edges_f80 !== undefined && m.summary.min_edges_f80 !== null
			? m.summary.min_edges_f80 : m.f80 >= 0 ? m.edges[m.f80] : -1;
		return e < 0 ? 'none' : String(e);
	}
	function renderTable() {
		var req = M[S.m].sizes[S.i];
		$('rows').innerHTML = M.map(function (m, mi) {
			var j = sizeIndex(m, req), s = m.summary || {};
			var cls = mi === S.m ? 'main' : S.cmp && mi === S.c ? 'cmp' : '';
			return '<tr data-method="' + esc(m.name) + '" class="' + cls + '">' +
				'<td class="name"><span class="sw" style="background:' + m.color + '"><\/span>' + esc(m.name) + '<\/td>' +
				'<td class="num edges">' + (j < 0 ? 'n/a' : m.edges[j]) + '<\/td>' +
				'<td class="num f">' + (j < 0 ? 'n/a' : fmt(m.f[j], 3)) + '<\/td>' +
				'<td class="num ci">' + (j < 0 ? 'n/a' : '[' + fmt(m.lo[j], 3) + ', ' + fmt(m.hi[j], 3) + ']') + '<\/td>' +
				'<td class="num auc">' + fmt(s.auc_log, 3) + '<\/td>' +
				'<td class="num cpr">' + fmt(s.cpr, 3) + '<\/td>' +
				'<td class="num cmd">' + fmt(s.cmd, 3) + '<\/td>' +
				'<td class="num f80">' + f80text(m) + '<\/td><\/tr>';
		}).join('');
	}
	function pct(x) { x *= 100; return x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toPrecision(2); }
	function renderSizeLabel() {
		var m = M[S.m], req = m.sizes[S.i], nodes = 0;
		nodes = Object.keys(view.nodesOn).length;
		var a = view.A.length;
		$('size-label').innerHTML = '<b id="req">' + req + '<\/b> edges requested (' +
			pct(req / D.n_edges) + '% of ' + D.n_edges + ') \u2192 <b id="drawn">' +
			a + '<\/b> after pruning' + (S.cmp ? ' (drawn with ' + esc(M[S.c].name) + '\'s ' + view.B.length +
			': ' + view.drawn.length + ' edges in all)' : '') + ', <b id="nodes-on">' + nodes + '<\/b> nodes';
	}
	function renderCompare() {
		var box = $('compare-info');
		if (!S.cmp) {
			box.innerHTML = '';
			box.style.display = 'none';
			return;
		}
		box.style.display = '';
		var a = view.A.length, b = view.B.length, m = view.m, c = view.c, shared = 0;
		if (view.ci < 0) {
			box.innerHTML = esc(c.name) + ' has no circuit of ' + m.sizes[S.i] + ' requested edges.';
			return;
		}
		var inB = {};
		view.B.forEach(function (r) { inB[edgeKey(c.u[r], c.v[r])] = 1; });
		view.A.forEach(function (r) { if (edgeKey(m.u[r], m.v[r]) in inB) shared++; });
		var uni = a + b - shared;
		box.innerHTML = '<b>' + esc(m.name) + '<\/b> (A, ' + a + ' edges) vs <b>' + esc(c.name) + '<\/b> (B, ' + b +
			' edges): <span class="item"><span class="sw" style="background:' + SHARED + '"><\/span>shared <b id="shared">' + shared +
			'<\/b><\/span>, <span class="item"><span class="sw" style="background:' + m.color + '"><\/span>only A <b id="only-a">' + (a - shared) +
			'<\/b><\/span>, <span class="item"><span class="sw" style="background:' + c.color + '"><\/span>only B <b id="only-b">' + (b - shared) +
			'<\/b><\/span>; edge IoU <b id="iou">' + (uni ? (shared / uni).toFixed(3) : '1.000') + '<\/b>';
	}
	function renderLegend() {
		var m = M[S.m], o = [];
		o.push('<svg width="640" height="58" font-family="sans-serif" font-size="10">');
		var x = 4;
		function item(col, dash, label) {
			o.push('<line x1="' + x + '" x2="' + (x + 26) + '" y1="12" y2="12" stroke="' + col +
				'" stroke-width="2.5"' + (dash ? ' stroke-dasharray="' + dash + '"' : '') + '/>');
			o.push('<text x="' + (x + 30) + '" y="15" fill="#333">' + label + '<\/text>');
			x += 36 + label.length * 5.4;
		}
		if (S.cmp) {
			item(SHARED, '', 'in both');
			item(m.color, '', 'only ' + esc(m.name));
			item(M[S.c].color, '', 'only ' + esc(M[S.c].name));
		} else {
			item(NEG, '', 'score < 0: patching lowers the metric');
			item(POS, '', 'score > 0: raises it');
		}
		x = 4;
		o.push('<text x="' + x + '" y="40" fill="#333">into q<\/text>');
		o.push('<line x1="' + (x + 36) + '" x2="' + (x + 62) + '" y1="37" y2="37" stroke="#555" stroke-width="2"/>');
		o.push('<text x="' + (x + 68) + '" y="40" fill="#333">k<\/text>');
		o.push('<line x1="' + (x + 78) + '" x2="' + (x + 104) + '" y1="37" y2="37" stroke="#555" stroke-width="2" stroke-dasharray="' + DASH.k + '"/>');
		o.push('<text x="' + (x + 110) + '" y="40" fill="#333">v<\/text>');
		o.push('<line x1="' + (x + 120) + '" x2="' + (x + 146) + '" y1="37" y2="37" stroke="#555" stroke-width="2" stroke-dasharray="' + DASH.v + '"/>');
		x = 170;
		o.push('<text x="' + x + '" y="40" fill="#333">|score|:<\/text>');
		x += 44;
		[0.1, 0.25, 0.5, 1].forEach(function (fr) {
			var s = fr * m.max_abs;
			o.push('<line x1="' + x + '" x2="' + (x + 24) + '" y1="37" y2="37" stroke="#555" stroke-width="' + width(s, m).toFixed(2) + '"/>');
			o.push('<text x="' + (x + 28) + '" y="40" fill="#333">' + fmtScore(s) + '<\/text>');
			x += 86;
		});
		o.push('<\/svg>');
		$('legend').innerHTML = o.join('');
	}
	function renderAbout() {
		var m = M[S.m], last = m.sizes[m.sizes.length - 1];
		$('about').innerHTML = '<p><b>' + esc(m.name) + '<\/b>: method ' + esc(m.method) + ', metric ' + esc(m.metric) +
			(m.steps ? ', ' + m.steps + ' IG steps' : '') + ', scored on ' + m.n_examples + ' examples; ' +
			esc(m.selection) + ' selection by |score|, pruned to input\u2192logits paths; F with ' +
			esc(m.ablation || 'patching') + ' ablation and its 95% bootstrap interval. Diamonds: the smallest ' +
			'circuit with F \u2265 0.8.' + (last < D.n_edges ? ' Sizes shown up to ' + last + ' of ' + D.n_edges +
			' edges (eap-viewer --max-edges).' : '') + '<\/p>';
	}
	function renderMethods() {
		var box = $('methods');
		if (!box.firstChild) {
			box.innerHTML = M.map(function (m) {
				return '<button type="button" data-method="' + esc(m.name) + '">' + esc(m.name) + '<\/button>';
			}).join('');
			$('compare-method').innerHTML = M.map(function (m, i) {
				return '<option value="' + i + '">' + esc(m.name) + '<\/option>';
			}).join('');
		}
		Array.prototype.forEach.call(box.children, function (b, i) {
			b.className = i === S.m ? 'on' : '';
			b.style.borderColor = M[i].color;
		});
		$('compare').checked = S.cmp;
		$('compare-method').value = String(S.c);
		var sl = $('size');
		sl.max = String(M[S.m].sizes.length - 1);
		sl.value = String(S.i);
	}

	function render() {
		renderMethods();
		renderGraph();
		renderSizeLabel();
		renderCurve();
		renderTable();
		renderCompare();
		renderLegend();
		renderDetails();
		renderAbout();
		writeHash();
	}

	/* ---- events ---- */
	$('size').addEventListener('input', function () {
		S.i = parseInt(this.value, 10);
		render();
	});
	/* a method button or a table row: switch, keeping the size */
	function switchTo(ev) {
		var b = ev.target.closest('[data-method]');
		if (!b)
			return;
		var req = M[S.m].sizes[S.i];
		S.m = methodIndex(b.getAttribute('data-method'));
		S.i = nearestIndex(M[S.m], req);
		render();
	}
	$('methods').addEventListener('click', switchTo);
	$('rows').addEventListener('click', switchTo);
	$('compare').addEventListener('change', function () {
		S.cmp = this.checked;
		render();
	});
	$('compare-method').addEventListener('change', function () {
		S.c = parseInt(this.value, 10);
		S.cmp = true;
		render();
	});
	$('graph').addEventListener('click', function (ev) {
		var g = ev.target.closest('.node'), e = ev.target.closest('path.e');
		if (g)
			S.sel = 'n:' + g.getAttribute('data-node');
		else if (e) {
			var d = view.drawn[+e.getAttribute('data-i')];
			S.sel = 'e:' + d.m.u[d.r] + '-' + d.m.v[d.r];
		} else
			S.sel = null;
		render();
	});
	$('details').addEventListener('click', function (ev) {
		var tr = ev.target.closest('tr.sel-edge');
		if (!tr)
			return;
		S.sel = 'e:' + tr.getAttribute('data-u') + '-' + tr.getAttribute('data-v');
		render();
	});
	var tip = $('tip');
	$('graph').addEventListener('mousemove', function (ev) {
		var g = ev.target.closest('.node'), e = ev.target.closest('path.e'), t = '';
		if (g) {
			var n = nodeIndex(g.getAttribute('data-node')), ins = 0, outs = 0, m = view.m;
			view.A.forEach(function (r) {
				if (BWD[m.v[r]].owner === n) ins++;
				if (m.u[r] === n) outs++;
			});
			t = esc(nodeName(n)) + ': ' + ins + ' in, ' + outs + ' out in ' + esc(m.name) + '\'s circuit';
		} else if (e) {
			var d = view.drawn[+e.getAttribute('data-i')];
			t = esc(edgeName(d.m.u[d.r], d.m.v[d.r])) + '<br>' + esc(d.m.name) + ': score ' +
				fmtScore(d.m.s[d.r]) + ', rank ' + (d.r + 1) + ' of ' + D.n_edges;
		}
		if (!t) {
			tip.style.display = 'none';
			return;
		}
		tip.innerHTML = t;
		tip.style.display = 'block';
		tip.style.left = (ev.clientX + 14) + 'px';
		tip.style.top = (ev.clientY + 10) + 'px';
	});
	$('graph').addEventListener('mouseleave', function () { tip.style.display = 'none'; });
	$('export').addEventListener('click', function () {
		var box = document.createElement('div');
		box.innerHTML = graphSvg(true);
		var text = new XMLSerializer().serializeToString(box.firstChild);
		var a = document.createElement('a');
		a.href = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
		a.download = 'circuit-' + M[S.m].name + '-' + M[S.m].sizes[S.i] + (S.cmp ? '-vs-' + M[S.c].name : '') + '.svg';
		document.body.appendChild(a);
		a.click();
		document.body.removeChild(a);
		setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
	});
	window.addEventListener('hashchange', function () {
		if (location.hash === lastHash)
			return;
		readHash();
		render();
	});

	readHash();
	render();
	document.body.setAttribute('data-ready', '1');
})();
