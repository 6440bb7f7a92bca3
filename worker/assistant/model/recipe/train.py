#!/usr/bin/env python3
"""Trains the bundled model of worker/assistant/model from the token files of aisle-train-data.

Reads DATA/train.{tokens,mask,docs} and DATA/val.{tokens,mask,docs} (see package
aisle/worker/assistant/training) and writes OUT/model.safetensors (F32 tensors under their GGUF
names, hyperparameters in the metadata; `slm export` turns it into the GGUF) and OUT/log.jsonl.

The network is llama.cpp's LLAMA architecture exactly: token embedding, per layer RMSNorm ->
grouped-query attention with RoPE (llama.cpp's "normal" rotation of adjacent pairs, so q and k
are exported as they are) -> residual, RMSNorm -> SwiGLU feed-forward -> residual; final RMSNorm
and the output projection tied to the embedding. No biases.

Conversations are packed into rows of --ctx tokens; attention never crosses from one
conversation to another and each starts at position 0, as it does when the model serves. The
loss is on the assistant's words and the end-of-turn token only (the mask file).

Runs on CUDA (bf16 autocast) or, for CI's smoke test, on the CPU with Debian's python3-torch.
"""
import argparse, json, math, os, struct, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--time-budget", type=float, default=0,
                   help="seconds: after 100 steps, set --steps to what fits (a multiple of 100; logged, "
                        "so --steps reproduces the run)")
    p.add_argument("--batch", type=int, default=64, help="rows of --ctx tokens per step")
    p.add_argument("--ctx", type=int, default=1024)
    p.add_argument("--dim", type=int, default=320)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=5)
    p.add_argument("--kv-heads", type=int, default=1)
    p.add_argument("--ffn", type=int, default=960)
    p.add_argument("--rope-base", type=float, default=10000.0)
    p.add_argument("--eps", type=float, default=1e-5)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--init-std", type=float, default=0.02, help="standard deviation of the initial matrices")
    p.add_argument("--dump-logits", default="", help="write the trained model's float32 logits for the start "
                   "of the first validation conversation to this JSON file (tests compare them with the engine)")
    p.add_argument("--name", default="aisle-assistant")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    return p.parse_args()


