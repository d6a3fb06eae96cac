#!/usr/bin/python3
"""eap_ig_torch.py - the PyTorch baseline of `make bench` (issue 7 item 1).

Times, in PyTorch on the CPU, the EAP-IG computation bin/eap-bench times in
C (SPEC §5, §6, §13): a GPT-2-small-shaped model with random weights (12
layers x 12 heads, d 768, MLP 3072, V 50257, tied unembedding, pre-LN,
tanh GELU), float32, 100 prompts of 16 tokens + BOS in 5 batches of 20,
metric logit_diff at the last position, m = 5 steps.  Per batch:

  1 clean forward (no_grad), keeping every forward-node output of SPEC §5:
    the input embedding, each head's z_h W_O[h] (without b_O), each MLP out;
  m interpolated forwards of the embedding, e_k = e_corr + (k/m)(e_clean -
    e_corr), k = 0..m-1, each with its backward to every backward input of
    SPEC §5 (no weight gradients).  k = 0 is the corrupted run, so its
    forward also keeps the corrupted node outputs, as the C code does;
  the gradients summed over the steps (times 1/m), then one contraction
    S += dY G^T over (batch, position, d): (n_fwd, n_bwd).

Gradients at the backward inputs (--grad):
  identity  (default: the faster here, by 1.2-1.5x) the copies are equal in
            an unpatched run, so LN1 runs once and q|k|v is one (n, d) x
            (d, 3d) product; autograd gives the gradient at q|k|v, and each
            head's q/k/v copy gets dq_h W_Q[h]^T (one batched product over
            the 3H paths) through its own LN1 backward (ATen's kernel).
  copies    plain autograd: each q/k/v input of each head is its own copy
            x.expand(3H, n, d) of the residual stream, LN1 and the path's
            product run on every copy, and torch.autograd.grad returns the
            gradient at each copy.
  Either way the MLP input and the logits input are one copy each (their
  own LN2/LN_f backward by autograd), and no weight gradient is computed.

Threads (--threads N, eap-bench passes its own): OpenBLAS, which does the
products, gets N threads, as in the C code; torch's own ops (LayerNorm,
softmax, copies) get --intra-threads, default 1, also as in the C code.
torch.set_num_threads(2) next to OpenBLAS's 2 threads made every step about
2x slower on a 2-core machine (OpenMP threads spinning against OpenBLAS's
threads); OMP_WAIT_POLICY=passive recovers it, one intra-op thread is simpler.

Output: one line `seconds=S` (the 5 timed batches, after one warm-up batch),
which bin/eap-bench parses, preceded by a line describing the run.  Without
torch it prints `skipped: no torch` and exits 0.

  /usr/bin/python3 bench/eap_ig_torch.py [--threads N] [--intra-threads K]
                                          [--grad identity|copies]
  /usr/bin/python3 bench/eap_ig_torch.py --check   # vs bin/eap-score, tiny-word

--check scores a few pairs on tests/fixtures/models/tiny-word with this
script and with `bin/eap-score --method eap-ig` and compares the edge scores
(needs bin/ built and h5dump).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

# OpenBLAS (torch's BLAS on Debian) reads its thread count when it loads
_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=2)
os.environ.setdefault("OPENBLAS_NUM_THREADS",
                      str(max(1, _pre.parse_known_args()[0].threads)))

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skipped: no torch")
    sys.exit(0)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Model:
    """GPT-2 weights as float32 tensors; matrices in Conv1D layout [in, out]."""

    def __init__(self, L, H, d, dm, V, n_ctx, eps, tensors):
        self.L, self.H, self.d, self.dm, self.V = L, H, d, dm, V
        self.dh = d // H
        self.n_ctx, self.eps = n_ctx, eps
        t = tensors
        self.wte, self.wpe = t["wte.weight"], t["wpe.weight"]
        self.unembed = t.get("lm_head.weight", self.wte)          # (V, d)
        self.lnf_w, self.lnf_b = t["ln_f.weight"], t["ln_f.bias"]
        self.layers = []
        for i in range(L):
            p = "h.%d." % i
            w_qkv = t[p + "attn.c_attn.weight"]                  # (d, 3d)
            b_qkv = t[p + "attn.c_attn.bias"]                    # (3d)
            w_o = t[p + "attn.c_proj.weight"]                    # (d, d)
            self.layers.append(dict(
                ln1_w=t[p + "ln_1.weight"], ln1_b=t[p + "ln_1.bias"],
                w_qkv=w_qkv, b_qkv=b_qkv,
                # per path (q heads, k heads, v heads): (3H, d, dh), (3H, 1, dh)
                w_path=w_qkv.view(d, 3 * H, self.dh).permute(1, 0, 2).contiguous(),
                w_path_t=w_qkv.view(d, 3 * H, self.dh).permute(1, 2, 0).contiguous(),
                b_path=b_qkv.view(3 * H, 1, self.dh),
                w_o=w_o, w_o_head=w_o.view(H, self.dh, d),     # (H, dh, d)
                b_o=t[p + "attn.c_proj.bias"],
                ln2_w=t[p + "ln_2.weight"], ln2_b=t[p + "ln_2.bias"],
                w_fc=t[p + "mlp.c_fc.weight"], b_fc=t[p + "mlp.c_fc.bias"],
                w_proj=t[p + "mlp.c_proj.weight"], b_proj=t[p + "mlp.c_proj.bias"]))

    @property
    def n_fwd(self):
        return 1 + self.L * (self.H + 1)

    @property
    def n_bwd(self):
        return self.L * (3 * self.H + 1) + 1


def random_model(L=12, H=12, d=768, dm=3072, V=50257, n_ctx=1024, seed=42):
    """Uniform in [-0.05, 0.05), every parameter: the distribution eap-bench fills."""
    g = torch.Generator().manual_seed(seed)
    shapes = {"wte.weight": (V, d), "wpe.weight": (n_ctx, d),
              "ln_f.weight": (d,), "ln_f.bias": (d,)}
    for i in range(L):
        p = "h.%d." % i
        shapes.update({p + "ln_1.weight": (d,), p + "ln_1.bias": (d,),
                       p + "attn.c_attn.weight": (d, 3 * d),
                       p + "attn.c_attn.bias": (3 * d,),
                       p + "attn.c_proj.weight": (d, d), p + "attn.c_proj.bias": (d,),
                       p + "ln_2.weight": (d,), p + "ln_2.bias": (d,),
                       p + "mlp.c_fc.weight": (d, dm), p + "mlp.c_fc.bias": (dm,),
                       p + "mlp.c_proj.weight": (dm, d), p + "mlp.c_proj.bias": (d,)})
    t = {k: (torch.rand(s, generator=g) - 0.5) * 0.1 for k, s in shapes.items()}
    return Model(L, H, d, dm, V, n_ctx, 1e-5, t)


def ln_backward_copies(dln, x, w, eps):
    """Each copy's LayerNorm backward, the C copies sharing the input x (n, d):
    dln (C, n, d) -> (C, n, d), by ATen's own LayerNorm backward kernel."""
    C, n, d = dln.shape
    _, mean, rstd = torch.ops.aten.native_layer_norm(x, [d], w, None, eps)
    g, _, _ = torch.ops.aten.native_layer_norm_backward(
        dln.reshape(C * n, d), x.repeat(C, 1), [d], mean.repeat(C, 1),
        rstd.repeat(C, 1), w, None, [True, False, False])
    return g.view(C, n, d)


