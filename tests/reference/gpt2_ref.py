#!/usr/bin/python3
"""Independent PyTorch reference for the EAP-C test fixtures (SPEC §3-§9).

Produces (all paths relative to the repository root):

  tests/fixtures/models/<name>/   config.json, model.safetensors [, vocab.txt]
      tiny-word    2 layers x 4 heads, d 32, word vocab (40), F32, tied
      tiny-untied  3 layers x 2 heads, d 16, word vocab (30), F32,
                   `transformer.` prefix, untied lm_head.weight, eps 1e-6,
                   MLP width 3d (config n_inner 48)
      tiny-bpe     2 layers x 12 heads, d 24, GPT-2 vocab size 50257,
                   F16 matrices/embeddings, BF16 layer norms and biases
  tests/fixtures/ref/<name>-forward.safetensors
      tokens, lengths, logits_last [, logits]          (SPEC §3, §4)
  tests/fixtures/ref/<name>-graph.safetensors
      node outputs, metrics, gradients, edge scores of every method and
      circuit evaluations                               (SPEC §5-§7, §9)
  The exact tensor list of each file is in tests/reference/README.md.

Everything is computed in float64 from the values exactly as stored in
model.safetensors (F16/BF16 weights are rounded first, then widened), and
written as F32.  The computational graph is rebuilt explicitly from node
outputs: every backward input v gets its own residual copy
x_v = sum_{u->v} y_u + (b_O of earlier layers), plus a zero tensor that
requires grad, so d(metric)/d(that zero) is g_v of SPEC §6.  A plain
Hugging-Face-style forward (heads concatenated) is kept separately and the
two are asserted equal.  The script also asserts gradients against finite
differences and the circuit-evaluation identities of SPEC §9.

Regenerate from the repository root (Debian's python with torch):

    /usr/bin/python3 tests/reference/gpt2_ref.py

Deterministic: fixed seeds, one thread; re-running gives byte-identical
files.  Never edit the outputs by hand.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.join(ROOT, "tests", "fixtures", "models")
REF_DIR = os.path.join(ROOT, "tests", "fixtures", "ref")

METRICS = ("logit_diff", "prob_diff", "kl", "kl_sum")
IG_STEPS = 5

# --------------------------------------------------------------------------
# safetensors, written by hand
# --------------------------------------------------------------------------

ITEMSIZE = {"F32": 4, "I32": 4, "F16": 2, "BF16": 2, "U8": 1, "BOOL": 1}


def f64_to_bf16_bits(a):
    """float64 array -> uint16 bfloat16 bits (via float32, round to nearest even)."""
    u = np.ascontiguousarray(np.asarray(a, dtype=np.float32)).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f64(b):
    return (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def encode(arr, dtype):
    """numpy array -> little-endian bytes of the stored dtype."""
    if dtype == "F32":
        return np.asarray(arr, dtype="<f4").tobytes()
    if dtype == "F16":
        # via float32, like BF16: a float32 checkpoint converted to half
        return np.asarray(arr, dtype=np.float32).astype("<f2").tobytes()
    if dtype == "BF16":
        return f64_to_bf16_bits(arr).astype("<u2").tobytes()
    if dtype == "I32":
        return np.asarray(arr, dtype="<i4").tobytes()
    if dtype in ("U8", "BOOL"):
        return np.asarray(arr, dtype="u1").tobytes()
    raise ValueError(dtype)


def decode(buf, dtype, shape):
    if dtype == "F32":
        a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
    elif dtype == "F16":
        a = np.frombuffer(buf, dtype="<f2").astype(np.float64)
    elif dtype == "BF16":
        a = bf16_bits_to_f64(np.frombuffer(buf, dtype="<u2"))
    elif dtype == "I32":
        a = np.frombuffer(buf, dtype="<i4").astype(np.int64)
    elif dtype in ("U8", "BOOL"):
        a = np.frombuffer(buf, dtype="u1").astype(np.int64)
    else:
        raise ValueError(dtype)
    return a.reshape(shape)


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, numpy array).  Data is laid out by
    decreasing item size (stable), so every tensor is aligned to its item
    size; offsets are contiguous, as the safetensors format requires."""
    order = sorted(range(len(tensors)), key=lambda i: -ITEMSIZE[tensors[i][1]])
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for i in order:
        name, dtype, arr = tensors[i]
        b = encode(arr, dtype)
        assert len(b) == int(np.prod(arr.shape, dtype=np.int64)) * ITEMSIZE[dtype]
        header[name] = {"dtype": dtype, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = (info["dtype"], decode(data[base + b:base + e], info["dtype"], info["shape"]))
    return out


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------

WORDS_40 = """the a cat dog sat on mat and ran to store mary john gave drink
when went he she is was big small red blue house tree park saw bird with of
in city king queen apple book table""".split()

WORDS_30 = """one two three four five six seven eight nine ten sun moon star
sky rain snow wind fire water stone green black white old new fast slow
up down""".split()

assert len(WORDS_40) == 39 and len(set(WORDS_40)) == 39
assert len(WORDS_30) == 29 and len(set(WORDS_30)) == 29

MODEL_SPECS = {
    "tiny-word": dict(seed=101, n_layer=2, n_head=4, n_embd=32, n_positions=16,
                      vocab=["<bos>"] + WORDS_40, bos=0, eps=1e-5, d_mlp=128,
                      prefix="", untied=False, n_inner=None, low_prec=False, wte_std=0.3),
    "tiny-untied": dict(seed=202, n_layer=3, n_head=2, n_embd=16, n_positions=16,
                        vocab=["<bos>"] + WORDS_30, bos=0, eps=1e-6, d_mlp=48,
                        prefix="transformer.", untied=True, n_inner=48, low_prec=False, wte_std=0.3),
    "tiny-bpe": dict(seed=303, n_layer=2, n_head=12, n_embd=24, n_positions=32,
                     vocab=None, vocab_size=50257, bos=50256, eps=1e-5, d_mlp=96,
                     prefix="", untied=False, n_inner=None, low_prec=True, wte_std=0.5),
}


class Model:
    """float64 weights of one model, exactly as stored (after rounding)."""

    def __init__(self, spec, params):
        self.L = spec["n_layer"]
        self.H = spec["n_head"]
        self.d = spec["n_embd"]
        self.dh = self.d // self.H
        self.eps = spec["eps"]
        self.bos = spec["bos"]
        p = spec["prefix"]
        t = lambda name: torch.from_numpy(params[name])
        self.wte = t(p + "wte.weight")
        self.wpe = t(p + "wpe.weight")
        self.V = self.wte.shape[0]
        self.WU = t("lm_head.weight") if spec["untied"] else self.wte
        self.lnf_w, self.lnf_b = t(p + "ln_f.weight"), t(p + "ln_f.bias")
        self.layers = []
        d, H, dh = self.d, self.H, self.dh
        for i in range(self.L):
            q = p + "h.%d." % i
            lay = {k: t(q + k) for k in (
                "ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias",
                "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                "attn.c_proj.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                "mlp.c_proj.weight", "mlp.c_proj.bias")}
            Wa, ba = lay["attn.c_attn.weight"], lay["attn.c_attn.bias"]
            # per-head views (SPEC §5): W_Q[h] = columns h*dh..(h+1)*dh of the q block
            lay["WQ"] = torch.stack([Wa[:, 0 * d + h * dh:0 * d + (h + 1) * dh] for h in range(H)])
            lay["WK"] = torch.stack([Wa[:, 1 * d + h * dh:1 * d + (h + 1) * dh] for h in range(H)])
            lay["WV"] = torch.stack([Wa[:, 2 * d + h * dh:2 * d + (h + 1) * dh] for h in range(H)])
            lay["bQ"] = torch.stack([ba[0 * d + h * dh:0 * d + (h + 1) * dh] for h in range(H)])
            lay["bK"] = torch.stack([ba[1 * d + h * dh:1 * d + (h + 1) * dh] for h in range(H)])
            lay["bV"] = torch.stack([ba[2 * d + h * dh:2 * d + (h + 1) * dh] for h in range(H)])
            lay["WO"] = torch.stack([lay["attn.c_proj.weight"][h * dh:(h + 1) * dh, :] for h in range(H)])
            self.layers.append(lay)
        self.n_fwd = 1 + self.L * (H + 1)
        self.n_bwd = self.L * (3 * H + 1) + 1
        self.E = edge_mask(self.L, H)
        self.Ef = self.E.to(torch.float64)

    # The interface the fixture writers below use (family_ref.py's models
    # provide the same three methods).
    def embed(self, toks):
        """toks (n,) int64 -> output of the `input` node (n,d)."""
        return self.wte[toks] + self.wpe[:toks.shape[0]]

    def plain(self, toks):
        return forward_plain(self, toks)

    def run(self, emb, **kw):
        return graph_run(self, emb, **kw)


def make_model(name):
    """Generate, round to the stored dtype, write the model directory."""
    s = MODEL_SPECS[name]
    g = torch.Generator().manual_seed(s["seed"])
    rn = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)
    d, L, dm = s["n_embd"], s["n_layer"], s["d_mlp"]
    V = len(s["vocab"]) if s["vocab"] else s["vocab_size"]
    p = s["prefix"]
    mat = lambda fan_in, fan_out: rn(fan_in, fan_out) * (1.2 / math.sqrt(fan_in))
    ln_w = lambda: 1.0 + 0.2 * rn(d)
    bias = lambda n: 0.1 * rn(n)
    tens = [(p + "wte.weight", s["wte_std"] * rn(V, d)),
            (p + "wpe.weight", 0.2 * rn(s["n_positions"], d))]
    for i in range(L):
        q = p + "h.%d." % i
        tens += [(q + "ln_1.weight", ln_w()), (q + "ln_1.bias", bias(d)),
                 (q + "attn.c_attn.weight", mat(d, 3 * d)), (q + "attn.c_attn.bias", bias(3 * d)),
                 (q + "attn.c_proj.weight", mat(d, d)), (q + "attn.c_proj.bias", bias(d)),
                 (q + "ln_2.weight", ln_w()), (q + "ln_2.bias", bias(d)),
                 (q + "mlp.c_fc.weight", mat(d, dm)), (q + "mlp.c_fc.bias", bias(dm)),
                 (q + "mlp.c_proj.weight", mat(dm, d)), (q + "mlp.c_proj.bias", bias(d))]
    tens += [(p + "ln_f.weight", ln_w()), (p + "ln_f.bias", bias(d))]
    if s["untied"]:
        tens.append(("lm_head.weight", 0.3 * rn(V, d)))

    stored = []
    for n, a in tens:
        if not s["low_prec"]:
            dt = "F32"
        elif ".ln_" in n or n.startswith("ln_") or n.endswith(".bias"):
            dt = "BF16"
        else:
            dt = "F16"
        stored.append((n, dt, a.numpy()))
    mdir = os.path.join(MODELS_DIR, name)
    path = os.path.join(mdir, "model.safetensors")
    write_safetensors(path, stored)

    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
           "n_layer": L, "n_head": s["n_head"], "n_embd": d,
           "n_positions": s["n_positions"], "n_ctx": s["n_positions"],
           "vocab_size": V, "layer_norm_epsilon": s["eps"],
           "bos_token_id": s["bos"], "eos_token_id": s["bos"],
           "activation_function": "gelu_new"}
    if s["n_inner"] is not None:
        cfg["n_inner"] = s["n_inner"]
    if s["untied"]:
        cfg["tie_word_embeddings"] = False
    write_text(os.path.join(mdir, "config.json"), json.dumps(cfg, indent=2) + "\n")
    if s["vocab"]:
        write_text(os.path.join(mdir, "vocab.txt"), "\n".join(s["vocab"]) + "\n")

    # Read back: the reference computes from the stored (rounded) values.
    back = read_safetensors(path)
    for n, dt, a in stored:
        assert back[n][0] == dt and back[n][1].shape == a.shape, n
        err = np.abs(back[n][1] - a).max()
        tol = {"F32": 1e-6, "F16": 2e-3, "BF16": 2e-2}[dt] * max(1.0, np.abs(a).max())
        assert err <= tol, (n, err)
    if s["low_prec"]:
        # cross-check the hand-written BF16 rounding against torch's
        for n, dt, a in stored:
            if dt == "BF16":
                tb = torch.from_numpy(a).to(torch.float32).to(torch.bfloat16).to(torch.float64)
                assert torch.equal(tb, torch.from_numpy(back[n][1])), n
            else:
                th = torch.from_numpy(a).to(torch.float32).to(torch.float16).to(torch.float64)
                assert torch.equal(th, torch.from_numpy(back[n][1])), n
    return Model(s, {n: v[1] for n, v in back.items()})


