#!/usr/bin/python3
"""Independent float64 reference for the model families (issue 14): GPT-NeoX
(Pythia), Llama-3, Qwen2, Qwen3, Gemma-2, Gemma-3 and OLMo-2.

Produces (paths relative to the repository root):

  tests/fixtures/models/tiny-<family>/   config.json and weights, laid out as
      a Hugging Face hub download of that family (real config field names and
      model_type, real tensor names with their `gpt_neox.` / `model.`
      prefixes, embed_out / lm_head):
      tiny-neox    2 layers x 4 heads, d 64 (d_head 16), rotary_pct 0.25,
                   parallel residual, exact GELU, fused per-head-interleaved
                   query_key_value with bias, untied embed_out, F16, plus the
                   buffers old Pythia files carry (attention.bias BOOL,
                   attention.masked_bias F32 scalar, rotary_emb.inv_freq)
      tiny-llama   2 x 4 heads, 2 KV heads, d 32, SwiGLU, RMSNorm, rope_scaling
                   llama3 (all three wavelength bands used), untied, BF16,
                   two shards + model.safetensors.index.json, plus
                   self_attn.rotary_emb.inv_freq buffers
      tiny-qwen2   2 x 4 heads, 2 KV heads, d 32, q/k/v biases, tied (no
                   lm_head.weight), BF16; sliding_window 4 present but
                   use_sliding_window false (so it must be ignored)
      tiny-qwen3   2 x 4 heads, 2 KV heads, d 24, head_dim 12 (4*12 != 24),
                   per-head QK-norm, untied, F32
      tiny-gemma2  2 x 4 heads, 2 KV heads, d 32, head_dim 12, sandwich norms
                   with (1+w), sqrt(d) embedding scale, GeGLU, attention and
                   final-logit soft-capping, query_pre_attn_scalar 16, sliding
                   window 3 on even layers, tied, F32
      tiny-gemma3  3 x 4 heads, 1 KV head (MQA), d 24, head_dim 8, per-head
                   QK-norm (1+w), layers 0,1 sliding (window 3,
                   rope_local_base_freq) and layer 2 global (rope_theta with
                   linear rope_scaling), tied, BF16 (model_type gemma3_text)
      tiny-olmo2   2 x 4 heads (MHA), d 32, post-norm only, QK-norm over the
                   whole q / k width, untied, F32
  tests/fixtures/ref/tiny-<family>-forward.safetensors
  tests/fixtures/ref/tiny-<family>-graph.safetensors
      the same tensor list and conventions as gpt2_ref.py's fixtures (the
      writers are imported from it); see tests/reference/README.md.

Written from the published architecture definitions (Hugging Face
transformers; facts only, no code copied):
  * GPT-NeoX: modeling_gpt_neox.py (GPTNeoXAttention: the fused
    query_key_value output viewed as (heads, 3*head_size), so rows are
    [q_h | k_h | v_h] per head; rotary_ndims = int(head_size*rotary_pct);
    scale head_size**-0.5; dense with bias.  GPTNeoXRotaryEmbedding:
    inv_freq = base**(-2i/rotary_ndims), cos/sin of cat(freqs, freqs).
    rotate_half, apply_rotary_pos_emb.  GPTNeoXMLP: dense_h_to_4h, act,
    dense_4h_to_h, both with bias.  GPTNeoXLayer: use_parallel_residual,
    x + attn(ln1(x)) + mlp(ln2(x)).  GPTNeoXModel: embed_in, final_layer_norm;
    GPTNeoXForCausalLM: embed_out) and configuration_gpt_neox.py
    (rotary_pct, rotary_emb_base, layer_norm_eps, use_parallel_residual,
    hidden_act, tie_word_embeddings default false).
  * Llama: modeling_llama.py (LlamaRMSNorm x*rsqrt(mean(x^2)+eps)*w;
    LlamaAttention q/k/v/o_proj, repeat_kv for GQA, scale head_dim**-0.5;
    LlamaMLP down(silu(gate x) * up x); LlamaDecoderLayer pre-norm with
    input_layernorm / post_attention_layernorm (= the pre-MLP norm)),
    modeling_rope_utils.py (_compute_default_rope_parameters,
    _compute_llama3_parameters: wavelength bands of
    original_max_position_embeddings/low_freq_factor and /high_freq_factor,
    smooth interpolation in between) and configuration_llama.py.
  * Qwen2: modeling_qwen2.py (q/k/v_proj with bias, o_proj without; else as
    Llama), configuration_qwen2.py (use_sliding_window, sliding_window,
    max_window_layers, tie_word_embeddings).
  * Qwen3: modeling_qwen3.py (Qwen3Attention: q_norm / k_norm RMSNorm over
    head_dim applied per head after the projection and before rotary;
    explicit head_dim), configuration_qwen3.py.
  * Gemma-2: modeling_gemma2.py (Gemma2RMSNorm x*rsqrt(mean(x^2)+eps)*(1+w);
    embedding times hidden_size**0.5; scaling query_pre_attn_scalar**-0.5;
    attn_logit_softcapping: s/cap, tanh, *cap before the mask; sliding window
    on layers with layer_idx % 2 == 0, keys j with i - j < sliding_window;
    Gemma2DecoderLayer input_layernorm, post_attention_layernorm,
    pre_feedforward_layernorm, post_feedforward_layernorm; Gemma2MLP
    down(act(gate x) * up x) with hidden_activation gelu_pytorch_tanh;
    final_logit_softcapping on the logits), configuration_gemma2.py.
  * Gemma-3: modeling_gemma3.py (Gemma3Attention q_norm / k_norm
    Gemma3RMSNorm(head_dim) before rotary; local layers rotate with
    rope_local_base_freq and default rope, global layers with rope_theta and
    rope_scaling; Gemma3TextScaledWordEmbedding hidden_size**0.5),
    configuration_gemma3.py (Gemma3TextConfig, model_type gemma3_text:
    sliding_window_pattern: layer i slides unless (i+1) % pattern == 0, or
    layer_types; rope_local_base_freq), modeling_rope_utils.py (linear:
    inv_freq / factor).
  * OLMo-2: modeling_olmo2.py (Olmo2Attention: q_norm RMSNorm over
    num_attention_heads*head_dim and k_norm over num_key_value_heads*head_dim
    on the projections before the head split and rotary; Olmo2DecoderLayer
    x + post_attention_layernorm(attn(x)), x + post_feedforward_layernorm(
    mlp(x)), no pre-norms), configuration_olmo2.py.
The edge-level graph and node conventions are those of the project's
CONVENTIONS (README "Model families"): H = query heads, every head keeps its
own q, k, v input, parallel blocks have no same-layer attention -> MLP edges,
post-norm heads output w' * (z_h W_O[h]) / rms(o) with this run's rms(o).

Everything is computed in float64 from the stored values (rounded to F16 or
BF16 where stored so) and written as F32.  For every family the script
asserts: the plain Hugging-Face-style forward (fused / concatenated heads,
repeat_kv, cos/sin tables) equals the explicit edge-level graph forward
(rotary as explicit pair rotations, per-head weight slices, every backward
input its own residual copy); padding does not change real positions;
gradients equal central finite differences; the circuit identities; the edge
counts of the real configs; and that each convention the C side must follow
changes the logits by more than 1e-3 relative when done differently (rotary
at all, rotary dims, rope scaling, windows, soft-caps, scale, QK-norm kind,
(1+w), embedding scale, parallel residual), so that the fixtures pin it.

Regenerate from the repository root (Debian's python with torch):

    /usr/bin/python3 tests/reference/family_ref.py [family ...]

Deterministic: fixed seeds, one thread; a re-run gives byte-identical files.
Never edit the outputs by hand.
"""