def run(M, e, B, P, ans, foil, Y=None, want_grad=False, grad="identity"):
    """One forward from the embedding output e (B*P, d); returns the summed
    metric and, if want_grad, the gradient at every backward input of SPEC
    §5 as blocks (first backward index, tensor (k, B*P, d)) in index order.

    Y (n_fwd, B*P, d): if given, filled with the forward-node outputs.
    """
    H, dh, d, n = M.H, M.dh, M.d, B * P
    causal = torch.full((P, P), float("-inf")).triu(1)
    targets = []     # (first bwd index, tensor whose gradient autograd gives)
    xin = []         # each layer's LN1 input, for the identity's LN backward
    x = e
    if Y is not None:
        Y[0] = e.detach()
    for l, W in enumerate(M.layers):
        base = l * (3 * H + 1)
        xin.append(x.detach())
        if want_grad and grad == "copies":
            # each q/k/v input of each head: its own copy of x, its own LN1
            xc = x.expand(3 * H, n, d)
            targets.append((base, xc))
            qkv = torch.baddbmm(W["b_path"],
                                F.layer_norm(xc, (d,), W["ln1_w"], W["ln1_b"], M.eps),
                                W["w_path"])                          # (3H, n, dh)
        else:
            # the copies are equal: LN1 once, one (n, d) x (d, 3d) product;
            # the gradient is taken at qkv and split into paths afterwards
            qkv = torch.addmm(W["b_qkv"],
                              F.layer_norm(x, (d,), W["ln1_w"], W["ln1_b"], M.eps),
                              W["w_qkv"])                             # (n, 3d)
            if want_grad:
                targets.append((base, qkv))
            qkv = qkv.view(n, 3 * H, dh).transpose(0, 1)              # (3H, n, dh)
        q, k, v = (t.reshape(H, B, P, dh) for t in qkv.split(H, 0))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + causal, -1)
        z = (att @ v).permute(1, 2, 0, 3).reshape(n, d)               # (n, H*dh)
        if Y is not None:
            with torch.no_grad():
                zh = z.detach().view(n, H, dh).transpose(0, 1)        # (H, n, dh)
                torch.bmm(zh, W["w_o_head"],
                          out=Y[1 + l * (H + 1):1 + l * (H + 1) + H])
        x = x + torch.addmm(W["b_o"], z, W["w_o"])
        xm = x
        if want_grad:   # the MLP input: its own copy
            xm = x.unsqueeze(0)
            targets.append((base + 3 * H, xm))
            xm = xm[0]
        mlp = torch.addmm(W["b_proj"],
                          F.gelu(torch.addmm(W["b_fc"],
                                             F.layer_norm(xm, (d,), W["ln2_w"], W["ln2_b"], M.eps),
                                             W["w_fc"]), approximate="tanh"),
                          W["w_proj"])
        if Y is not None:
            Y[1 + l * (H + 1) + H] = mlp.detach()
        x = x + mlp
    # the logits input: its own copy; logits at the last position only
    xf = x.view(B, P, d)[:, -1:].unsqueeze(0)                         # (1, B, 1, d)
    if want_grad:
        targets.append((M.n_bwd - 1, xf))
    logits = F.layer_norm(xf[0, :, 0], (d,), M.lnf_w, M.lnf_b, M.eps) @ M.unembed.t()
    rows = torch.arange(B)
    metric = (logits[rows, ans] - logits[rows, foil]).sum()           # logit_diff
    if not want_grad:
        return metric, None
    grads = torch.autograd.grad(metric, [t for _, t in targets])
    out = []
    for (b0, t), g in zip(targets, grads):
        if b0 == M.n_bwd - 1:            # (1, B, 1, d): zero before the last position
            full = g.new_zeros(1, B, P, d)
            full[:, :, -1:] = g[0]
            g = full.view(1, n, d)
        elif t.shape[-1] == 3 * d:       # identity: dqkv (n, 3d) -> paths
            l = b0 // (3 * H + 1)
            W = M.layers[l]
            dln = torch.bmm(g.view(n, 3 * H, dh).transpose(0, 1).contiguous(),
                            W["w_path_t"])                             # (3H, n, d)
            g = ln_backward_copies(dln, xin[l], W["ln1_w"], M.eps)
        out.append((b0, g))
    return metric, out