# --------------------------------------------------------------------------
# plain forward (Hugging Face style: heads concatenated, one residual stream)
# --------------------------------------------------------------------------

# RelP (methods_ref.py): LRP = True keeps every value and changes only the
# gradients, to the LRP rules of Jafari et al. 2025 (README "RelP and
# EAP-GP"): norm scales and attention patterns are constants, activations
# pass relevance through (x * (act(x)/x) with the ratio constant), gated
# products send half of it to each factor.
LRP = False


def const(t):
    """t itself, or a constant (no gradient) under the LRP rules."""
    return t.detach() if LRP else t


def lrp_act(f, x):
    """f(x); under the LRP rules its gradient is the constant f(x)/x (the
    identity rule; 1/2, the limit of GELU's and SiLU's ratio, at x = 0)."""
    y = f(x)
    if not LRP:
        return y
    ratio = torch.where(x != 0, y / torch.where(x != 0, x, 1.0), torch.full_like(x, 0.5))
    return y.detach() + (x - x.detach()) * ratio.detach()


def lrp_product(a, b):
    """a * b; under the LRP rules each factor gets half of its gradient."""
    p = a * b
    return p if not LRP else p / 2 + (p / 2).detach()


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased variance
    return (x - mu) / const(torch.sqrt(var + eps)) * w + b