import copy
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_ref as G  # noqa: E402  (safetensors I/O, graph helpers, fixture writers)
from gpt2_ref import (MODELS_DIR, edge_mask, layer_norm, read_safetensors,  # noqa: E402
                      write_forward, write_graph, write_safetensors, write_text)

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

# --------------------------------------------------------------------------
# edge counts of real configurations (CONVENTIONS, SPEC §5)
# --------------------------------------------------------------------------

REAL_CONFIGS = {  # name: (layers, query heads, parallel blocks, edges)
    "Pythia-2.8B": (32, 32, True, 1591857),
    "GPT-2 XL": (48, 25, False, 2235025),
    "Qwen2.5-0.5B": (24, 14, False, 179749),
    "Gemma-2-2B": (26, 8, False, 74218),
    "Llama-3.1-8B": (32, 32, False, 1592881),
}


def check_real_edge_counts():
    for name, (L, H, par, want) in REAL_CONFIGS.items():
        E = edge_mask(L, H, parallel=par)
        assert E.shape == (1 + L * (H + 1), L * (3 * H + 1) + 1), name
        got = int(E.sum())
        assert got == want, (name, got, want)
        print("edges %-13s L %2d H %2d %-10s n_fwd %5d n_bwd %5d edges %9d" % (
            name, L, H, "parallel" if par else "sequential", E.shape[0], E.shape[1], got))


# --------------------------------------------------------------------------
# the tiny models: specs, config.json, tensor names
# --------------------------------------------------------------------------

SPECS = {
    "neox": dict(seed=1401, L=2, H=4, KV=4, d=64, dh=16, dm=128, V=50, bos=0, eos=0,
                 dtype="F16", maxpos=32),
    "llama": dict(seed=1402, L=2, H=4, KV=2, d=32, dh=8, dm=64, V=48, bos=1, eos=2,
                  dtype="BF16", shards=2),
    "qwen2": dict(seed=1403, L=2, H=4, KV=2, d=32, dh=8, dm=64, V=40, bos=3, eos=3,
                  dtype="BF16"),
    "qwen3": dict(seed=1404, L=2, H=4, KV=2, d=24, dh=12, dm=48, V=44, bos=5, eos=6,
                  dtype="F32"),
    "gemma2": dict(seed=1405, L=2, H=4, KV=2, d=32, dh=12, dm=64, V=56, bos=2, eos=1,
                   dtype="F32"),
    "gemma3": dict(seed=1406, L=3, H=4, KV=1, d=24, dh=8, dm=48, V=36, bos=2, eos=1,
                   dtype="BF16"),
    "olmo2": dict(seed=1407, L=2, H=4, KV=4, d=32, dh=8, dm=64, V=64, bos=None, eos=7,
                  dtype="F32"),
}


def make_config(fam, s):
    """config.json as the hub has it for that family (field names, defaults
    written out the way the real files write them)."""
    L, H, KV, d, dh, dm, V = s["L"], s["H"], s["KV"], s["d"], s["dh"], s["dm"], s["V"]
    if fam == "neox":  # EleutherAI/pythia-* config.json
        return {"architectures": ["GPTNeoXForCausalLM"], "bos_token_id": s["bos"],
                "eos_token_id": s["eos"], "hidden_act": "gelu", "hidden_size": d,
                "initializer_range": 0.02, "intermediate_size": dm, "layer_norm_eps": 1e-05,
                "max_position_embeddings": s["maxpos"], "model_type": "gpt_neox",
                "num_attention_heads": H, "num_hidden_layers": L, "rotary_emb_base": 10000,
                "rotary_pct": 0.25, "tie_word_embeddings": False, "torch_dtype": "float16",
                "transformers_version": "4.24.0", "use_cache": True,
                "use_parallel_residual": True, "vocab_size": V}
    if fam == "llama":  # meta-llama/Llama-3.1-8B config.json
        return {"architectures": ["LlamaForCausalLM"], "attention_bias": False,
                "attention_dropout": 0.0, "bos_token_id": s["bos"], "eos_token_id": s["eos"],
                "hidden_act": "silu", "hidden_size": d, "initializer_range": 0.02,
                "intermediate_size": dm, "max_position_embeddings": 4096, "mlp_bias": False,
                "model_type": "llama", "num_attention_heads": H, "num_hidden_layers": L,
                "num_key_value_heads": KV, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
                "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 512, "rope_type": "llama3"},
                "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
                "transformers_version": "4.43.0.dev0", "use_cache": True, "vocab_size": V}
    if fam == "qwen2":  # Qwen/Qwen2.5-0.5B config.json
        return {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0,
                "bos_token_id": s["bos"], "eos_token_id": s["eos"], "hidden_act": "silu",
                "hidden_size": d, "initializer_range": 0.02, "intermediate_size": dm,
                "max_position_embeddings": 32768, "max_window_layers": L, "model_type": "qwen2",
                "num_attention_heads": H, "num_hidden_layers": L, "num_key_value_heads": KV,
                "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4,
                "tie_word_embeddings": True, "torch_dtype": "bfloat16",
                "transformers_version": "4.40.1", "use_cache": True, "use_mrope": False,
                "use_sliding_window": False, "vocab_size": V}
    if fam == "qwen3":  # Qwen/Qwen3-8B config.json (untied)
        return {"architectures": ["Qwen3ForCausalLM"], "attention_bias": False,
                "attention_dropout": 0.0, "bos_token_id": s["bos"], "eos_token_id": s["eos"],
                "head_dim": dh, "hidden_act": "silu", "hidden_size": d, "initializer_range": 0.02,
                "intermediate_size": dm, "max_position_embeddings": 40960,
                "max_window_layers": L, "model_type": "qwen3", "num_attention_heads": H,
                "num_hidden_layers": L, "num_key_value_heads": KV, "rms_norm_eps": 1e-06,
                "rope_scaling": None, "rope_theta": 1000, "sliding_window": None,
                "tie_word_embeddings": False, "torch_dtype": "float32",
                "transformers_version": "4.51.0", "use_cache": True,
                "use_sliding_window": False, "vocab_size": V}
    if fam == "gemma2":  # google/gemma-2-2b config.json
        return {"architectures": ["Gemma2ForCausalLM"], "attention_bias": False,
                "attention_dropout": 0.0, "attn_logit_softcapping": 5.0,
                "bos_token_id": s["bos"], "cache_implementation": "hybrid",
                "eos_token_id": s["eos"], "final_logit_softcapping": 4.0, "head_dim": dh,
                "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
                "hidden_size": d, "initializer_range": 0.02, "intermediate_size": dm,
                "max_position_embeddings": 8192, "model_type": "gemma2",
                "num_attention_heads": H, "num_hidden_layers": L, "num_key_value_heads": KV,
                "pad_token_id": 0, "query_pre_attn_scalar": 16, "rms_norm_eps": 1e-06,
                "rope_theta": 10000.0, "sliding_window": 3, "torch_dtype": "float32",
                "transformers_version": "4.42.4", "use_cache": True, "vocab_size": V}
    if fam == "gemma3":  # google/gemma-3-1b-pt config.json (+ 4b's linear rope_scaling)
        pattern = 3
        return {"architectures": ["Gemma3ForCausalLM"], "attention_bias": False,
                "attention_dropout": 0.0, "attn_logit_softcapping": None,
                "bos_token_id": s["bos"], "cache_implementation": "hybrid",
                "eos_token_id": [s["eos"], 35], "final_logit_softcapping": None, "head_dim": dh,
                "hidden_activation": "gelu_pytorch_tanh", "hidden_size": d,
                "initializer_range": 0.02, "intermediate_size": dm,
                "layer_types": ["sliding_attention" if (i + 1) % pattern else "full_attention"
                                for i in range(L)],
                "max_position_embeddings": 32768, "model_type": "gemma3_text",
                "num_attention_heads": H, "num_hidden_layers": L, "num_key_value_heads": KV,
                "pad_token_id": 0, "query_pre_attn_scalar": 12, "rms_norm_eps": 1e-06,
                "rope_local_base_freq": 10000.0,
                "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                "rope_theta": 1000.0, "sliding_window": 3, "sliding_window_pattern": pattern,
                "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
                "use_cache": True, "vocab_size": V}
    if fam == "olmo2":  # allenai/OLMo-2-1124-7B config.json (no bos_token_id)
        return {"architectures": ["Olmo2ForCausalLM"], "attention_bias": False,
                "attention_dropout": 0.0, "eos_token_id": s["eos"], "hidden_act": "silu",
                "hidden_size": d, "initializer_range": 0.02, "intermediate_size": dm,
                "max_position_embeddings": 4096, "model_type": "olmo2",
                "num_attention_heads": H, "num_hidden_layers": L, "num_key_value_heads": KV,
                "pad_token_id": 1, "rms_norm_eps": 1e-06, "rope_scaling": None,
                "rope_theta": 500000, "tie_word_embeddings": False, "torch_dtype": "float32",
                "transformers_version": "4.47.0.dev0", "use_cache": True, "vocab_size": V}
    raise ValueError(fam)