def embed(M, tok, B, P):
    return (M.wte[tok.view(-1)].view(B, P, M.d) + M.wpe[:P]).view(B * P, M.d)


def eap_ig_batch(M, clean, corr, ans, foil, steps, S, Yc, Yr, G, grad):
    """Adds the batch's sum over examples of dY . g (averaged over steps) to S."""
    B, P = clean.shape
    with torch.no_grad():
        e_clean, e_corr = embed(M, clean, B, P), embed(M, corr, B, P)
        run(M, e_clean, B, P, ans, foil, Y=Yc)
    G.zero_()
    for k in range(steps):
        with torch.no_grad():
            e = e_corr + (k / steps) * (e_clean - e_corr)
        e.requires_grad_(True)
        _, blocks = run(M, e, B, P, ans, foil, Y=Yr if k == 0 else None,
                        want_grad=True, grad=grad)
        with torch.no_grad():
            for b0, gr in blocks:
                G[b0:b0 + gr.shape[0]] += gr
    with torch.no_grad():
        Yr -= Yc                                                   # dY
        S.addmm_(Yr.view(M.n_fwd, -1), G.view(M.n_bwd, -1).t(), alpha=1.0 / steps)


def edge_mask(L, H):
    """(n_fwd, n_bwd) bool: u -> v strictly later in the residual stream (SPEC §5)."""
    n_fwd, n_bwd = 1 + L * (H + 1), L * (3 * H + 1) + 1
    m = torch.zeros(n_fwd, n_bwd, dtype=torch.bool)
    for v in range(n_bwd):
        lv, off = divmod(v, 3 * H + 1)
        if v == n_bwd - 1:
            m[:, v] = True
        elif off == 3 * H:                       # m{lv}: layers < lv and heads of lv
            m[:1 + lv * (H + 1) + H, v] = True
        else:                                    # attention input: layers < lv
            m[:1 + lv * (H + 1), v] = True
    return m