def gelu_plain(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu(x):
    return lrp_act(gelu_plain, x)


def causal_softmax(scores):
    n = scores.shape[-1]
    mask = torch.ones(n, n, dtype=torch.bool).triu(1)
    return const(torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1))


def forward_plain(M, toks):
    """toks (B,P) int64, right padded -> logits (B,P,V)."""
    B, P = toks.shape
    d, H, dh = M.d, M.H, M.dh
    x = M.wte[toks] + M.wpe[:P][None]
    for lay in M.layers:
        h = layer_norm(x, lay["ln_1.weight"], lay["ln_1.bias"], M.eps)
        qkv = h @ lay["attn.c_attn.weight"] + lay["attn.c_attn.bias"]
        q, k, v = (t.reshape(B, P, H, dh).transpose(1, 2) for t in qkv.split(d, dim=-1))
        a = causal_softmax(q @ k.transpose(-1, -2) / math.sqrt(dh))
        z = (a @ v).transpose(1, 2).reshape(B, P, d)
        x = x + z @ lay["attn.c_proj.weight"] + lay["attn.c_proj.bias"]
        h = layer_norm(x, lay["ln_2.weight"], lay["ln_2.bias"], M.eps)
        x = x + gelu(h @ lay["mlp.c_fc.weight"] + lay["mlp.c_fc.bias"]) @ lay["mlp.c_proj.weight"] \
            + lay["mlp.c_proj.bias"]
    return layer_norm(x, M.lnf_w, M.lnf_b, M.eps) @ M.WU.T


