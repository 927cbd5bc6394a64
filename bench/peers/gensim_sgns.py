"""gensim 4.2 skip-gram with negative sampling, the peer of bench/embed.ts.

Reads a corpus (one sentence per line, keys separated by single spaces), trains Word2Vec with the
settings given (sg=1, hs=0, min_count=1, alpha 0.025 decaying linearly), optionally writes the
vectors in word2vec's text format, and prints one JSON line: vocabulary build and training seconds
(timed separately: the benchmark compares training alone), corpus tokens and gensim's version.

  /usr/bin/python3 bench/peers/gensim_sgns.py --corpus F --dim 64 --window 5 --negatives 5 \
      --epochs 5 --sample 1e-3 --workers 1 --seed 1 [--out vectors.txt]
"""
import argparse
import json
import sys
import time

import gensim
from gensim.models import Word2Vec


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--negatives", type=int, required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--sample", type=float, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out")
    a = p.parse_args()
    with open(a.corpus, encoding="utf8") as f:
        sentences = [line.split(" ") for line in f.read().split("\n") if line != ""]
    tokens = sum(len(s) for s in sentences)
    t0 = time.perf_counter()
    model = Word2Vec(
        vector_size=a.dim, window=a.window, negative=a.negatives, hs=0, sg=1, sample=a.sample,
        min_count=1, workers=a.workers, seed=a.seed, epochs=a.epochs, alpha=0.025, min_alpha=0.0001,
    )
    model.build_vocab(sentences)
    t1 = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=a.epochs)
    t2 = time.perf_counter()
    if a.out:
        model.wv.save_word2vec_format(a.out)
    print(json.dumps({
        "version": gensim.__version__, "tokens": tokens, "vocab": len(model.wv),
        "vocabSeconds": t1 - t0, "trainSeconds": t2 - t1,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