def bench(args):
    torch.set_num_threads(args.intra_threads)
    N, B, P, steps = 100, 20, 17, 5
    M = random_model()
    # the C bench's batch: tok[i] = 7919 i mod V, position 3 changed
    tok = (torch.arange(B * P) * 7919 % M.V).view(B, P)
    corr = tok.clone()
    corr[:, 3] = (corr[:, 3] + 1) % M.V
    ans = torch.arange(B) * 31 + 7
    foil = torch.arange(B) * 17 + 3
    S = torch.zeros(M.n_fwd, M.n_bwd)
    Yc = torch.empty(M.n_fwd, B * P, M.d)
    Yr = torch.empty_like(Yc)
    G = torch.empty(M.n_bwd, B * P, M.d)
    eap_ig_batch(M, tok, corr, ans, foil, steps, S, Yc, Yr, G, args.grad)  # warm-up
    S.zero_()
    t = time.perf_counter()
    for _ in range(0, N, B):
        eap_ig_batch(M, tok, corr, ans, foil, steps, S, Yc, Yr, G, args.grad)
    t = time.perf_counter() - t
    S /= N
    print("torch %s, BLAS %s + %d intra-op threads, grad=%s, |S|max %.2g"
          % (torch.__version__, os.environ["OPENBLAS_NUM_THREADS"],
             torch.get_num_threads(), args.grad,
             S[edge_mask(M.L, M.H)].abs().max().item()))
    print("seconds=%.6f" % t)


# ---- --check: agreement with bin/eap-score on a fixture -------------------

def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        if v["dtype"] != "F32":
            raise SystemExit("eap_ig_torch: --check reads F32 only, '%s' is %s" % (k, v["dtype"]))
        a, b = v["data_offsets"]
        t = np.frombuffer(data[a:b], dtype="<f4").reshape(v["shape"])
        out[k[len("transformer."):] if k.startswith("transformer.") else k] = \
            torch.from_numpy(t.copy())
    return out