def make_tensors(fam, s, cfg, rn):
    """Random weights with Hugging Face names, nn.Linear layout (out, in).
    Scales are chosen so that attention is far from uniform, rotary and the
    gates matter, and soft-caps act (all asserted in check_model), but not
    so peaked that float32 cannot resolve the gradients: the q/k gains
    (1.4, QK-norm weights about 1.3) keep a float32 evaluation of the same
    graph within about 1e-4 of the mean gradient magnitude (with 2.0 and
    1.8 it was up to 6e-4)."""
    L, H, KV, d, dh, dm, V = s["L"], s["H"], s["KV"], s["d"], s["dh"], s["dm"], s["V"]
    lin = lambda out, inp, c=1.2: rn(out, inp) * (c / math.sqrt(inp))
    gain = lambda n, c=0.2: 1.0 + c * rn(n)           # plain norm weights (w)
    gain1p = lambda n, c=0.3: c * rn(n)               # Gemma (1 + w) weights
    bias = lambda n, c=0.1: c * rn(n)
    t = []
    if fam == "neox":
        p = "gpt_neox."
        t.append((p + "embed_in.weight", 0.8 * rn(V, d)))
        for i in range(L):
            q = p + "layers.%d." % i
            t += [(q + "input_layernorm.weight", gain(d)), (q + "input_layernorm.bias", bias(d)),
                  (q + "post_attention_layernorm.weight", gain(d)),
                  (q + "post_attention_layernorm.bias", bias(d)),
                  (q + "attention.query_key_value.weight", lin(3 * d, d, 1.4)),
                  (q + "attention.query_key_value.bias", bias(3 * d, 0.3)),
                  (q + "attention.dense.weight", lin(d, d)), (q + "attention.dense.bias", bias(d)),
                  (q + "mlp.dense_h_to_4h.weight", lin(dm, d, 2.5)), (q + "mlp.dense_h_to_4h.bias", bias(dm)),
                  (q + "mlp.dense_4h_to_h.weight", lin(d, dm, 2.0)), (q + "mlp.dense_4h_to_h.bias", bias(d))]
        t += [(p + "final_layer_norm.weight", gain(d)), (p + "final_layer_norm.bias", bias(d)),
              ("embed_out.weight", 0.3 * rn(V, d))]
        return t
    p = "model."
    gemma = fam.startswith("gemma")
    t.append((p + "embed_tokens.weight", (1.0 / math.sqrt(d)) * rn(V, d) if gemma else
              (1.0 if fam == "olmo2" else 0.8) * rn(V, d)))
    nw = gain1p if gemma else gain
    for i in range(L):
        q = p + "layers.%d." % i
        if fam != "olmo2":
            t.append((q + "input_layernorm.weight", nw(d)))
        qk_gain = 1.6 if fam in ("qwen3", "gemma3", "olmo2") else 1.4
        t += [(q + "self_attn.q_proj.weight", lin(H * dh, d, qk_gain)),
              (q + "self_attn.k_proj.weight", lin(KV * dh, d, qk_gain)),
              (q + "self_attn.v_proj.weight", lin(KV * dh, d))]
        if fam == "qwen2":
            t += [(q + "self_attn.q_proj.bias", bias(H * dh, 0.5)),
                  (q + "self_attn.k_proj.bias", bias(KV * dh, 0.5)),
                  (q + "self_attn.v_proj.bias", bias(KV * dh, 0.2))]
        t.append((q + "self_attn.o_proj.weight", lin(d, H * dh)))
        if fam in ("qwen3", "gemma3"):
            t += [(q + "self_attn.q_norm.weight", (0.5 + 0.4 * rn(dh)) if gemma else 1.3 + 0.4 * rn(dh)),
                  (q + "self_attn.k_norm.weight", (0.5 + 0.4 * rn(dh)) if gemma else 1.3 + 0.4 * rn(dh))]
        if fam == "olmo2":
            t += [(q + "self_attn.q_norm.weight", 1.3 + 0.4 * rn(H * dh)),
                  (q + "self_attn.k_norm.weight", 1.3 + 0.4 * rn(KV * dh))]
        t.append((q + "post_attention_layernorm.weight", nw(d)))
        if gemma:
            t += [(q + "pre_feedforward_layernorm.weight", nw(d)),
                  (q + "post_feedforward_layernorm.weight", nw(d))]
        if fam == "olmo2":
            t.append((q + "post_feedforward_layernorm.weight", nw(d)))
        t += [(q + "mlp.gate_proj.weight", lin(dm, d, 1.5)), (q + "mlp.up_proj.weight", lin(dm, d)),
              (q + "mlp.down_proj.weight", lin(d, dm))]
    t.append((p + "norm.weight", nw(d)))
    if not cfg.get("tie_word_embeddings", gemma):
        t.append(("lm_head.weight", 0.3 * rn(V, d)))
    return t


