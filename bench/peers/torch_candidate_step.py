#!/usr/bin/python3
"""PyTorch peer of the candidate-generator training benchmark (bench/): the same network and step
as watchnext's, timed in examples per second, so the engine's speed can be read against PyTorch.

Configuration (the paper's candidate tower at benchmark size): 20,000 items; batch 512; a bag of
<= 50 (mean 30) watched items embedded in 64-d and averaged (EmbeddingBag, mean); 4 demographic
embeddings of 8-d; the example age; concatenated (97) -> 1024 -> 512 -> 256 ReLU = user vector;
256-d item output embeddings; sampled softmax over 2,000 negatives shared by the batch, drawn from
unigram^0.75, with logQ correction and accidental-hit masking; Adam, lr 1e-3.

A timed step = negative sampling + forward + backward + optimizer update. Synthetic batches are
generated before timing and cycled. Threads: torch intra-op threads from --torch-threads; OpenBLAS
threads from the OPENBLAS_NUM_THREADS environment variable, which the caller sets.

Prints one JSON line: {"examples_per_s", "torch_threads", "openblas_threads", ...}. When torch
cannot be imported it prints {"examples_per_s": null, "skipped": "<why>"} and exits 0.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/torch_candidate_step.py \
           --steps 30 --warmup 5 --torch-threads 1
"""

import argparse
import json
import os
import sys
import time

NUM_ITEMS = 20_000
BATCH = 512
BAG_MIN, BAG_MAX = 10, 50  # uniform lengths: mean 30, at most 50
ITEM_DIM = 64
DEMOGRAPHICS = (3, 8, 21, 100)  # vocabulary sizes (gender, age bucket, occupation, region)
DEMO_DIM = 8
TOWER = (1024, 512, 256)
NUM_NEG = 2_000
SAMPLING_ALPHA = 0.75
LR = 1e-3
DATA_BATCHES = 8


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument(
        "--sparse",
        choices=("auto", "yes", "no"),
        default="auto",
        help="sparse embedding gradients with SparseAdam (auto = yes: measured 1.6x faster than dense)",
    )
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def loaded_blas():
    """Which BLAS library the process mapped (torch's GEMMs go through it)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            names = {line.split()[-1] for line in maps if "blas" in line}
    except OSError:
        return "unknown"
    return ",".join(sorted(os.path.basename(os.path.dirname(n)) + "/" + os.path.basename(n) for n in names))


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except Exception as error:  # ImportError or a broken install: report why, do not fail the bench
        print(json.dumps({"examples_per_s": None, "skipped": f"torch not importable: {error}"}))
        return 0

    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    sparse = args.sparse != "no"

    # Synthetic data: Zipf-like item popularity; bags, labels, demographics, example age.
    popularity = 1.0 / torch.arange(1, NUM_ITEMS + 1, dtype=torch.float64) ** 1.1
    popularity /= popularity.sum()
    batches = []
    for _ in range(DATA_BATCHES):
        lengths = torch.randint(BAG_MIN, BAG_MAX + 1, (BATCH,))
        offsets = torch.zeros(BATCH, dtype=torch.long)
        offsets[1:] = torch.cumsum(lengths, 0)[:-1]
        bag = torch.multinomial(popularity, int(lengths.sum()), replacement=True)
        labels = torch.multinomial(popularity, BATCH, replacement=True)
        demo = torch.stack([torch.randint(0, n, (BATCH,)) for n in DEMOGRAPHICS], 1)
        age = torch.rand(BATCH, 1)
        batches.append((bag, offsets, labels, demo, age))
    proposal = popularity ** SAMPLING_ALPHA
    proposal /= proposal.sum()
    log_q = torch.log(proposal).float()

    # Network.
    history = torch.nn.EmbeddingBag(NUM_ITEMS, ITEM_DIM, mode="mean", sparse=sparse)
    demo_tables = torch.nn.ModuleList(torch.nn.Embedding(n, DEMO_DIM, sparse=sparse) for n in DEMOGRAPHICS)
    widths = (ITEM_DIM + DEMO_DIM * len(DEMOGRAPHICS) + 1,) + TOWER
    tower = torch.nn.Sequential(
        *[m for i in range(len(TOWER)) for m in (torch.nn.Linear(widths[i], widths[i + 1]), torch.nn.ReLU())]
    )
    output = torch.nn.Embedding(NUM_ITEMS, TOWER[-1], sparse=sparse)
    torch.nn.init.normal_(output.weight, std=TOWER[-1] ** -0.5)
    embeddings = [history.weight, output.weight] + [t.weight for t in demo_tables]
    if sparse:
        optimizers = [torch.optim.Adam(tower.parameters(), lr=LR), torch.optim.SparseAdam(embeddings, lr=LR)]
    else:
        optimizers = [torch.optim.Adam(list(tower.parameters()) + embeddings, lr=LR)]

    def step(i):
        bag, offsets, labels, demo, age = batches[i % DATA_BATCHES]
        neg = torch.multinomial(proposal, NUM_NEG, replacement=True)
        x = torch.cat([history(bag, offsets)] + [t(demo[:, j]) for j, t in enumerate(demo_tables)] + [age], 1)
        user = tower(x)
        true_logit = (user * output(labels)).sum(1, keepdim=True) - log_q[labels].unsqueeze(1)
        neg_logits = user @ output(neg).t() - log_q[neg]
        neg_logits = neg_logits.masked_fill(neg.unsqueeze(0) == labels.unsqueeze(1), float("-inf"))
        logits = torch.cat([true_logit, neg_logits], 1)
        loss = F.cross_entropy(logits, torch.zeros(BATCH, dtype=torch.long))
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in optimizers:
            opt.step()
        return loss.item()

    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    loss = float("nan")
    for i in range(args.steps):
        loss = step(args.warmup + i)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "examples_per_s": round(args.steps * BATCH / seconds, 1),
                "torch_threads": torch.get_num_threads(),
                "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                "steps": args.steps,
                "warmup": args.warmup,
                "batch": BATCH,
                "seconds": round(seconds, 3),
                "sparse_grads": sparse,
                "final_loss": round(loss, 4),
                "torch_version": torch.__version__,
                "blas": loaded_blas(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