class Split:
    """One split's token files, packed into rows of ctx tokens per epoch."""

    def __init__(self, prefix, ctx):
        self.tokens = np.fromfile(prefix + ".tokens", dtype="<u2").astype(np.int64)
        self.mask = np.fromfile(prefix + ".mask", dtype=np.uint8)
        self.docs = np.fromfile(prefix + ".docs", dtype="<u4").astype(np.int64)
        if len(self.mask) != len(self.tokens) or self.docs[-1] != len(self.tokens):
            sys.exit(f"{prefix}: token, mask and docs files disagree")
        lens = np.diff(self.docs)
        keep = lens <= ctx
        self.starts, self.lens = self.docs[:-1][keep], lens[keep]
        self.dropped = int((~keep).sum())
        self.ctx = ctx

    def pack(self, rng):
        """Returns (tokens, targets, loss mask, doc ids, positions) as int64/bool arrays of
        shape (rows, ctx), the conversations in a random order packed greedily."""
        order = rng.permutation(len(self.starts))
        rows, cur, used = [], [], 0
        for i in order:
            n = int(self.lens[i])
            if used + n > self.ctx:
                rows.append(cur)
                cur, used = [], 0
            cur.append(i)
            used += n
        if cur:
            rows.append(cur)
        R, T = len(rows), self.ctx
        tok = np.zeros((R, T + 1), np.int64)
        msk = np.zeros((R, T + 1), np.bool_)
        doc = np.full((R, T + 1), -1, np.int64)
        pos = np.zeros((R, T + 1), np.int64)
        for r, row in enumerate(rows):
            at = 0
            for d, i in enumerate(row):
                s, n = int(self.starts[i]), int(self.lens[i])
                tok[r, at:at + n] = self.tokens[s:s + n]
                msk[r, at:at + n] = self.mask[s:s + n] == 1
                doc[r, at:at + n] = d
                pos[r, at:at + n] = np.arange(n)
                at += n
        # predict token t+1 from tokens ..t of the same conversation
        same = doc[:, 1:] == doc[:, :-1]
        return (tok[:, :-1], tok[:, 1:], msk[:, 1:] & same, doc[:, :-1], pos[:, :-1])


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope(x, cos, sin):
    """llama.cpp's normal RoPE: rotates adjacent pairs (x0,x1), (x2,x3), ... x: (B,H,T,D)."""
    x2 = x.float().reshape(*x.shape[:-1], -1, 2)
    a, b = x2[..., 0], x2[..., 1]
    out = torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1)
    return out.flatten(-2).type_as(x)


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.h, self.kv, self.hd = a.heads, a.kv_heads, a.dim // a.heads
        self.attn_norm = RMSNorm(a.dim, a.eps)
        self.q = nn.Linear(a.dim, a.heads * self.hd, bias=False)
        self.k = nn.Linear(a.dim, a.kv_heads * self.hd, bias=False)
        self.v = nn.Linear(a.dim, a.kv_heads * self.hd, bias=False)
        self.o = nn.Linear(a.heads * self.hd, a.dim, bias=False)
        self.ffn_norm = RMSNorm(a.dim, a.eps)
        self.gate = nn.Linear(a.dim, a.ffn, bias=False)
        self.up = nn.Linear(a.dim, a.ffn, bias=False)
        self.down = nn.Linear(a.ffn, a.dim, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.attn_norm(x)
        q = self.q(h).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.kv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = self.h // self.kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:  # torch 1.x (Debian's python3-torch)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
            s = s.masked_fill(~mask, float("-inf"))
            att = torch.softmax(s.float(), dim=-1).type_as(q) @ v
        x = x + self.o(att.transpose(1, 2).reshape(B, T, -1))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, a, vocab):
        super().__init__()
        self.a = a
        self.embed = nn.Embedding(vocab, a.dim)
        self.blocks = nn.ModuleList(Block(a) for _ in range(a.layers))
        self.norm = RMSNorm(a.dim, a.eps)
        hd = a.dim // a.heads
        self.register_buffer("inv_freq", a.rope_base ** (-torch.arange(0, hd, 2).float() / hd), persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = a.init_std
                if n.endswith("o.weight") or n.endswith("down.weight"):
                    std = a.init_std / math.sqrt(2 * a.layers)
                nn.init.normal_(p, 0.0, std)

    def forward(self, tok, doc, pos):
        ang = pos[:, None, :, None].float() * self.inv_freq  # (B,1,T,hd/2)
        cos, sin = ang.cos(), ang.sin()
        T = tok.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=tok.device).tril()
        mask = (doc[:, None, :, None] == doc[:, None, None, :]) & causal
        x = self.embed(tok)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return self.norm(x) @ self.embed.weight.t()


def gguf_tensors(m):
    """The weights under their GGUF names, F32, PyTorch (rows, cols) layout."""
    out = {"token_embd.weight": m.embed.weight, "output_norm.weight": m.norm.weight}
    for i, b in enumerate(m.blocks):
        p = f"blk.{i}."
        out.update({p + "attn_norm.weight": b.attn_norm.weight, p + "attn_q.weight": b.q.weight,
                    p + "attn_k.weight": b.k.weight, p + "attn_v.weight": b.v.weight,
                    p + "attn_output.weight": b.o.weight, p + "ffn_norm.weight": b.ffn_norm.weight,
                    p + "ffn_gate.weight": b.gate.weight, p + "ffn_up.weight": b.up.weight,
                    p + "ffn_down.weight": b.down.weight})
    return {k: v.detach().float().cpu().contiguous() for k, v in out.items()}