def extra_tensors(fam, s, cfg):
    """Buffers some real checkpoints carry; a loader must ignore them."""
    out = []
    if fam == "neox":
        dh = s["d"] // s["H"]
        rot = int(dh * cfg["rotary_pct"])
        mp = cfg["max_position_embeddings"]
        for i in range(s["L"]):
            q = "gpt_neox.layers.%d.attention." % i
            out += [(q + "bias", "BOOL", np.tril(np.ones((mp, mp), dtype=np.uint8)).reshape(1, 1, mp, mp)),
                    (q + "masked_bias", "F32", np.array(-1e9)),
                    (q + "rotary_emb.inv_freq", "F32",
                     1.0 / cfg["rotary_emb_base"] ** (np.arange(0, rot, 2) / rot))]
    if fam == "llama":
        dh = s["d"] // s["H"]
        for i in range(s["L"]):
            # the unscaled frequencies, as old conversions stored them: using
            # them instead of the llama3-scaled ones gives wrong logits
            out.append(("model.layers.%d.self_attn.rotary_emb.inv_freq" % i, "F32",
                        1.0 / cfg["rope_theta"] ** (np.arange(0, dh, 2) / dh)))
    return out


# --------------------------------------------------------------------------
# config.json -> architecture description (what the C loader must derive)
# --------------------------------------------------------------------------

def default_inv_freq(base, dim):
    return 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def llama3_inv_freq(base, dim, rs):
    """modeling_rope_utils._compute_llama3_parameters (rope_type llama3)."""
    inv = default_inv_freq(base, dim)
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    lo_wl, hi_wl = old / lo, old / hi
    out = []
    for f in inv.tolist():
        wl = 2 * math.pi / f
        if wl < hi_wl:
            out.append(f)                                  # high frequency: kept
        elif wl > lo_wl:
            out.append(f / factor)                         # low frequency: divided
        else:
            sm = (old / wl - lo) / (hi - lo)               # medium: interpolated
            out.append((1 - sm) * f / factor + sm * f)
    return torch.tensor(out)


def scaled_inv_freq(base, dim, rs):
    if rs is None or rs.get("rope_type", rs.get("type")) == "default":
        return default_inv_freq(base, dim)
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return default_inv_freq(base, dim) / rs["factor"]
    if kind == "llama3":
        return llama3_inv_freq(base, dim, rs)
    raise ValueError("rope_type %s" % kind)


def arch_of(cfg):
    """The architecture description of a config.json (family defaults as in
    the configuration_*.py files)."""
    mt = cfg["model_type"]
    L, H, d = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["hidden_size"]
    A = dict(model_type=mt, L=L, H=H, d=d, V=cfg["vocab_size"], d_mlp=cfg["intermediate_size"])
    if mt == "gpt_neox":
        dh = d // H
        rot = int(dh * cfg.get("rotary_pct", 0.25))
        A.update(prefix="gpt_neox.", KV=H, dh=dh, norm="layer", eps=cfg.get("layer_norm_eps", 1e-5),
                 parallel=cfg.get("use_parallel_residual", True), block="pre", rot=rot,
                 act={"gelu": "gelu", "gelu_new": "gelu_tanh"}[cfg.get("hidden_act", "gelu")],
                 gated=False, qk_norm=None, scale=dh ** -0.5, attn_cap=None, final_cap=None,
                 window=[None] * L, emb_scale=1.0, tied=cfg.get("tie_word_embeddings", False))
        base = cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000))
        A["inv_freq"] = [scaled_inv_freq(base, rot, cfg.get("rope_scaling"))] * L
        A["bos"] = cfg.get("bos_token_id")
        return A
    KV = cfg.get("num_key_value_heads") or H
    dh = cfg.get("head_dim") or d // H
    A.update(prefix="model.", KV=KV, dh=dh, parallel=False, rot=dh, gated=True,
             eps=cfg.get("rms_norm_eps", 1e-6), attn_cap=None, final_cap=None,
             window=[None] * L, emb_scale=1.0, scale=dh ** -0.5, qk_norm=None, block="pre",
             norm="rms", bos=cfg.get("bos_token_id"))
    if mt in ("llama", "qwen2", "qwen3", "olmo2"):
        A["act"] = {"silu": "silu"}[cfg.get("hidden_act", "silu")]
        A["tied"] = cfg.get("tie_word_embeddings", False)
        inv = scaled_inv_freq(cfg.get("rope_theta", 10000.0), dh, cfg.get("rope_scaling"))
        A["inv_freq"] = [inv] * L
        if mt in ("qwen2", "qwen3") and cfg.get("use_sliding_window", False):
            raise NotImplementedError("use_sliding_window")  # not in these fixtures
        if mt == "qwen3":
            A["qk_norm"] = "head"
        if mt == "olmo2":
            A.update(qk_norm="full", block="post")
        return A
    if mt in ("gemma2", "gemma3_text"):
        A.update(norm="rms1p", block="sandwich", emb_scale=d ** 0.5,
                 act={"gelu_pytorch_tanh": "gelu_tanh"}[cfg.get("hidden_activation", "gelu_pytorch_tanh")],
                 tied=cfg.get("tie_word_embeddings", True),
                 scale=cfg["query_pre_attn_scalar"] ** -0.5,
                 attn_cap=cfg.get("attn_logit_softcapping"),
                 final_cap=cfg.get("final_logit_softcapping"))
        if "layer_types" in cfg:
            sliding = [lt == "sliding_attention" for lt in cfg["layer_types"]]
        elif mt == "gemma2":
            sliding = [i % 2 == 0 for i in range(L)]
        else:
            sliding = [bool((i + 1) % cfg["sliding_window_pattern"]) for i in range(L)]
        if mt == "gemma3_text" and "layer_types" in cfg and "sliding_window_pattern" in cfg:
            assert sliding == [bool((i + 1) % cfg["sliding_window_pattern"]) for i in range(L)]
        A["window"] = [cfg["sliding_window"] if sl else None for sl in sliding]
        if mt == "gemma2":
            A["inv_freq"] = [default_inv_freq(cfg.get("rope_theta", 10000.0), dh)] * L
        else:
            A["qk_norm"] = "head"
            loc = default_inv_freq(cfg.get("rope_local_base_freq", 10000.0), dh)
            glo = scaled_inv_freq(cfg.get("rope_theta", 1e6), dh, cfg.get("rope_scaling"))
            A["inv_freq"] = [loc if sl else glo for sl in sliding]
        return A
    raise ValueError("model_type %s" % mt)


# --------------------------------------------------------------------------
# the model: stored weights -> float64, per-head views for the graph
# --------------------------------------------------------------------------

