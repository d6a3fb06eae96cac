#!/usr/bin/python3
"""Independent PyTorch reference for eap-train's gradients and AdamW (SPEC §3).

Produces tests/fixtures/ref/train-<name>.safetensors for two tiny models:

  train-tied    2 layers x 2 heads, d 16, MLP 64, n_positions 8, V 23,
                tied embeddings; batch 3 x 8; clipping active
  train-untied  1 layer x 4 heads, d 12, MLP 40, n_positions 8, V 19,
                untied lm_head.weight; batch 2 x 6 (shorter than
                n_positions); clipping inactive

Each file holds (F32 unless noted):
  config      I32 [n_layer, n_head, n_embd, n_positions, vocab_size,
                   d_mlp, tied]; layer_norm_epsilon is 1e-5
  hparams     [lr1, lr2, beta1, beta2, eps, weight_decay, clip]; lr2 is
              what a cosine schedule without warm-up over 2 steps gives at
              step 1 (with min_lr_frac = 2 lr2 / lr1 - 1), so the C side
              can run its scheduled eap_train_step
  tokens      I32 (B, P) input ids
  targets     I32 (B, P) next-token ids, -1 where nothing is predicted
  loss        (1) mean cross-entropy over the predicted positions
  grad_norm   (1) global L2 norm of the gradient (before clipping)
  param.<n>   every parameter (Hugging Face GPT-2 names, Conv1D [in, out]
              layout), as stored: the values the C side starts from
  grad.<n>    dloss/d<n>; tied wte gets the embedding and the unembedding
              gradient
  step1.<n>   <n> after one torch.optim.AdamW step (lr1; weight decay on
              2-D tensors only, wte/wpe/lm_head included; gradients
              clipped with clip_grad_norm_(clip))
  loss2, grad_norm2, step2.<n>   the same again from step1 (lr2), which
              exercises the moment updates and bias corrections

The model is written from SPEC §3 with plain torch ops in float64 (pre-LN
GPT-2, tanh GELU, causal attention scaled by 1/sqrt(d_head)); gradients come
from autograd, the optimiser is torch's own AdamW.  Parameters are rounded
to float32 before anything is computed, so both sides start from the same
numbers.

Regenerate from the repository root (Debian's python with torch):

    /usr/bin/python3 tests/reference/train_ref.py

Deterministic: fixed seeds, one thread; re-running gives byte-identical
files.  Never edit the outputs by hand.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_ref import write_safetensors  # noqa: E402  (same safetensors writer)

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF_DIR = os.path.join(ROOT, "tests", "fixtures", "ref")

EPS_LN = 1e-5
BETAS = (0.9, 0.95)
EPS_ADAM = 1e-8
WD = 0.1

SPECS = {
    "tied": dict(seed=501, L=2, H=2, d=16, dm=64, ctx=8, V=23, B=3, P=8,
                 tied=True, lr=(1e-2, 7e-3), clip=1.0),
    "untied": dict(seed=502, L=1, H=4, d=12, dm=40, ctx=8, V=19, B=2, P=6,
                   tied=False, lr=(2e-2, 1.2e-2), clip=100.0),
}


def param_table(s):
    """(name, shape) in the order of eap_model_params."""
    d, dm, V = s["d"], s["dm"], s["V"]
    t = [("wte.weight", (V, d)), ("wpe.weight", (s["ctx"], d))]
    for i in range(s["L"]):
        q = "h.%d." % i
        t += [(q + "ln_1.weight", (d,)), (q + "ln_1.bias", (d,)),
              (q + "attn.c_attn.weight", (d, 3 * d)), (q + "attn.c_attn.bias", (3 * d,)),
              (q + "attn.c_proj.weight", (d, d)), (q + "attn.c_proj.bias", (d,)),
              (q + "ln_2.weight", (d,)), (q + "ln_2.bias", (d,)),
              (q + "mlp.c_fc.weight", (d, dm)), (q + "mlp.c_fc.bias", (dm,)),
              (q + "mlp.c_proj.weight", (dm, d)), (q + "mlp.c_proj.bias", (d,))]
    t += [("ln_f.weight", (d,)), ("ln_f.bias", (d,))]
    if not s["tied"]:
        t.append(("lm_head.weight", (V, d)))
    return t


def init_params(s, g):
    """Random weights of a realistic scale (not GPT-2's init: gradients of a
    freshly initialised model are too uniform to test much), rounded to f32."""
    out = {}
    for name, shape in param_table(s):
        r = torch.randn(*shape, generator=g)
        if name in ("wte.weight", "lm_head.weight"):
            a = 0.5 * r
        elif name == "wpe.weight":
            a = 0.3 * r
        elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            a = 1.0 + 0.2 * r
        elif len(shape) == 1:
            a = 0.1 * r
        else:
            a = r / math.sqrt(shape[0])
        out[name] = a.to(torch.float32).to(torch.float64).requires_grad_(True)
    return out


def forward_loss(s, p, tok, tgt):
    """SPEC §3 forward on (B, P) tokens; mean next-token cross-entropy."""
    B, P = tok.shape
    d, H = s["d"], s["H"]
    dh = d // H
    x = p["wte.weight"][tok] + p["wpe.weight"][:P][None]
    mask = torch.ones(P, P, dtype=torch.bool).triu(1)
    for i in range(s["L"]):
        q = "h.%d." % i
        h = F.layer_norm(x, (d,), p[q + "ln_1.weight"], p[q + "ln_1.bias"], EPS_LN)
        qkv = h @ p[q + "attn.c_attn.weight"] + p[q + "attn.c_attn.bias"]
        qh, kh, vh = (t.reshape(B, P, H, dh).transpose(1, 2) for t in qkv.split(d, dim=-1))
        sc = (qh @ kh.transpose(-1, -2)) / math.sqrt(dh)
        a = torch.softmax(sc.masked_fill(mask, float("-inf")), dim=-1)
        z = (a @ vh).transpose(1, 2).reshape(B, P, d)
        x = x + z @ p[q + "attn.c_proj.weight"] + p[q + "attn.c_proj.bias"]
        h = F.layer_norm(x, (d,), p[q + "ln_2.weight"], p[q + "ln_2.bias"], EPS_LN)
        u = F.gelu(h @ p[q + "mlp.c_fc.weight"] + p[q + "mlp.c_fc.bias"], approximate="tanh")
        x = x + u @ p[q + "mlp.c_proj.weight"] + p[q + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (d,), p["ln_f.weight"], p["ln_f.bias"], EPS_LN)
    U = p["wte.weight"] if s["tied"] else p["lm_head.weight"]
    logits = x @ U.T
    return F.cross_entropy(logits.reshape(-1, s["V"]), tgt.reshape(-1), ignore_index=-1)


def make(name):
    s = SPECS[name]
    g = torch.Generator().manual_seed(s["seed"])
    p = init_params(s, g)
    B, P, V = s["B"], s["P"], s["V"]
    stream = torch.randint(0, V, (B, P + 1), generator=g)
    tok, tgt = stream[:, :P].clone(), stream[:, 1:].clone()
    tgt[0, 2] = -1          # a few positions predict nothing
    tgt[B - 1, P - 1] = -1

    tensors = [("config", "I32", np.array([s["L"], s["H"], s["d"], s["ctx"], V, s["dm"],
                                          int(s["tied"])])),
               ("hparams", "F32", np.array([s["lr"][0], s["lr"][1], BETAS[0], BETAS[1],
                                            EPS_ADAM, WD, s["clip"]])),
               ("tokens", "I32", tok.numpy()), ("targets", "I32", tgt.numpy())]
    tensors += [("param." + n, "F32", p[n].detach().numpy().copy()) for n, _ in param_table(s)]

    names = [n for n, _ in param_table(s)]
    decay = [p[n] for n in names if p[n].dim() == 2]
    nodecay = [p[n] for n in names if p[n].dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=s["lr"][0], betas=BETAS, eps=EPS_ADAM)
    for k in (1, 2):
        opt.zero_grad()
        loss = forward_loss(s, p, tok, tgt)
        loss.backward()
        if k == 1:
            tensors += [("grad." + n, "F32", p[n].grad.numpy().copy()) for n in names]
        norm = torch.nn.utils.clip_grad_norm_([p[n] for n in names], s["clip"])
        for group in opt.param_groups:
            group["lr"] = s["lr"][k - 1]
        opt.step()
        # the tied model tests an active clip, the untied one an inactive one
        assert (norm.item() > s["clip"]) == s["tied"], (name, k, norm.item())
        sfx = "" if k == 1 else "2"
        tensors += [("loss" + sfx, "F32", np.array([loss.item()])),
                    ("grad_norm" + sfx, "F32", np.array([norm.item()]))]
        tensors += [("step%d.%s" % (k, n), "F32", p[n].detach().numpy().copy()) for n in names]
        print("%s: step %d loss %.6f grad norm %.4f (clip %g: %s)" %
              (name, k, loss.item(), norm.item(), s["clip"],
               "active" if norm.item() > s["clip"] else "inactive"))
    write_safetensors(os.path.join(REF_DIR, "train-%s.safetensors" % name), tensors)


def check_fd(name):
    """autograd vs central differences on a few weights, as a self-check."""
    s = SPECS[name]
    g = torch.Generator().manual_seed(s["seed"])
    p = init_params(s, g)
    stream = torch.randint(0, s["V"], (s["B"], s["P"] + 1), generator=g)
    tok, tgt = stream[:, :s["P"]], stream[:, 1:]
    loss = forward_loss(s, p, tok, tgt)
    loss.backward()
    h = 1e-6
    for n in ("wte.weight", "h.0.attn.c_attn.weight", "ln_f.bias"):
        with torch.no_grad():
            flat = p[n].view(-1)
            keep = flat[3].item()
            flat[3] = keep + h
            lp = forward_loss(s, p, tok, tgt).item()
            flat[3] = keep - h
            lm = forward_loss(s, p, tok, tgt).item()
            flat[3] = keep
        fd, an = (lp - lm) / (2 * h), p[n].grad.view(-1)[3].item()
        assert abs(fd - an) <= 1e-6 * max(1.0, abs(an)), (name, n, fd, an)


def main():
    for name in SPECS:
        check_fd(name)
        make(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