def save_safetensors(path, tensors, meta):
    header, off, blobs = {"__metadata__": meta}, 0, []
    for name in sorted(tensors):
        b = tensors[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def main():
    a = parse_args()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.data, "data.json")) as f:
        info = json.load(f)
    vocab = int(info["vocab_size"])
    train, val = Split(os.path.join(a.data, "train"), a.ctx), Split(os.path.join(a.data, "val"), a.ctx)
    dev = torch.device(a.device)
    model = Model(a, vocab).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95),
                            **({"fused": True} if dev.type == "cuda" else {}))
    step_fn = torch.compile(model) if a.compile and hasattr(torch, "compile") else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else torch.autocast("cpu", enabled=False)
    log = open(os.path.join(a.out, "log.jsonl"), "w")

    def emit(rec):
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()

    emit({"params": n_params, "vocab": vocab, "train_docs": len(train.starts), "train_dropped": train.dropped,
          "train_tokens": int(train.lens.sum()), "args": vars(a)})

    def batches(split, seed_rng):
        while True:
            arrs = [torch.from_numpy(x) for x in split.pack(seed_rng)]
            perm = torch.from_numpy(seed_rng.permutation(arrs[0].shape[0]))
            arrs = [x[perm] for x in arrs]
            for i in range(0, arrs[0].shape[0] - a.batch + 1, a.batch):
                yield [x[i:i + a.batch].to(dev, non_blocking=True) for x in arrs]

    def loss_of(m, b):
        tok, tgt, msk, doc, pos = b
        with autocast:
            logits = m(tok, doc, pos)
        ce = F.cross_entropy(logits.float().view(-1, vocab), tgt.reshape(-1), reduction="none")
        w = msk.reshape(-1).float()
        return (ce * w).sum() / w.sum().clamp(min=1)

    def evaluate():
        model.eval()
        vr = np.random.default_rng(0)
        tot, n = 0.0, 0
        with torch.no_grad():
            for i, b in enumerate(batches(val, vr)):
                if i >= 8:
                    break
                tot += loss_of(model, b).item()
                n += 1
        model.train()
        return tot / max(n, 1)

    it = batches(train, rng)
    t0 = time.time()
    def lr_at(step):
        """Warm-up, a constant rate, then a cosine decay to a tenth over the last fifth: the
        rate of the first 80% of the steps does not depend on --steps."""
        decay_from = 0.8 * a.steps
        f = min(1.0, step / a.warmup)
        if step > decay_from:
            f *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - decay_from) / (a.steps - decay_from)))
        return a.lr * f

    step = 0
    while step < a.steps:
        step += 1
        if a.time_budget and step == 101:
            per_step = (time.time() - t_warm) / 50
            a.steps = max(200, int((a.time_budget - (time.time() - t0)) / per_step / 100) * 100 + 100)
            emit({"steps": a.steps, "per_step_s": round(per_step, 4)})
        if step == 51:
            t_warm = time.time()
        lr = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        batch = next(it)
        try:
            loss = loss_of(step_fn, batch)
        except Exception as e:  # torch.compile unavailable here: the eager model computes the same
            if step_fn is model:
                raise
            emit({"compile_failed": repr(e)[:300]})
            step_fn = model
            loss = loss_of(step_fn, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == 1:
            emit({"step": step, "loss": round(loss.item(), 4), "lr": round(lr, 6), "s": round(time.time() - t0, 1)})
        if step % a.eval_every == 0 or step == a.steps:
            emit({"step": step, "val_loss": round(evaluate(), 4), "s": round(time.time() - t0, 1)})
    meta = {"arch": "llama", "name": a.name, "context_length": str(a.ctx), "head_count": str(a.heads),
            "head_count_kv": str(a.kv_heads), "rope_freq_base": repr(a.rope_base), "rms_norm_eps": repr(a.eps),
            "seed": str(a.seed), "steps": str(a.steps)}
    save_safetensors(os.path.join(a.out, "model.safetensors"), gguf_tensors(model), meta)
    if a.dump_logits:
        s, n = int(val.starts[0]), min(32, int(val.lens[0]))
        tok = torch.from_numpy(val.tokens[s:s + n]).view(1, n)
        cpu = model.float().cpu().eval()
        with torch.no_grad():
            logits = cpu(tok, torch.zeros_like(tok), torch.arange(n).view(1, n))[0]
        with open(a.dump_logits, "w") as f:
            json.dump({"tokens": tok[0].tolist(), "logits": logits.tolist()}, f)
    emit({"saved": os.path.join(a.out, "model.safetensors"), "s": round(time.time() - t0, 1)})


if __name__ == "__main__":
    main()
