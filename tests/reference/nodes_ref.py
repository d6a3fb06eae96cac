#!/usr/bin/python3
"""Float64 reference for node- and neuron-level scores (issue #18 item 1).

Produces tests/fixtures/ref/<name>-nodes.safetensors for tiny-word and
tiny-untied, on the pairs of <name>-graph.safetensors (written by
gpt2_ref.py, read here) and the committed model of tests/fixtures/models:

  for M in logit_diff prob_diff kl kl_sum, and K in
  eap eap_ig clean_corrupted eap_ig_act exact:
    node_K_M    F32 (n_fwd)      node scores
    neuron_K_M  F32 (n_fwd, d)   neuron scores

Definitions (our sign: the change of the metric, mean over examples):
  gradient methods  neuron(u, j) = sum_positions dy_u[j] * dm/dy_u[j], the
                    gradient taken at u's *output* (a zero added to the
                    output of every node, requiring grad), at the runs of
                    the method (EAP: clean; EAP-IG: the m = 5 input steps
                    k = 0..4, averaged; clean-corrupted: the mean of the
                    clean and corrupted runs; EAP-IG-act: each node group's
                    output held at y_corr + (k/5)(y_clean - y_corr),
                    k = 1..5, the (2L+1)5 runs averaged); node = sum_j.
  exact             node(u) = m(every edge out of u carries y_u(corrupted))
                    - m(clean); neuron(u, j) the same with only dimension
                    j of y_u corrupted, one patched run per (u, j).

The gradient at a node's output is computed by autograd through an output
perturbation (graph_run's odelta), not from the gradients at the backward
inputs, so the C side's identity node(u) = sum_v s(u->v) is checked
against an independent computation.

Regenerate from the repository root (Debian's python with torch; after
gpt2_ref.py, whose pairs it reads):

    /usr/bin/python3 tests/reference/nodes_ref.py

Deterministic (no randomness, one thread); never edit the outputs by hand.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_ref as R  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

METHODS = ("eap", "eap_ig", "clean_corrupted", "eap_ig_act", "exact")


def load_model(name):
    params = R.read_safetensors(os.path.join(R.MODELS_DIR, name, "model.safetensors"))
    return R.Model(R.MODEL_SPECS[name], {n: v[1] for n, v in params.items()})


def grads_out(M, emb, ex, override=None):
    """dm/dy_u at every node output, per configuration: M -> (B,n_fwd,n,d)."""
    B, n, d = emb.shape
    od = torch.zeros(B, M.n_fwd, n, d, requires_grad=True)
    _, lg = M.run(emb, override=override, odelta=od)
    ms = R.metrics(lg, ex["ans"], ex["foil"], ex["clean_lp"])
    out = {}
    for name in R.METRICS:
        (g,) = torch.autograd.grad(ms[name].sum(), od, retain_graph=True)
        out[name] = g
    return out


def write_nodes(name):
    M = load_model(name)
    gf = R.read_safetensors(os.path.join(R.REF_DIR, name + "-graph.safetensors"))
    clean, corr = gf["clean"][1], gf["corrupted"][1]
    lengths, ans, foil = gf["lengths"][1], gf["answers"][1], gf["foils"][1]
    N, nf, d, H = len(lengths), M.n_fwd, M.d, M.H
    node = {k: {m: torch.zeros(nf) for m in R.METRICS} for k in METHODS}
    neuron = {k: {m: torch.zeros(nf, d) for m in R.METRICS} for k in METHODS}
    steps = R.IG_STEPS

    for i, n in enumerate(lengths):
        n = int(n)
        tc = torch.from_numpy(clean[i, :n].astype(np.int64))
        tx = torch.from_numpy(corr[i, :n].astype(np.int64))
        e_c, e_x = M.embed(tc), M.embed(tx)
        a_ids = [int(t) for t in ans[i] if t >= 0]
        f_ids = [int(t) for t in foil[i] if t >= 0]
        with torch.no_grad():
            Yc, lc = M.run(e_c[None])
            Yx, lx = M.run(e_x[None])
        Yc, Yx = Yc[0], Yx[0]
        ex = {"ans": a_ids, "foil": f_ids, "clean_lp": torch.log_softmax(lc[0], -1)}
        mc = R.metrics(lc, a_ids, f_ids, ex["clean_lp"])
        dY = Yx - Yc                                      # (n_fwd,n,d)

        gc = grads_out(M, e_c[None], ex)
        gx = grads_out(M, e_x[None], ex)
        alphas = torch.arange(steps, dtype=torch.float64) / steps
        gig = grads_out(M, e_x[None] + alphas[:, None, None] * (e_c - e_x)[None], ex)
        groups = [("input", [0])]
        for l in range(M.L):
            groups += [(("attn", l), [1 + l * (H + 1) + h for h in range(H)]),
                       (("mlp", l), [1 + l * (H + 1) + H])]
        a1 = torch.arange(1, steps + 1, dtype=torch.float64) / steps
        gact = {m: torch.zeros(nf, n, d) for m in R.METRICS}
        for key, idx in groups:
            y = Yx[idx][None] + a1[:, None, None, None] * (Yc[idx] - Yx[idx])[None]
            if key == "input":
                ga = grads_out(M, y[:, 0], ex)
            else:
                ga = grads_out(M, e_c[None].expand(steps, n, d), ex, override={key: y})
            for m in R.METRICS:
                gact[m] += ga[m].sum(0) / (len(groups) * steps)
        for m in R.METRICS:
            for key, go in (("eap", gc[m][0]), ("eap_ig", gig[m].mean(0)),
                            ("clean_corrupted", 0.5 * (gc[m][0] + gx[m][0])),
                            ("eap_ig_act", gact[m])):
                nu = (dY * go).sum(1)                     # (n_fwd,d)
                neuron[key][m] += nu / N
                node[key][m] += nu.sum(1) / N

        # exact: one patched run per node and per (node, dimension)
        with torch.no_grad():
            keep = R.edge_mask(M.L, H).to(torch.float64)[None].repeat(nf, 1, 1)
            for u in range(nf):
                keep[u, u] = 0.0
            _, lg = M.run(e_c[None].expand(nf, n, d), ycorr=Yx, keep=keep)
            mp = R.metrics(lg, a_ids, f_ids, ex["clean_lp"])
            for m in R.METRICS:
                node["exact"][m] += (mp[m] - mc[m][0]) / N
            for u in range(nf):
                for j in range(d):
                    yab = Yc.clone()
                    yab[u, :, j] = Yx[u, :, j]
                    _, lg = M.run(e_c[None], ycorr=yab, keep=keep[u:u + 1])
                    mp = R.metrics(lg, a_ids, f_ids, ex["clean_lp"])
                    for m in R.METRICS:
                        neuron["exact"][m][u, j] += float(mp[m][0] - mc[m][0]) / N

    # the identities the C tests rely on, asserted here too
    E = M.E
    for m in R.METRICS:
        for key in METHODS[:4]:
            assert torch.allclose(neuron[key][m].sum(1), node[key][m], rtol=1e-10, atol=1e-13)
        last_mlp = nf - 1                                  # m{L-1}: one edge, into logits
        assert int(E[last_mlp].sum()) == 1

    out = []
    for m in R.METRICS:
        for key in METHODS:
            out.append(("node_%s_%s" % (key, m), "F32", node[key][m].numpy()))
            out.append(("neuron_%s_%s" % (key, m), "F32", neuron[key][m].numpy()))
    R.write_safetensors(os.path.join(R.REF_DIR, name + "-nodes.safetensors"), out)
    print("%-12s nodes: n_fwd %d d %d | logit_diff node scores eap %s | exact %s" % (
        name, nf, d, np.array2string(node["eap"]["logit_diff"].numpy(), precision=3),
        np.array2string(node["exact"]["logit_diff"].numpy(), precision=3)))


def main():
    np.seterr(all="raise", under="ignore")
    write_nodes("tiny-word")
    write_nodes("tiny-untied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