# --------------------------------------------------------------------------
# the edge-level graph (SPEC §5)
# --------------------------------------------------------------------------

def edge_mask(L, H, parallel=False):
    """parallel: GPT-NeoX parallel blocks, whose MLP reads the layer's input
    (no same-layer attention -> MLP edges)."""
    nf, nb = 1 + L * (H + 1), L * (3 * H + 1) + 1
    E = torch.zeros(nf, nb, dtype=torch.bool)
    for l in range(L):
        base, U = l * (3 * H + 1), 1 + l * (H + 1)
        E[:U, base:base + 3 * H] = True      # q, k, v of layer l: input + layers < l
        E[:U if parallel else U + H, base + 3 * H] = True   # m{l}: also the heads of layer l
    E[:, nb - 1] = True                      # logits: everything
    return E


assert int(edge_mask(12, 12).sum()) == 32491  # GPT-2 small, SPEC §5


def fwd_names(L, H):
    out = ["input"]
    for l in range(L):
        out += ["a%d.h%d" % (l, h) for h in range(H)] + ["m%d" % l]
    return out


def bwd_names(L, H):
    out = []
    for l in range(L):
        for c in "qkv":
            out += ["a%d.h%d<%s>" % (l, h, c) for h in range(H)]
        out.append("m%d" % l)
    return out + ["logits"]


def graph_run(M, emb, ycorr=None, keep=None, delta=None, override=None, odelta=None):
    """Forward through the edge-level graph of one example (length n, no padding).

    emb   (B,n,d)          output of the `input` node (B = configurations)
    ycorr (n_fwd,n,d)      corrupted node outputs, used on edges with keep 0
    keep  (B,n_fwd,n_bwd)  1: edge carries u's output in this run, 0: y_u(corrupted)
    delta (B,n_bwd,n,d)    added to every backward input's own copy x_v
    override {("attn"|"mlp", l): (B,k,n,d)}  constant outputs of layer l's
                           k = H heads or its MLP (nothing flows back into them)
    odelta (B,n_fwd,n,d)   added to every node's output (nodes_ref.py: the
                           gradient at a node's output)
    returns node outputs Y (B,n_fwd,n,d) and logits at the last position (B,V)
    """
    L, H, d = M.L, M.H, M.d
    od = (lambda u, y: y + odelta[:, u]) if odelta is not None else (lambda u, y: y)
    nodes = [od(0, emb)]

    def resid(lo, hi, bias):
        U = len(nodes)
        Y = torch.stack(nodes, 1)                         # (B,U,n,d)
        Em = M.Ef[:U, lo:hi]                              # (U,nv)
        if keep is None:
            x = torch.einsum("bund,uv->bvnd", Y, Em)
        else:
            K = keep[:, :U, lo:hi] * Em
            x = torch.einsum("bund,buv->bvnd", Y, K) + \
                torch.einsum("und,buv->bvnd", ycorr[:U], Em - K)
        x = x + bias
        if delta is not None:
            x = x + delta[:, lo:hi]
        return x                                          # (B,nv,n,d)

    bias = torch.zeros(d)                                 # b_O of the layers so far
    for l, lay in enumerate(M.layers):
        base = l * (3 * H + 1)
        x = resid(base, base + 3 * H, bias)               # (B,3H,n,d): q | k | v copies
        ln = layer_norm(x, lay["ln_1.weight"], lay["ln_1.bias"], M.eps)
        q = torch.einsum("bhnd,hde->bhne", ln[:, 0:H], lay["WQ"]) + lay["bQ"][None, :, None, :]
        k = torch.einsum("bhnd,hde->bhne", ln[:, H:2 * H], lay["WK"]) + lay["bK"][None, :, None, :]
        v = torch.einsum("bhnd,hde->bhne", ln[:, 2 * H:3 * H], lay["WV"]) + lay["bV"][None, :, None, :]
        a = causal_softmax(q @ k.transpose(-1, -2) / math.sqrt(M.dh))
        z = a @ v                                         # (B,H,n,dh)
        yh = torch.einsum("bhne,hed->bhnd", z, lay["WO"])   # z_h W_O[h], without b_O
        if override is not None and ("attn", l) in override:
            yh = override[("attn", l)]
        nodes += [od(1 + l * (H + 1) + h, yh[:, h]) for h in range(H)]
        bias = bias + lay["attn.c_proj.bias"]
        xm = resid(base + 3 * H, base + 3 * H + 1, bias)[:, 0]
        hm = layer_norm(xm, lay["ln_2.weight"], lay["ln_2.bias"], M.eps)
        ym = gelu(hm @ lay["mlp.c_fc.weight"] + lay["mlp.c_fc.bias"]) @ lay["mlp.c_proj.weight"] \
            + lay["mlp.c_proj.bias"]                      # MLP output includes its bias
        if override is not None and ("mlp", l) in override:
            ym = override[("mlp", l)][:, 0]
        nodes.append(od(1 + l * (H + 1) + H, ym))
    xl = resid(M.n_bwd - 1, M.n_bwd, bias)[:, 0, -1]      # (B,d) at the last position
    logits = layer_norm(xl, M.lnf_w, M.lnf_b, M.eps) @ M.WU.T
    return torch.stack(nodes, 1), logits