class FamilyModel:
    """float64 weights of one model, exactly as stored, and its architecture.
    Provides the interface gpt2_ref's fixture writers use: L, H, d, V, bos,
    n_fwd, n_bwd, E, Ef, embed(), plain(), run()."""

    def __init__(self, cfg, params, bos):
        A = arch_of(cfg)
        self.A = A
        self.L, self.H, self.KV, self.d, self.dh = A["L"], A["H"], A["KV"], A["d"], A["dh"]
        self.V = A["V"]
        self.bos = bos
        L, H, KV, d, dh = self.L, self.H, self.KV, self.d, self.dh
        t = lambda name: torch.from_numpy(params[name])
        opt = lambda name: torch.from_numpy(params[name]) if name in params else None
        p = A["prefix"]
        self.raw = params
        self.layers = []
        if A["model_type"] == "gpt_neox":
            self.wte = t(p + "embed_in.weight")
            self.WU = t("embed_out.weight")
            self.fn_w, self.fn_b = t(p + "final_layer_norm.weight"), t(p + "final_layer_norm.bias")
            for i in range(L):
                q = p + "layers.%d." % i
                W, b = t(q + "attention.query_key_value.weight"), t(q + "attention.query_key_value.bias")
                W3 = W.reshape(H, 3, dh, d)                # rows: per head [q | k | v]
                b3 = b.reshape(H, 3, dh)
                lay = dict(n1_w=t(q + "input_layernorm.weight"), n1_b=t(q + "input_layernorm.bias"),
                           n2_w=t(q + "post_attention_layernorm.weight"),
                           n2_b=t(q + "post_attention_layernorm.bias"),
                           qkv_w=W, qkv_b=b,
                           WQ=W3[:, 0], WK=W3[:, 1], WV=W3[:, 2], bQ=b3[:, 0], bK=b3[:, 1], bV=b3[:, 2],
                           Wo=t(q + "attention.dense.weight"), bo=t(q + "attention.dense.bias"),
                           W1=t(q + "mlp.dense_h_to_4h.weight"), b1=t(q + "mlp.dense_h_to_4h.bias"),
                           W2=t(q + "mlp.dense_4h_to_h.weight"), b2=t(q + "mlp.dense_4h_to_h.bias"))
                self.layers.append(lay)
        else:
            self.wte = t(p + "embed_tokens.weight")
            self.WU = self.wte if A["tied"] else t("lm_head.weight")
            if A["tied"]:
                assert "lm_head.weight" not in params
            self.fn_w, self.fn_b = t(p + "norm.weight"), None
            for i in range(L):
                q = p + "layers.%d." % i
                sa = q + "self_attn."
                lay = dict(n1_w=opt(q + "input_layernorm.weight"), n1_b=None,
                           Wq=t(sa + "q_proj.weight"), Wk=t(sa + "k_proj.weight"), Wv=t(sa + "v_proj.weight"),
                           bq=opt(sa + "q_proj.bias"), bk=opt(sa + "k_proj.bias"), bv=opt(sa + "v_proj.bias"),
                           Wo=t(sa + "o_proj.weight"), bo=opt(sa + "o_proj.bias"),
                           qn=opt(sa + "q_norm.weight"), kn=opt(sa + "k_norm.weight"),
                           Wg=t(q + "mlp.gate_proj.weight"), Wu=t(q + "mlp.up_proj.weight"),
                           Wd=t(q + "mlp.down_proj.weight"))
                if A["block"] == "pre":
                    lay.update(n2_w=t(q + "post_attention_layernorm.weight"), n2_b=None,
                               pa_w=None, pf_w=None)
                elif A["block"] == "sandwich":
                    lay.update(n2_w=t(q + "pre_feedforward_layernorm.weight"), n2_b=None,
                               pa_w=t(q + "post_attention_layernorm.weight"),
                               pf_w=t(q + "post_feedforward_layernorm.weight"))
                else:  # post-norm only (OLMo-2)
                    assert lay["n1_w"] is None
                    lay.update(n2_w=None, n2_b=None, pa_w=t(q + "post_attention_layernorm.weight"),
                               pf_w=t(q + "post_feedforward_layernorm.weight"))
                if A["qk_norm"] is None:
                    assert lay["qn"] is None and lay["kn"] is None
                # per-head views: W_Q[h] = rows h*dh..(h+1)*dh of q_proj
                lay["WQ"] = lay["Wq"].reshape(H, dh, d)
                lay["WK"] = lay["Wk"].reshape(KV, dh, d)
                lay["WV"] = lay["Wv"].reshape(KV, dh, d)
                z = lambda n: torch.zeros(n, dh)
                lay["bQ"] = lay["bq"].reshape(H, dh) if lay["bq"] is not None else z(H)
                lay["bK"] = lay["bk"].reshape(KV, dh) if lay["bk"] is not None else z(KV)
                lay["bV"] = lay["bv"].reshape(KV, dh) if lay["bv"] is not None else z(KV)
                self.layers.append(lay)
        for lay in self.layers:
            # W_O[h]: the d_head input columns of the output projection that read head h
            lay["WO"] = torch.stack([lay["Wo"][:, h * dh:(h + 1) * dh].T for h in range(H)])  # (H,dh,d)
        self.group = [h // (H // KV) for h in range(H)]   # g(h): the K/V head of query head h
        self.n_fwd = 1 + L * (H + 1)
        self.n_bwd = L * (3 * H + 1) + 1
        self.E = edge_mask(L, H, parallel=A["parallel"])
        self.Ef = self.E.to(torch.float64)

    def variant(self, **changes):
        """A copy with some architecture fields changed (for the checks that
        each convention matters)."""
        M = copy.copy(self)
        M.A = dict(self.A)
        M.A.update(changes)
        return M

    def embed(self, toks):
        return self.wte[toks] * self.A["emb_scale"]

    def plain(self, toks, stats=None):
        return forward_plain(self, toks, stats)

    def run(self, emb, **kw):
        return graph_run(self, emb, **kw)


# --------------------------------------------------------------------------
# ops
# --------------------------------------------------------------------------

def gelu_exact(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


ACT = {"gelu": lambda x: G.lrp_act(gelu_exact, x), "gelu_tanh": G.gelu,
       "silu": lambda x: G.lrp_act(lambda t: t * torch.sigmoid(t), x)}


def rms_norm(x, w, eps, one_plus):
    y = x / G.const(torch.sqrt((x * x).mean(-1, keepdim=True) + eps))
    return y * ((1.0 + w) if one_plus else w)


def norm(M, x, w, b):
    """The family's norm (LayerNorm with bias | RMSNorm w | Gemma (1+w))."""
    if M.A["norm"] == "layer":
        return layer_norm(x, w, b, M.A["eps"])
    return rms_norm(x, w, M.A["eps"], M.A["norm"] == "rms1p")


def softcap(x, cap):
    return x if cap is None else cap * torch.tanh(x / cap)


def mlp(M, lay, h, stats=None):
    """MLP of one layer on its (already pre-normed) input, with output bias and
    post-feedforward norm: the m{l} node output."""
    act = ACT[M.A["act"]]
    pre = h @ lay["Wg"].T if M.A["gated"] else h @ lay["W1"].T + lay["b1"]
    if stats is not None:
        stats.setdefault("act_in", []).append(pre)
    if M.A["gated"]:
        y = G.lrp_product(act(pre), h @ lay["Wu"].T) @ lay["Wd"].T
    else:
        y = act(pre) @ lay["W2"].T + lay["b2"]
    if lay.get("pf_w") is not None:
        y = norm(M, y, lay["pf_w"], None)
    return y


# --------------------------------------------------------------------------
# plain forward, Hugging Face style (heads concatenated, repeat_kv, cos/sin)
# --------------------------------------------------------------------------

def rotate_half(x):
    x1, x2 = x[..., :x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), -1)


def apply_rope_hf(x, inv_freq, rot, P):
    """x (B,heads,P,dh): cos/sin tables of cat(freqs, freqs) on the first rot dims."""
    freqs = torch.arange(P, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos(), emb.sin()
    xr, xp = x[..., :rot], x[..., rot:]
    return torch.cat((xr * cos + rotate_half(xr) * sin, xp), -1)


def forward_plain(M, toks, stats=None):
    """toks (B,P) int64, right padded -> logits (B,P,V)."""
    A = M.A
    B, P = toks.shape
    H, KV, dh, d = M.H, M.KV, M.dh, M.d
    x = M.wte[toks] * A["emb_scale"]
    i_idx = torch.arange(P)[:, None]
    j_idx = torch.arange(P)[None, :]
    for l, lay in enumerate(M.layers):
        h = norm(M, x, lay["n1_w"], lay["n1_b"]) if lay["n1_w"] is not None else x
        if A["model_type"] == "gpt_neox":
            qkv = (h @ lay["qkv_w"].T + lay["qkv_b"]).view(B, P, H, 3 * dh)
            q = qkv[..., :dh].permute(0, 2, 1, 3)
            k = qkv[..., dh:2 * dh].permute(0, 2, 1, 3)
            v = qkv[..., 2 * dh:].permute(0, 2, 1, 3)
        else:
            q, k, v = h @ lay["Wq"].T, h @ lay["Wk"].T, h @ lay["Wv"].T
            if lay["bq"] is not None:
                q, k, v = q + lay["bq"], k + lay["bk"], v + lay["bv"]
            if A["qk_norm"] == "full":               # OLMo-2: before the head split
                q = norm(M, q, lay["qn"], None)
                k = norm(M, k, lay["kn"], None)
            q = q.view(B, P, H, dh).transpose(1, 2)
            k = k.view(B, P, KV, dh).transpose(1, 2)
            v = v.view(B, P, KV, dh).transpose(1, 2)
            if A["qk_norm"] == "head":               # Qwen3, Gemma-3: per head
                q = norm(M, q, lay["qn"], None)
                k = norm(M, k, lay["kn"], None)
        q = apply_rope_hf(q, A["inv_freq"][l], A["rot"], P)
        k = apply_rope_hf(k, A["inv_freq"][l], A["rot"], P)
        rep = H // KV                                   # repeat_kv
        k = k[:, :, None].expand(B, KV, rep, P, dh).reshape(B, H, P, dh)
        v = v[:, :, None].expand(B, KV, rep, P, dh).reshape(B, H, P, dh)
        s = softcap((q @ k.transpose(2, 3)) * A["scale"], A["attn_cap"])
        allowed = j_idx <= i_idx
        if A["window"][l] is not None:
            allowed = allowed & (i_idx - j_idx < A["window"][l])
        s = s + torch.where(allowed, 0.0, float("-inf"))
        a = torch.softmax(s, -1)
        if stats is not None:
            stats.setdefault("attn", []).append(a)
        z = (a @ v).transpose(1, 2).reshape(B, P, H * dh)
        o = z @ lay["Wo"].T
        if lay.get("bo") is not None:
            o = o + lay["bo"]
        if lay.get("pa_w") is not None:
            o = norm(M, o, lay["pa_w"], None)
        if A["parallel"]:
            x = x + o + mlp(M, lay, norm(M, x, lay["n2_w"], lay["n2_b"]), stats)
        else:
            x = x + o
            hm = norm(M, x, lay["n2_w"], lay["n2_b"]) if lay["n2_w"] is not None else x
            x = x + mlp(M, lay, hm, stats)
    logits = norm(M, x, M.fn_w, M.fn_b) @ M.WU.T
    return softcap(logits, A["final_cap"])


# --------------------------------------------------------------------------
# the edge-level graph (SPEC §5 with H = query heads; CONVENTIONS)
# --------------------------------------------------------------------------

def rope_pairs(x, inv_freq, rot):
    """x (..., n, dh): rotates the pairs (i, i + rot/2), i < rot/2, by the angle
    position * inv_freq[i] (the same map as rotate-half, written directly)."""
    n = x.shape[-2]
    half = rot // 2
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv_freq[None, :]   # (n, half)
    c, s = torch.cos(ang), torch.sin(ang)
    a, b = x[..., :half], x[..., half:rot]
    return torch.cat((a * c - b * s, b * c + a * s, x[..., rot:]), -1)


def graph_run(M, emb, ycorr=None, keep=None, delta=None, override=None):
    """Forward through the edge-level graph of one example (length n, no padding);
    the arguments and results are those of gpt2_ref.graph_run:

    emb   (B,n,d)          output of the `input` node
    ycorr (n_fwd,n,d)      corrupted node outputs, used on edges with keep 0
    keep  (B,n_fwd,n_bwd)  1: the edge carries u's output of this run
    delta (B,n_bwd,n,d)    added to every backward input's own copy x_v
    override {("attn"|"mlp", l): (B,k,n,d)}  constant node outputs
    returns node outputs Y (B,n_fwd,n,d) and logits at the last position (B,V)
    """
    A = M.A
    L, H, d, dh = M.L, M.H, M.d, M.dh
    n = emb.shape[1]
    nodes = [emb]
    grp = M.group

    def resid(lo, hi, bias):
        U = len(nodes)
        Y = torch.stack(nodes, 1)
        Em = M.Ef[:U, lo:hi]
        if keep is None:
            x = torch.einsum("bund,uv->bvnd", Y, Em)
        else:
            K = keep[:, :U, lo:hi] * Em
            x = torch.einsum("bund,buv->bvnd", Y, K) + torch.einsum("und,buv->bvnd", ycorr[:U], Em - K)
        x = x + bias
        if delta is not None:
            x = x + delta[:, lo:hi]
        return x

    causal = torch.ones(n, n, dtype=torch.bool).tril()
    bias = torch.zeros(d)                        # output-projection biases so far (NeoX)
    for l, lay in enumerate(M.layers):
        base = l * (3 * H + 1)
        x = resid(base, base + 3 * H, bias)      # (B,3H,n,d): q | k | v copies
        hx = norm(M, x, lay["n1_w"], lay["n1_b"]) if lay["n1_w"] is not None else x
        hq, hk, hv = hx[:, 0:H], hx[:, H:2 * H], hx[:, 2 * H:3 * H]
        WK = lay["WK"][grp]                      # (H,dh,d): head h's K/V group
        WV = lay["WV"][grp]
        bK, bV = lay["bK"][grp], lay["bV"][grp]
        if A["qk_norm"] == "full":
            # OLMo-2: head h's q path projects all heads, normalises the whole
            # width and keeps its own slice (likewise k with the K/V width)
            qa = norm(M, torch.einsum("bhnd,ed->bhne", hq, lay["Wq"]), lay["qn"], None)
            ka = norm(M, torch.einsum("bhnd,ed->bhne", hk, lay["Wk"]), lay["kn"], None)
            q = torch.stack([qa[:, h, :, h * dh:(h + 1) * dh] for h in range(H)], 1)
            k = torch.stack([ka[:, h, :, grp[h] * dh:(grp[h] + 1) * dh] for h in range(H)], 1)
        else:
            q = torch.einsum("bhnd,hed->bhne", hq, lay["WQ"]) + lay["bQ"][None, :, None, :]
            k = torch.einsum("bhnd,hed->bhne", hk, WK) + bK[None, :, None, :]
            if A["qk_norm"] == "head":
                q = norm(M, q, lay["qn"], None)
                k = norm(M, k, lay["kn"], None)
        v = torch.einsum("bhnd,hed->bhne", hv, WV) + bV[None, :, None, :]
        q = rope_pairs(q, A["inv_freq"][l], A["rot"])
        k = rope_pairs(k, A["inv_freq"][l], A["rot"])
        s = softcap(torch.einsum("bhie,bhje->bhij", q, k) * A["scale"], A["attn_cap"])
        mask = causal
        if A["window"][l] is not None:
            mask = mask & ~torch.ones(n, n, dtype=torch.bool).tril(-A["window"][l])
        a = G.const(torch.softmax(s.masked_fill(~mask, float("-inf")), -1))
        z = a @ v                                              # (B,H,n,dh)
        oh = torch.einsum("bhne,hed->bhnd", z, lay["WO"])      # z_h W_O[h]
        if lay.get("pa_w") is not None:
            # post-attention norm: linear given rms(o) of this run
            o = oh.sum(1, keepdim=True)
            r = G.const(torch.sqrt((o * o).mean(-1, keepdim=True) + A["eps"]))
            w = (1.0 + lay["pa_w"]) if A["norm"] == "rms1p" else lay["pa_w"]
            yh = w * oh / r
        else:
            yh = oh
        if override is not None and ("attn", l) in override:
            yh = override[("attn", l)]
        nodes += [yh[:, h] for h in range(H)]
        bias_in = bias                                         # entering layer l
        if lay.get("bo") is not None:
            bias = bias + lay["bo"]
        xm = resid(base + 3 * H, base + 3 * H + 1, bias_in if A["parallel"] else bias)[:, 0]
        hm = norm(M, xm, lay["n2_w"], lay["n2_b"]) if lay["n2_w"] is not None else xm
        ym = mlp(M, lay, hm)
        if override is not None and ("mlp", l) in override:
            ym = override[("mlp", l)][:, 0]
        nodes.append(ym)
    xl = resid(M.n_bwd - 1, M.n_bwd, bias)[:, 0, -1]
    logits = softcap(norm(M, xl, M.fn_w, M.fn_b) @ M.WU.T, A["final_cap"])
    return torch.stack(nodes, 1), logits


# --------------------------------------------------------------------------
# writing and reading back a model folder
# --------------------------------------------------------------------------

def round_to(a, dt):
    """float64 array -> the float64 values of its stored dtype."""
    if dt == "F32":
        return a.astype(np.float32).astype(np.float64)
    if dt == "F16":
        return a.astype(np.float32).astype(np.float16).astype(np.float64)
    if dt == "BF16":
        return G.bf16_bits_to_f64(G.f64_to_bf16_bits(a))
    raise ValueError(dt)


def make_model(fam):
    s = SPECS[fam]
    name = "tiny-" + fam
    g = torch.Generator().manual_seed(s["seed"])
    rn = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)
    cfg = make_config(fam, s)
    tens = [(n, s["dtype"], a.numpy()) for n, a in make_tensors(fam, s, cfg, rn)]
    stored = tens + extra_tensors(fam, s, cfg)
    mdir = os.path.join(MODELS_DIR, name)
    os.makedirs(mdir, exist_ok=True)
    for f in os.listdir(mdir):
        if f.endswith(".safetensors") or f.endswith(".json"):
            os.remove(os.path.join(mdir, f))
    nsh = s.get("shards", 1)
    files = []
    if nsh == 1:
        write_safetensors(os.path.join(mdir, "model.safetensors"), stored)
        files.append("model.safetensors")
    else:
        # shard by layer: embeddings + first half of the layers | the rest
        def shard_of(n):
            if ".layers." in n:
                return min(nsh - 1, int(n.split(".layers.")[1].split(".")[0]) * nsh // s["L"])
            return 0 if "embed" in n else nsh - 1
        weight_map = {}
        total = 0
        for k in range(nsh):
            fn = "model-%05d-of-%05d.safetensors" % (k + 1, nsh)
            part = [x for x in stored if shard_of(x[0]) == k]
            write_safetensors(os.path.join(mdir, fn), part)
            files.append(fn)
            for n, dt, a in part:
                weight_map[n] = fn
                total += int(np.prod(a.shape, dtype=np.int64)) * G.ITEMSIZE[dt]
        index = {"metadata": {"total_size": total},
                 "weight_map": {n: weight_map[n] for n in sorted(weight_map)}}
        write_text(os.path.join(mdir, "model.safetensors.index.json"), json.dumps(index, indent=2) + "\n")
    write_text(os.path.join(mdir, "config.json"), json.dumps(cfg, indent=2) + "\n")

    # read back; the reference computes from the stored values
    back = {}
    for fn in files:
        back.update(read_safetensors(os.path.join(mdir, fn)))
    assert sorted(back) == sorted(n for n, _, _ in stored)
    for n, dt, a in stored:
        assert back[n][0] == dt and back[n][1].shape == a.shape, n
        if dt in ("F32", "F16", "BF16"):
            assert np.array_equal(back[n][1], round_to(a, dt)), n
            t = torch.from_numpy(a).to(torch.float32)
            tt = {"F32": t, "F16": t.to(torch.float16), "BF16": t.to(torch.bfloat16)}[dt]
            assert torch.equal(tt.to(torch.float64), torch.from_numpy(back[n][1])), n
    params = {n: back[n][1] for n, _, _ in tens}
    cfg_back = json.load(open(os.path.join(mdir, "config.json")))
    bos = cfg_back.get("bos_token_id")
    if bos is None:
        bos = s["eos"]            # OLMo-2 has no bos_token_id: its <|endoftext|> (eos) starts prompts
    return FamilyModel(cfg_back, params, bos)


# --------------------------------------------------------------------------
# checks that the tiny model is not degenerate and that each convention matters
# --------------------------------------------------------------------------

def rel_change(a, b):
    return float((a - b).abs().max() / a.abs().max())


def check_model(fam, M, rng):
    A = M.A
    P = 16
    toks = torch.from_numpy(G.random_tokens(rng, M, [P, P], P))
    st = {}
    with torch.no_grad():
        base = M.plain(toks, st)
    # attention far from uniform: mean total-variation distance of each row
    # (with at least 3 visible keys) from the uniform distribution over them
    tvs = []
    for l, a in enumerate(st["attn"]):
        vis = (a > 0).sum(-1, keepdim=True).to(torch.float64)
        tv = 0.5 * torch.where(a > 0, (a - 1.0 / vis).abs(), torch.zeros(())).sum(-1)
        tv = tv[..., vis[0, 0, :, 0] >= 3]
        tvs.append(float(tv.mean()))
        assert tvs[-1] > 0.25, (fam, l, tvs[-1])
    msg = ["attn TV from uniform " + " ".join("%.2f" % x for x in tvs)]
    # the activations (gates) are used in their non-linear range: at least a
    # quarter of the pre-activations at real positions have |x| > 1
    fr = [float((a.abs() > 1).to(torch.float64).mean()) for a in st["act_in"]]
    assert min(fr) > 0.25, (fam, fr)
    msg.append("act |x|>1 " + " ".join("%.2f" % x for x in fr))
    # each convention changes the logits by > 1e-3 relative when done otherwise
    zero = [torch.zeros_like(f) for f in A["inv_freq"]]
    ablate = {"no rotary": dict(inv_freq=zero)}
    if A["attn_cap"] is not None:
        ablate["no attention soft-cap"] = dict(attn_cap=None)
    if A["final_cap"] is not None:
        ablate["no final soft-cap"] = dict(final_cap=None)
    if any(w is not None for w in A["window"]):
        ablate["no sliding window"] = dict(window=[None] * M.L)
        ablate["window off by one"] = dict(window=[None if w is None else w + 1 for w in A["window"]])
        ablate["sliding on the other layers"] = dict(
            window=[3 if w is None else None for w in A["window"]])
    if A["emb_scale"] != 1.0:
        ablate["no embedding scale"] = dict(emb_scale=1.0)
    if A["norm"] == "rms1p":
        ablate["norm w instead of 1+w"] = dict(norm="rms")
    if A["scale"] != M.dh ** -0.5:
        ablate["scale 1/sqrt(d_head)"] = dict(scale=M.dh ** -0.5)
    if A["model_type"] == "gpt_neox":
        ablate["rotary on all head dims"] = dict(rot=M.dh, inv_freq=[default_inv_freq(10000, M.dh)] * M.L)
        ablate["inv_freq over d_head"] = dict(inv_freq=[default_inv_freq(10000, M.dh)[:A["rot"] // 2]] * M.L)
        ablate["sequential residual"] = dict(parallel=False)
        # the two GELUs differ by at most 5e-4: this one is pinned at 1e-4 only
        ablate["tanh GELU"] = dict(act="gelu_tanh", _min=1e-4)
    if A["model_type"] == "llama":
        ablate["rope_scaling ignored"] = dict(inv_freq=[default_inv_freq(500000.0, M.dh)] * M.L)
        # each wavelength band of the llama3 rule on its own: the medium band
        # (index 1) interpolated, the low bands (2, 3) divided by the factor
        f0, f1 = default_inv_freq(500000.0, M.dh), A["inv_freq"][0]
        assert f1[0] == f0[0] and f0[1] / 8 < f1[1] < f0[1] and torch.equal(f1[2:], f0[2:] / 8)
        for i, what in ((1, "medium band not interpolated"), (2, "low band not divided")):
            f = f1.clone()
            f[i] = f0[i]
            ablate["llama3 " + what] = dict(inv_freq=[f] * M.L)
    if A["model_type"] == "qwen2":
        ablate["sliding_window applied"] = dict(window=[4] * M.L)
    if A["model_type"] == "gemma3_text":
        ablate["local base everywhere"] = dict(inv_freq=[A["inv_freq"][0]] * M.L)
        ablate["global base everywhere"] = dict(inv_freq=[A["inv_freq"][-1]] * M.L)
        ablate["no linear scaling"] = dict(
            inv_freq=[f if w is not None else f * 8.0 for f, w in zip(A["inv_freq"], A["window"])])
    if A["qk_norm"] == "head":
        ablate["no QK-norm"] = dict(qk_norm=None)
    if A["qk_norm"] == "head" and A["norm"] == "rms1p":
        # Gemma-3's QK-norm weights are (1 + w) too
        Mw = copy.copy(M)
        Mw.layers = [dict(lay, qn=lay["qn"] - 1.0, kn=lay["kn"] - 1.0) for lay in M.layers]
        with torch.no_grad():
            r = rel_change(base, Mw.plain(toks))
        assert r > 1e-3, (fam, "qk norm w", r)
        msg.append("QK-norm w instead of 1+w %.2g" % r)
    if A["model_type"] == "gemma2":
        ablate["exact GELU in GeGLU"] = dict(act="gelu", _min=1e-4)
    if A["qk_norm"] == "full":
        # per-head QK-norm with the matching slice of the weight
        Mh = M.variant(qk_norm="head")
        Mh.layers = [dict(lay, qn=lay["qn"][:M.dh], kn=lay["kn"][:M.dh]) for lay in M.layers]
        with torch.no_grad():
            r = rel_change(base, Mh.plain(toks))
        assert r > 1e-3, (fam, "qk norm per head", r)
        msg.append("qk-norm per head %.2g" % r)
    for what, ch in ablate.items():
        ch = dict(ch)
        lo = ch.pop("_min", 1e-3)
        with torch.no_grad():
            r = rel_change(base, M.variant(**ch).plain(toks))
        assert r > lo, (fam, what, r)
        msg.append("%s %.2g" % (what, r))
    if A["attn_cap"] is not None or A["final_cap"] is not None:
        # the caps act: some scores / logits reach a third of the cap
        if A["final_cap"] is not None:
            frac = float((base.abs() > A["final_cap"] / 3).to(torch.float64).mean())
            assert frac > 0.05, (fam, frac)
            msg.append("|logit| > cap/3: %.0f%%" % (100 * frac))
    print("%-12s %s" % ("tiny-" + fam, "; ".join(msg)))


# --------------------------------------------------------------------------

FORWARD = {  # rng seed, lengths (B = 4, P = 16)
    "neox": (31, [16, 5, 11, 8]), "llama": (32, [9, 16, 3, 12]), "qwen2": (33, [16, 7, 12, 2]),
    "qwen3": (34, [6, 16, 10, 13]), "gemma2": (35, [16, 4, 9, 14]), "gemma3": (36, [11, 16, 5, 8]),
    "olmo2": (37, [16, 13, 6, 10]),
}
GRAPH = {  # rng seed, lengths (N = 4, P = 8), answer and foil counts
    "neox": (41, [8, 5, 7, 4], [1, 3, 2, 1], [1, 2, 3, 1]),
    "llama": (42, [6, 8, 3, 5], [2, 1, 1, 3], [1, 1, 2, 2]),
    "qwen2": (43, [8, 4, 6, 7], [1, 2, 1, 2], [2, 1, 1, 3]),
    "qwen3": (44, [5, 8, 7, 3], [1, 1, 3, 2], [1, 2, 1, 1]),
    "gemma2": (45, [8, 6, 4, 7], [2, 1, 1, 1], [1, 3, 2, 1]),
    "gemma3": (46, [7, 8, 5, 6], [1, 2, 1, 3], [2, 1, 1, 1]),
    "olmo2": (47, [8, 3, 6, 5], [3, 1, 2, 1], [1, 1, 1, 2]),
}


def main(argv):
    np.seterr(all="raise", under="ignore")
    torch.manual_seed(0)
    check_real_edge_counts()
    fams = argv or list(SPECS)
    for fam in fams:
        if fam not in SPECS:
            print("family_ref.py: unknown family %s (have %s)" % (fam, " ".join(SPECS)), file=sys.stderr)
            return 2
    for fam in fams:
        M = make_model(fam)
        check_model(fam, M, np.random.default_rng(51 + list(SPECS).index(fam)))
        seed, lengths = FORWARD[fam]
        write_forward("tiny-" + fam, M, np.random.default_rng(seed), lengths, 16, True)
        seed, lengths, na, nf = GRAPH[fam]
        write_graph("tiny-" + fam, M, np.random.default_rng(seed), lengths, 8, n_ans=na, n_foil=nf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
