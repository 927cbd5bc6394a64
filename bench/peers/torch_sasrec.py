#!/usr/bin/python3
"""SASRec+ peer (Kang & McAuley 2018, trained with full-softmax cross-entropy as in Klenitskiy &
Vasilev, RecSys 2023) under watchnext's `loo` protocol, for quality side-by-sides: does an
order-aware encoder find signal that the candidate generator misses (docs/results/sequence.md)?

Protocol (../shared/docs/protocol.md, `loo`, seen filtered): each user's events sorted by timestamp,
ties in file order; test target = last event, validation target = the one before; users with fewer
than 3 events are training data only. The catalog is every item in the events. Ranking scores
every catalog item, removes the items of the input history, and counts ties against the target.
`--check-mostpop` prints MostPop's test HR@10 / NDCG@10 under this code, to compare with
`watchnext baselines` on the same data (the split and metrics are then the project's).

Model: item embeddings (tied with the output layer) x sqrt(d) + learned positions, dropout,
`--blocks` pre-LN Transformer blocks (causal self-attention, a d -> d GELU feed-forward as in
SASRec), final layer norm. Training: every position of each user's training sequence (the last
`--maxlen`), full softmax over the catalog, Adam; one epoch = every training user once in a seeded
order; early stopping on validation NDCG@10 with `--patience` epochs, the best epoch's weights
scored on test.

Input: a MovieLens directory (u.data, ratings.dat or ratings.csv). Output: one JSON line with the
settings, best epoch, validation and test metrics and seconds.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/torch_sasrec.py \
           --data ../shared/data/ml-100k --seed 1 [--maxlen 200] [--time-cap 1800]
"""

import argparse
import csv
import json
import math
import os
import random
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="MovieLens directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--maxlen", type=int, default=200)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--heads", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=64, help="users per step")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--patience", type=int, default=10, help="epochs without a better valid NDCG@10")
    p.add_argument("--time-cap", type=float, default=0, help="stop training after this many seconds (0: none)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--check-mostpop", action="store_true")
    p.add_argument("--verbose", action="store_true", help="one line per epoch on stderr")
    return p.parse_args()


def read_events(data_dir):
    """(user, item, timestamp) rows in file order, from the release's own layout."""
    rows = []
    # ml-100k's u.data (tab) and ml-1m/10m's ratings.dat ("::"): user, item, rating, timestamp.
    for name, sep, encoding in (("u.data", "\t", "utf-8"), ("ratings.dat", "::", "latin-1")):
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding=encoding) as f:
            for n, line in enumerate(f, 1):
                parts = line.rstrip("\n").split(sep)
                if len(parts) != 4:
                    sys.exit(f"{path}:{n}: expected 4 {sep!r}-separated fields, got {len(parts)}")
                rows.append((parts[0], parts[1], int(parts[3])))
        return rows
    path = os.path.join(data_dir, "ratings.csv")
    if not os.path.exists(path):
        sys.exit(f"{data_dir}: no u.data, ratings.dat or ratings.csv")
    with open(path, newline="") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            try:
                rows.append((row["userId"], row["movieId"], int(row["timestamp"])))
            except (KeyError, ValueError) as e:
                sys.exit(f"{path}:{n}: bad row ({e}); expected userId,movieId,rating,timestamp")
    return rows


def loo_split(rows):
    """Per-user item sequences (1-based item ids; 0 = padding) and the loo targets."""
    item_index = {}
    by_user = {}
    for order, (u, i, ts) in enumerate(rows):
        if i not in item_index:
            item_index[i] = len(item_index) + 1
        by_user.setdefault(u, []).append((ts, order, item_index[i]))
    users = []
    for u, evs in by_user.items():
        evs.sort()  # timestamp, then file order: the protocol's stable sort
        seq = [e[2] for e in evs]
        if len(seq) >= 3:
            users.append((seq[:-2], seq[-2], seq[-1]))
        else:
            users.append((seq, None, None))
    return users, len(item_index)


def rank_metrics(scores, target):
    """HR@10, NDCG@10, HR@50, MRR for one target; ties count against it. scores: 1-D tensor with
    the history already set to -inf."""
    t = scores[target]
    if t == float("-inf"):  # target in the history: a miss under seen filtering
        return 0.0, 0.0, 0.0, 0.0
    rank = int((scores >= t).sum().item())  # includes the target itself
    hr10 = 1.0 if rank <= 10 else 0.0
    ndcg10 = 1.0 / math.log2(rank + 1) if rank <= 10 else 0.0
    hr50 = 1.0 if rank <= 50 else 0.0
    return hr10, ndcg10, hr50, 1.0 / rank