def metrics(logits, ans, foil, clean_lp):
    """Per-configuration metrics of SPEC §7 at the last position.  logits (B,V)."""
    lp = torch.log_softmax(logits, -1)
    p = lp.exp()
    pc = clean_lp.exp()
    terms = pc * (clean_lp - lp)
    return {"logit_diff": logits[:, ans].mean(-1) - logits[:, foil].mean(-1),
            "prob_diff": p[:, ans].sum(-1) - p[:, foil].sum(-1),
            "kl": terms.mean(-1),
            "kl_sum": terms.sum(-1)}


def grads_at(M, emb, ex, override=None):
    """g_v of every metric, per configuration: dict M -> (B,n_bwd,n,d)."""
    B, n, d = emb.shape
    delta = torch.zeros(B, M.n_bwd, n, d, requires_grad=True)
    _, lg = M.run(emb, delta=delta, override=override)
    ms = metrics(lg, ex["ans"], ex["foil"], ex["clean_lp"])
    out = {}
    for name in METRICS:
        (g,) = torch.autograd.grad(ms[name].sum(), delta, retain_graph=True)
        out[name] = g
    return out


def check_fd(M, emb, ex, g, rng, n_checks, label):
    """Central finite differences on a few entries of delta (asserted)."""
    n, d = emb.shape[1], emb.shape[2]
    worst = 0.0
    H = M.H
    kinds = []
    for l in range(M.L):
        b = l * (3 * H + 1)
        kinds += [b + int(rng.integers(H)), b + H + int(rng.integers(H)),
                  b + 2 * H + int(rng.integers(H)), b + 3 * H]
    kinds.append(M.n_bwd - 1)
    picks = [kinds[int(i)] for i in rng.choice(len(kinds), size=min(n_checks, len(kinds)), replace=False)]
    if M.n_bwd - 1 not in picks:
        picks[0] = M.n_bwd - 1
    h = 1e-5
    for v in picks:
        p = n - 1 if v == M.n_bwd - 1 or rng.random() < 0.5 else int(rng.integers(n))
        i = int(rng.integers(d))
        vals = []
        for s in (h, -h):
            delta = torch.zeros(1, M.n_bwd, n, d)
            delta[0, v, p, i] = s
            with torch.no_grad():
                _, lg = M.run(emb, delta=delta)
            vals.append(metrics(lg, ex["ans"], ex["foil"], ex["clean_lp"]))
        for name in METRICS:
            fd = float((vals[0][name] - vals[1][name])[0]) / (2 * h)
            an = float(g[name][0, v, p, i])
            err = abs(fd - an)
            assert err <= 1e-6 * abs(an) + 1e-8, (label, name, v, p, i, fd, an)
            if abs(an) > 1e-4:
                worst = max(worst, err / abs(an))
    return worst


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

def random_tokens(rng, M, lengths, P):
    B = len(lengths)
    toks = np.zeros((B, P), dtype=np.int64)
    for b, n in enumerate(lengths):
        toks[b, 0] = M.bos
        ids = rng.integers(0, M.V - 1, size=n - 1)   # never the last id
        if M.bos == 0:
            ids = ids + 1                             # word models: skip <bos>
        toks[b, 1:n] = ids
    return toks