def check(args):
    torch.set_num_threads(1)
    mdir = os.path.join(ROOT, "tests", "fixtures", "models", "tiny-word")
    with open(os.path.join(mdir, "config.json")) as f:
        cfg = json.load(f)
    t = load_safetensors(os.path.join(mdir, "model.safetensors"))
    d = cfg["n_embd"]
    M = Model(cfg["n_layer"], cfg["n_head"], d, t["h.0.mlp.c_fc.weight"].shape[1],
              cfg["vocab_size"], cfg["n_positions"], cfg["layer_norm_epsilon"], t)
    with open(os.path.join(mdir, "vocab.txt")) as f:
        vocab = {w: i for i, w in enumerate(f.read().split())}
    pairs = [("the cat sat on the mat", "the dog sat on the mat", "and", "to"),
             ("mary gave a book to john", "john gave a book to john", "and", "with"),
             ("the king saw a red bird", "the queen saw a red bird", "in", "and"),
             ("he went to the big park", "she went to the big park", "with", "to")]
    enc = lambda s: [cfg["bos_token_id"]] + [vocab[w] for w in s.split()]
    clean = torch.tensor([enc(p[0]) for p in pairs])
    corr = torch.tensor([enc(p[1]) for p in pairs])
    ans = torch.tensor([vocab[p[2]] for p in pairs])
    foil = torch.tensor([vocab[p[3]] for p in pairs])
    B, P = clean.shape
    mask = edge_mask(M.L, M.H)
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "pairs.csv")
        with open(csv, "w") as f:
            f.write("clean,corrupted,answers,foils\n")
            f.writelines(",".join(p) + "\n" for p in pairs)
        h5 = os.path.join(tmp, "s.h5")
        subprocess.run([os.path.join(ROOT, "bin", "eap-score"), "--model", mdir,
                        "--pairs", csv, "--method", "eap-ig", "--steps", "5",
                        "-o", h5], check=True)
        ref = {}
        for name, dt in (("scores", "<f4"), ("edge_mask", "u1")):
            raw = os.path.join(tmp, name + ".bin")
            subprocess.run(["h5dump", "-d", "/" + name, "-b", "LE", "-o", raw, h5],
                           check=True, stdout=subprocess.DEVNULL)
            ref[name] = torch.from_numpy(np.fromfile(raw, dtype=dt).copy())
    ref_s = ref["scores"].view(M.n_fwd, M.n_bwd)
    ok = True
    if not torch.equal(ref["edge_mask"].view(M.n_fwd, M.n_bwd).bool(), mask):
        print("check: edge masks differ")
        ok = False
    for grad in ("copies", "identity"):
        S = torch.zeros(M.n_fwd, M.n_bwd)
        Yc = torch.empty(M.n_fwd, B * P, d)
        eap_ig_batch(M, clean, corr, ans, foil, 5, S, Yc, torch.empty_like(Yc),
                     torch.empty(M.n_bwd, B * P, d), grad)
        S = torch.where(mask, S / B, torch.zeros(()))
        err = (S - ref_s).abs().max().item() / ref_s.abs().max().item()
        print("check %-8s: %d edges, max |torch - C| / max |C| = %.2e"
              % (grad, int(mask.sum()), err))
        ok = ok and err < 1e-4
    print("check: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="PyTorch EAP-IG baseline of make bench.")
    ap.add_argument("--threads", type=int, default=2,
                    help="OpenBLAS threads, eap-bench's --threads (default 2)")
    ap.add_argument("--intra-threads", type=int, default=1,
                    help="torch.set_num_threads for the non-BLAS ops (default 1)")
    ap.add_argument("--grad", choices=("identity", "copies"), default="identity",
                    help="how the per-copy gradients are taken (default identity)")
    ap.add_argument("--check", action="store_true",
                    help="compare with bin/eap-score on tests/fixtures/models/tiny-word")
    args = ap.parse_args()
    if args.threads < 1 or args.intra_threads < 1:
        ap.error("--threads and --intra-threads must be positive")
    sys.exit(check(args) if args.check else bench(args))


if __name__ == "__main__":
    main()