def main():
    args = parse_args()
    import torch
    import torch.nn as nn

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    users, n_items = loo_split(read_events(args.data))
    evaluated = [u for u in users if u[1] is not None]
    n_cat = n_items + 1  # index 0 = padding, never a target

    if args.check_mostpop:
        counts = torch.zeros(n_cat)
        for train, _, _ in users:
            for i in train:
                counts[i] += 1
        counts[0] = float("-inf")
        acc = [0.0, 0.0]
        for train, valid, test in evaluated:
            s = counts.clone()
            s[torch.tensor(train + [valid])] = float("-inf")
            m = rank_metrics(s, test)
            acc[0] += m[0]
            acc[1] += m[1]
        print(json.dumps({"mostpop": {"users": len(evaluated), "hr10": acc[0] / len(evaluated), "ndcg10": acc[1] / len(evaluated)}}))
        return

    L, d = args.maxlen, args.dim

    class SASRec(nn.Module):
        def __init__(self):
            super().__init__()
            self.items = nn.Embedding(n_cat, d, padding_idx=0)
            self.pos = nn.Embedding(L, d)
            self.drop = nn.Dropout(args.dropout)
            layer = nn.TransformerEncoderLayer(
                d, args.heads, dim_feedforward=d, dropout=args.dropout, activation="gelu",
                batch_first=True, norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(layer, args.blocks)
            self.norm = nn.LayerNorm(d)
            # The causal pattern and the diagonal are the same for every batch: built once.
            self.causal = torch.ones(L, L, dtype=torch.bool).tril().unsqueeze(0)
            self.diagonal = torch.eye(L, dtype=torch.bool).unsqueeze(0)
            # Xavier as in the SASRec reference code: torch's default N(0, 1) rows make the tied
            # output logits ~8 sd wide at the start and training stalls.
            for w in (self.items.weight, self.pos.weight):
                nn.init.xavier_normal_(w)
            with torch.no_grad():
                self.items.weight[0].zero_()

        def forward(self, seqs):
            """seqs: (B, L) left-padded item ids -> (B, L, d) outputs."""
            B = seqs.shape[0]
            x = self.items(seqs) * math.sqrt(d) + self.pos.weight.unsqueeze(0)
            x = self.drop(x)
            real = seqs > 0
            x = x * real.unsqueeze(-1)
            # Query i may attend to key j <= i that is a real event; a padding query attends to
            # itself only (its output is never used), so no row is fully masked.
            allowed = self.causal & (real.unsqueeze(1) | self.diagonal)
            mask = torch.zeros(B, L, L).masked_fill(~allowed, float("-inf"))
            mask = mask.repeat_interleave(args.heads, dim=0)
            return self.norm(self.encoder(x, mask=mask))

    def left_pad(seq):
        seq = seq[-L:]
        return [0] * (L - len(seq)) + seq

    model = SASRec()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    train_users = [u for u in users if len(u[0]) >= 2]  # a training pair needs two events

    def evaluate(split):
        model.eval()
        acc = [0.0, 0.0, 0.0, 0.0]
        with torch.no_grad():
            for b in range(0, len(evaluated), 256):
                chunk = evaluated[b : b + 256]
                hist = [u[0] if split == "valid" else u[0] + [u[1]] for u in chunk]
                out = model(torch.tensor([left_pad(h) for h in hist]))[:, -1, :]
                scores = out @ model.items.weight.T
                scores[:, 0] = float("-inf")
                for r, (h, u) in enumerate(zip(hist, chunk)):
                    s = scores[r]
                    s[torch.tensor(h)] = float("-inf")
                    m = rank_metrics(s, u[1] if split == "valid" else u[2])
                    for k in range(4):
                        acc[k] += m[k]
        n = len(evaluated)
        return {"hr10": acc[0] / n, "ndcg10": acc[1] / n, "hr50": acc[2] / n, "mrr": acc[3] / n}

    start = time.time()
    best, best_epoch, best_state, epochs_run = None, 0, None, 0
    ce = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = list(range(len(train_users)))
        random.shuffle(order)
        for b in range(0, len(order), args.batch):
            batch = [train_users[k][0] for k in order[b : b + args.batch]]
            inp = torch.tensor([left_pad(s[:-1]) for s in batch])
            tgt = torch.tensor([left_pad(s[1:]) for s in batch])
            out = model(inp)
            real = tgt > 0
            logits = out[real] @ model.items.weight.T
            logits[:, 0] = float("-inf")
            loss = ce(logits, tgt[real])
            opt.zero_grad()
            loss.backward()
            opt.step()
        epochs_run = epoch
        v = evaluate("valid")
        if args.verbose:
            print(f"epoch {epoch} loss {loss.item():.4f} valid {v}", file=sys.stderr)
        if best is None or v["ndcg10"] > best["ndcg10"]:
            best, best_epoch = v, epoch
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
        elif epoch - best_epoch >= args.patience:
            break
        if args.time_cap and time.time() - start > args.time_cap:
            break
    model.load_state_dict(best_state)
    test = evaluate("test")
    print(json.dumps({
        "model": "sasrec+", "data": args.data, "seed": args.seed,
        "settings": {k: v for k, v in vars(args).items() if k not in ("data", "seed", "check_mostpop")},
        "users": len(evaluated), "items": n_items, "bestEpoch": best_epoch, "epochsRun": epochs_run,
        "valid": best, "test": test, "seconds": round(time.time() - start, 1),
    }))


if __name__ == "__main__":
    main()