def write_forward(name, M, rng, lengths, P, all_positions):
    toks = random_tokens(rng, M, lengths, P)
    if M.V > 1000:  # exercise the far end of the table
        toks[0, 1] = M.V - 2
        toks[0, 2] = M.V - 1
    with torch.no_grad():
        logits = M.plain(torch.from_numpy(toks))
        # padding never affects real positions (SPEC §4), and the plain forward
        # agrees with the edge-level graph forward
        for b, n in enumerate(lengths):
            alone = M.plain(torch.from_numpy(toks[b:b + 1, :n]))
            assert torch.allclose(alone[0], logits[b, :n], rtol=1e-12, atol=1e-12)
            emb = M.embed(torch.from_numpy(toks[b, :n]))[None]
            _, lg = M.run(emb)
            assert torch.allclose(lg[0], logits[b, n - 1], rtol=1e-11, atol=1e-11)
    lens = np.array(lengths)
    last = logits[torch.arange(len(lengths)), torch.from_numpy(lens - 1)].numpy()
    out = [("tokens", "I32", toks), ("lengths", "I32", lens), ("logits_last", "F32", last)]
    if all_positions:
        full = logits.numpy().copy()
        for b, n in enumerate(lengths):
            full[b, n:] = 0.0
        out.append(("logits", "F32", full))
    write_safetensors(os.path.join(REF_DIR, name + "-forward.safetensors"), out)
    pr = torch.softmax(torch.from_numpy(last), -1)
    print("%-12s forward: logits_last std %.3f, max prob per row %s" % (
        name, float(torch.from_numpy(last).std()),
        " ".join("%.3f" % float(x) for x in pr.max(-1).values)))


def make_pairs(rng, M, lengths, P, n_ans, n_foil):
    """Clean prompts, corrupted copies (1-3 tokens replaced, same length), and
    answer/foil sets drawn from the 8 most likely next tokens of the clean and
    of the corrupted prompt, so that the metrics are not vanishingly small."""
    N = len(lengths)
    clean = random_tokens(rng, M, lengths, P)
    corr = clean.copy()
    lo = 1 if M.bos == 0 else 0
    for i, n in enumerate(lengths):
        k = min(n - 1, 1 + int(rng.integers(2)) + (1 if n > 5 else 0))
        pos = rng.choice(np.arange(1, n), size=k, replace=False)
        for p in pos:
            while True:
                t = int(rng.integers(lo, M.V - 1))
                if t != clean[i, p]:
                    break
            corr[i, p] = t
    Amax = 3
    ans = -np.ones((N, Amax), dtype=np.int64)
    foil = -np.ones((N, Amax), dtype=np.int64)
    for i, n in enumerate(lengths):
        with torch.no_grad():
            top_c = M.plain(torch.from_numpy(clean[i:i + 1, :n]))[0, -1].topk(8).indices
            top_x = M.plain(torch.from_numpy(corr[i:i + 1, :n]))[0, -1].topk(8).indices
        a = rng.choice(top_c.numpy(), size=n_ans[i], replace=False)
        f = [int(t) for t in top_x.numpy() if t not in a]
        f = rng.choice(np.array(f), size=n_foil[i], replace=False)
        ans[i, :n_ans[i]] = a
        foil[i, :n_foil[i]] = f
    return clean, corr, ans, foil


