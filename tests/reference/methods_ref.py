#!/usr/bin/python3
"""Float64 reference for the methods of issue 18: RelP and EAP-GP.

Reads the committed tiny models and the pairs of their graph fixtures
(tests/fixtures/models/<name>/, tests/fixtures/ref/<name>-graph.safetensors,
written by gpt2_ref.py and family_ref.py) and writes

  tests/fixtures/ref/<name>-methods.safetensors
      scores_relp_M, scores_eap_gp_M   F32 (n_fwd, n_bwd), M in METRICS
      grad_relp_logit_diff             F32 (N, P, n_bwd, d): RelP's g_v at
                                       the clean input, 0 at padded positions
      gp_path                          F32 (N, m, P, d): EAP-GP's path points
                                       e_1..e_m, 0 at padded positions

for tiny-word (GPT-2), tiny-neox (parallel blocks, exact GELU, LayerNorm),
tiny-llama (RMSNorm, SwiGLU, GQA, rotary) and tiny-gemma2 (GeGLU, sandwich
norms, soft-caps).  Conventions are those of tests/reference/README.md.

RelP (Jafari et al. 2025, "RelP: Faithful and Efficient Circuit Discovery
via Relevance Patching", and the LRP rules it cites): EAP whose gradients
are those of the same graph forward with
  * every norm's scale (1/std, 1/rms) a constant (LN-rule),
  * every attention pattern a constant (AH-rule),
  * each activation f written x * (f(x)/x) with the ratio a constant
    (identity rule; ratio 1/2 at x = 0, its limit for GELU and SiLU),
  * each gated product a*b written a*b/2 + const(a*b/2) (half rule).
The values of the forward are unchanged (asserted); autograd gives the
modified gradients.  gpt2_ref.LRP switches the rules on for both
scripts' graph forwards.

EAP-GP (Zhang et al. 2025, "EAP-GP: Mitigating Saturation Effect in
Gradient-based Automated Circuit Identification"): m = 5 steps from the
clean embeddings e_0, e_{k+1} = e_k - G/||G||, G the gradient of
||logits(e_k) - logits(corrupted)||^2 at the last position (the norm over
the example's whole embedding); g_v averaged over e_1..e_m and contracted
with dy = y(corrupted) - y(clean).  The choices the paper leaves open are
listed in the README ("RelP and EAP-GP").

Regenerate from the repository root (Debian's python with torch; a few
seconds):

    /usr/bin/python3 tests/reference/methods_ref.py

Deterministic; re-running gives byte-identical files.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_ref as G  # noqa: E402
import family_ref as F  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

GP_STEPS = 5
MODELS = ("tiny-word", "tiny-neox", "tiny-llama", "tiny-gemma2")


def load_model(name):
    mdir = os.path.join(G.MODELS_DIR, name)
    params = {}
    for fn in sorted(os.listdir(mdir)):
        if fn.endswith(".safetensors"):
            params.update({k: v[1] for k, v in G.read_safetensors(os.path.join(mdir, fn)).items()})
    if name in G.MODEL_SPECS:
        return G.Model(G.MODEL_SPECS[name], params)
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    fam = name[len("tiny-"):]
    bos = cfg.get("bos_token_id")
    if bos is None:
        bos = F.SPECS[fam]["eos"]
    return F.FamilyModel(cfg, params, bos)


def relp_grads(M, emb, ex):
    """g_v of every metric under the LRP rules; the logits are unchanged."""
    with torch.no_grad():
        _, plain = M.run(emb)
    G.LRP = True
    try:
        B, n, d = emb.shape
        delta = torch.zeros(B, M.n_bwd, n, d, requires_grad=True)
        _, lg = M.run(emb, delta=delta)
        assert torch.equal(lg.detach(), plain), "the LRP rules changed a value"
        ms = G.metrics(lg, ex["ans"], ex["foil"], ex["clean_lp"])
        out = {}
        for name in G.METRICS:
            (g,) = torch.autograd.grad(ms[name].sum(), delta, retain_graph=True)
            out[name] = g
    finally:
        G.LRP = False
    return out


def distance(M, e, target):
    _, lg = M.run(e[None])
    return ((lg[0] - target) ** 2).sum()


def grad_path(M, e_c, target, rng):
    """EAP-GP's points e_1..e_m; the distance's gradient is checked against
    central finite differences at the first point."""
    points = []
    e = e_c.clone()
    for k in range(GP_STEPS):
        leaf = e.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(distance(M, leaf, target), leaf)
        if k == 0:
            h = 1e-6
            for _ in range(3):
                p, i = int(rng.integers(e.shape[0])), int(rng.integers(e.shape[1]))
                ep, em = e.clone(), e.clone()
                ep[p, i] += h
                em[p, i] -= h
                with torch.no_grad():
                    fd = float(distance(M, ep, target) - distance(M, em, target)) / (2 * h)
                assert abs(fd - float(g[p, i])) <= 1e-5 * (abs(fd) + 1e-3), (fd, float(g[p, i]))
        nrm = g.norm()
        if nrm > 0:
            e = e - g / nrm
        points.append(e.detach())
    return torch.stack(points)


def write_methods(name):
    M = load_model(name)
    fx = {k: v[1] for k, v in G.read_safetensors(
        os.path.join(G.REF_DIR, name + "-graph.safetensors")).items()}
    clean, corr, lengths = fx["clean"], fx["corrupted"], fx["lengths"]
    ans, foil = fx["answers"], fx["foils"]
    N, P = clean.shape
    nf, nb, d, E, Ef = M.n_fwd, M.n_bwd, M.d, M.E, M.Ef
    sc = {key: {m: torch.zeros(nf, nb) for m in G.METRICS} for key in ("relp", "eap_gp", "eap")}
    grad_relp = np.zeros((N, P, nb, d))
    path = np.zeros((N, GP_STEPS, P, d))
    rng = np.random.default_rng(18)
    moved = []
    for i in range(N):
        n = int(lengths[i])
        tc = torch.from_numpy(clean[i, :n])
        tx = torch.from_numpy(corr[i, :n])
        e_c, e_x = M.embed(tc), M.embed(tx)
        with torch.no_grad():
            Yc, lc = M.run(e_c[None])
            Yx, lx = M.run(e_x[None])
        ex = {"ans": [int(t) for t in ans[i] if t >= 0], "foil": [int(t) for t in foil[i] if t >= 0],
              "clean_lp": torch.log_softmax(lc[0], -1)}
        dY = Yx[0] - Yc[0]
        contract = lambda gv: torch.einsum("upd,vpd->uv", dY, gv) * Ef
        gr = relp_grads(M, e_c[None], ex)
        ge = G.grads_at(M, e_c[None], ex)
        pts = grad_path(M, e_c, lx[0].detach(), rng)
        ggp = G.grads_at(M, pts, ex)
        for m in G.METRICS:
            sc["relp"][m] += contract(gr[m][0]) / N
            sc["eap"][m] += contract(ge[m][0]) / N
            sc["eap_gp"][m] += contract(ggp[m].mean(0)) / N
        grad_relp[i, :n] = gr["logit_diff"][0].permute(1, 0, 2).numpy()
        path[i, :, :n] = pts.numpy()
        moved.append(float((pts[-1] - e_c).norm() / (e_x - e_c).norm()))
    # the rules matter: RelP is not EAP on these models
    for m in ("logit_diff", "prob_diff"):
        diff = float((sc["relp"][m] - sc["eap"][m]).abs().max() / sc["eap"][m].abs().max())
        assert diff > 1e-3, (name, m, diff)
    for key in ("relp", "eap_gp"):
        for m in G.METRICS:
            assert float(sc[key][m].abs().masked_select(~E).max()) == 0.0
    out = [("grad_relp_logit_diff", "F32", grad_relp), ("gp_path", "F32", path)]
    for m in G.METRICS:
        out += [("scores_relp_" + m, "F32", sc["relp"][m].numpy()),
                ("scores_eap_gp_" + m, "F32", sc["eap_gp"][m].numpy())]
    G.write_safetensors(os.path.join(G.REF_DIR, name + "-methods.safetensors"), out)
    c = lambda a, b: float(np.corrcoef(a[E.numpy()], b[E.numpy()])[0, 1])
    ex_s = fx["scores_exact_logit_diff"]
    print("%-12s Pearson with exact (logit_diff): eap %.3f relp %.3f eap-gp %.3f; "
          "|e_m - e_clean| / |e_corr - e_clean| %s" % (
              name, c(ex_s, sc["eap"]["logit_diff"].numpy()), c(ex_s, sc["relp"]["logit_diff"].numpy()),
              c(ex_s, sc["eap_gp"]["logit_diff"].numpy()), " ".join("%.2f" % x for x in moved)))


def main(argv):
    np.seterr(all="raise", under="ignore")
    for name in argv or MODELS:
        if name not in MODELS:
            print("methods_ref.py: unknown model %s (have %s)" % (name, " ".join(MODELS)), file=sys.stderr)
            return 2
        write_methods(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