def write_graph(name, M, rng, lengths, P, n_ans, n_foil):
    N = len(lengths)
    nf, nb, d, E, Ef = M.n_fwd, M.n_bwd, M.d, M.E, M.Ef
    clean, corr, ans, foil = make_pairs(rng, M, lengths, P, n_ans, n_foil)
    edges = E.nonzero().tolist()

    fwd_c = np.zeros((N, P, nf, d))
    fwd_x = np.zeros((N, P, nf, d))
    met_c = {m: np.zeros(N) for m in METRICS}
    met_x = {m: np.zeros(N) for m in METRICS}
    grad_c = {m: np.zeros((N, P, nb, d)) for m in METRICS}
    sc = {key: {m: torch.zeros(nf, nb) for m in METRICS}
          for key in ("eap", "eap_ig", "eap_ig1", "clean_corrupted", "exact", "eap_ig_act")}
    # circuits: one sparse, one half, one dense (subsets of the edge set)
    g = torch.Generator().manual_seed(7 + nf * 1000 + nb)
    circuits = [(torch.rand(nf, nb, generator=g) < f) & E for f in (0.1, 0.5, 0.9)]
    circ_met = [{m: np.zeros(N) for m in METRICS} for _ in circuits]
    worst_fd = 0.0

    for i, n in enumerate(lengths):
        tc = torch.from_numpy(clean[i, :n])
        tx = torch.from_numpy(corr[i, :n])
        e_c = M.embed(tc)
        e_x = M.embed(tx)
        a_ids = [int(t) for t in ans[i] if t >= 0]
        f_ids = [int(t) for t in foil[i] if t >= 0]
        with torch.no_grad():
            Yc, lc = M.run(e_c[None])
            Yx, lx = M.run(e_x[None])
            # cross-check with the plain forward
            assert torch.allclose(lc[0], M.plain(tc[None])[0, -1], rtol=1e-11, atol=1e-11)
            assert torch.allclose(lx[0], M.plain(tx[None])[0, -1], rtol=1e-11, atol=1e-11)
        Yc, Yx = Yc[0], Yx[0]                              # (n_fwd,n,d)
        ex = {"ans": a_ids, "foil": f_ids, "clean_lp": torch.log_softmax(lc[0], -1)}
        mc = metrics(lc, a_ids, f_ids, ex["clean_lp"])
        mx = metrics(lx, a_ids, f_ids, ex["clean_lp"])
        for m in METRICS:
            met_c[m][i], met_x[m][i] = float(mc[m][0]), float(mx[m][0])
        fwd_c[i, :n] = Yc.permute(1, 0, 2).numpy()
        fwd_x[i, :n] = Yx.permute(1, 0, 2).numpy()
        dY = Yx - Yc                                      # Δy over real positions only

        # gradients: clean, corrupted, and the IG steps (k = 0..m-1; clean end excluded)
        gc = grads_at(M, e_c[None], ex)
        gx = grads_at(M, e_x[None], ex)
        alphas = torch.arange(IG_STEPS, dtype=torch.float64) / IG_STEPS
        e_ig = e_x[None] + alphas[:, None, None] * (e_c - e_x)[None]
        gig = grads_at(M, e_ig, ex)
        frng = np.random.default_rng(1000 + i)
        worst_fd = max(worst_fd, check_fd(M, e_c[None], ex, gc, frng, 5, "clean"))
        worst_fd = max(worst_fd, check_fd(M, e_x[None], ex, gx, frng, 5, "corrupted"))
        gk = {m: gig[m][2:3] for m in METRICS}             # one interior IG step
        worst_fd = max(worst_fd, check_fd(M, e_ig[2:3], ex, gk, frng, 3, "ig step 2"))
        # the m=1 IG run is the corrupted run
        for m in METRICS:
            assert torch.allclose(gig[m][0], gx[m][0], rtol=1e-10, atol=1e-13)
        # kl is minimal at the clean run: its clean gradient vanishes
        assert float(gc["kl"].abs().max()) < 1e-12 and float(gc["kl_sum"].abs().max()) < 1e-10

        # EAP-IG on activations (the reference's ig-activations): each node
        # group in turn (input; layer l's heads; layer l's MLP) carries
        # y_corr + (k/m)(y_clean - y_corr), k = 1..m, as a constant; the
        # gradients of all (2L+1) m runs are averaged
        H = M.H
        groups = [("input", [0])]
        for l in range(M.L):
            groups += [(("attn", l), [1 + l * (H + 1) + h for h in range(H)]),
                       (("mlp", l), [1 + l * (H + 1) + H])]
        a1 = torch.arange(1, IG_STEPS + 1, dtype=torch.float64) / IG_STEPS
        gact = {m: torch.zeros(M.n_bwd, n, d) for m in METRICS}
        for key, idx in groups:
            y = Yx[idx][None] + a1[:, None, None, None] * (Yc[idx] - Yx[idx])[None]
            if key == "input":
                ga = grads_at(M, y[:, 0], ex)
            else:
                ga = grads_at(M, e_c[None].expand(IG_STEPS, n, d), ex, override={key: y})
            for m in METRICS:
                gact[m] += ga[m].sum(0) / (len(groups) * IG_STEPS)

        contract = lambda gv: torch.einsum("upd,vpd->uv", dY, gv) * Ef
        for m in METRICS:
            grad_c[m][i, :n] = gc[m][0].permute(1, 0, 2).numpy()
            sc["eap"][m] += contract(gc[m][0]) / N
            sc["eap_ig"][m] += contract(gig[m].mean(0)) / N
            sc["eap_ig1"][m] += contract(gig[m][0]) / N
            sc["clean_corrupted"][m] += contract(0.5 * (gc[m][0] + gx[m][0])) / N
            sc["eap_ig_act"][m] += contract(gact[m]) / N

        # exact patching of every edge: one batched run per chunk of edges
        exact_i = {m: torch.zeros(nf, nb) for m in METRICS}
        with torch.no_grad():
            for c0 in range(0, len(edges), 128):
                chunk = edges[c0:c0 + 128]
                keep = torch.ones(len(chunk), nf, nb)
                uu = torch.tensor([e[0] for e in chunk])
                vv = torch.tensor([e[1] for e in chunk])
                keep[torch.arange(len(chunk)), uu, vv] = 0.0
                _, lg = M.run(e_c[None].expand(len(chunk), n, d), ycorr=Yx, keep=keep)
                mp = metrics(lg, a_ids, f_ids, ex["clean_lp"])
                for m in METRICS:
                    exact_i[m][uu, vv] = mp[m] - mc[m][0]
            for m in METRICS:
                sc["exact"][m] += exact_i[m] / N

            # circuit evaluation (SPEC §9) and its identities
            def evaluate(mask):
                _, lg = M.run(e_c[None], ycorr=Yx, keep=mask.to(torch.float64)[None])
                return metrics(lg, a_ids, f_ids, ex["clean_lp"])
            full, none = evaluate(E), evaluate(torch.zeros_like(E))
            for m in METRICS:
                assert abs(float(full[m][0]) - met_c[m][i]) <= 1e-10 * (1 + abs(met_c[m][i]))
                assert abs(float(none[m][0]) - met_x[m][i]) <= 1e-10 * (1 + abs(met_x[m][i]))
            for k, cm in enumerate(circuits):
                r = evaluate(cm)
                for m in METRICS:
                    circ_met[k][m][i] = float(r[m][0])
            for j in range(0, len(edges), max(1, len(edges) // 5)):
                u, v = edges[j]
                mask = E.clone()
                mask[u, v] = False
                r = evaluate(mask)
                for m in METRICS:
                    one = float(exact_i[m][u, v])
                    assert abs(float(r[m][0]) - met_c[m][i] - one) <= 1e-11 * (1 + abs(one))

    for m in METRICS:
        for key in sc:
            assert float(sc[key][m].abs().masked_select(~E).max()) == 0.0

    out = [("clean", "I32", clean), ("corrupted", "I32", corr),
           ("lengths", "I32", np.array(lengths)), ("answers", "I32", ans), ("foils", "I32", foil),
           ("fwd_clean", "F32", fwd_c), ("fwd_corrupted", "F32", fwd_x),
           ("edge_mask", "U8", E.numpy().astype(np.uint8))]
    for m in METRICS:
        out += [("metric_clean_" + m, "F32", met_c[m]), ("metric_corrupted_" + m, "F32", met_x[m]),
                ("grad_clean_" + m, "F32", grad_c[m])]
        for key in ("eap", "eap_ig", "eap_ig1", "clean_corrupted", "exact", "eap_ig_act"):
            out.append(("scores_%s_%s" % (key, m), "F32", sc[key][m].numpy()))
    for k, cm in enumerate(circuits):
        out.append(("circuit_%d" % k, "U8", cm.numpy().astype(np.uint8)))
        for m in METRICS:
            out.append(("circuit_metric_%d_%s" % (k, m), "F32", circ_met[k][m]))
    write_safetensors(os.path.join(REF_DIR, name + "-graph.safetensors"), out)

    # summary
    corr_of = lambda a, b: float(np.corrcoef(a[E.numpy()], b[E.numpy()])[0, 1])
    print("%-12s graph: n_fwd %d n_bwd %d edges %d; worst FD rel err (|g| > 1e-4) %.1e" % (
        name, nf, nb, len(edges), worst_fd))
    for m in METRICS:
        ex_s = sc["exact"][m].numpy()
        print("  %-10s clean %8.4f corrupted %8.4f | corr(exact, eap %.3f, ig5 %.3f, ig1 %.3f, cc %.3f, act %.3f)"
              " | circuits %s" % (
                  m, met_c[m].mean(), met_x[m].mean(),
                  corr_of(ex_s, sc["eap"][m].numpy()) if m not in ("kl", "kl_sum") else float("nan"),
                  corr_of(ex_s, sc["eap_ig"][m].numpy()), corr_of(ex_s, sc["eap_ig1"][m].numpy()),
                  corr_of(ex_s, sc["clean_corrupted"][m].numpy()),
                  corr_of(ex_s, sc["eap_ig_act"][m].numpy()),
                  " ".join("%.4f" % circ_met[k][m].mean() for k in range(len(circuits)))))


def main():
    np.seterr(all="raise", under="ignore")
    torch.manual_seed(0)
    models = {name: make_model(name) for name in MODEL_SPECS}
    write_forward("tiny-word", models["tiny-word"], np.random.default_rng(11), [16, 4, 11, 7], 16, True)
    write_forward("tiny-untied", models["tiny-untied"], np.random.default_rng(12), [9, 16, 3, 12], 16, True)
    write_forward("tiny-bpe", models["tiny-bpe"], np.random.default_rng(13), [32, 6, 19, 12], 32, False)
    write_graph("tiny-word", models["tiny-word"], np.random.default_rng(21), [8, 5, 7, 4], 8,
                n_ans=[1, 3, 2, 1], n_foil=[1, 2, 3, 1])
    write_graph("tiny-untied", models["tiny-untied"], np.random.default_rng(22), [6, 8, 3, 5], 8,
                n_ans=[2, 1, 1, 3], n_foil=[1, 1, 2, 2])
    write_graph("tiny-bpe", models["tiny-bpe"], np.random.default_rng(23), [8, 5, 3], 8,
                n_ans=[1, 3, 2], n_foil=[1, 2, 1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
