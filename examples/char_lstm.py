"""Character-level LSTM language model (Embedding -> LSTM -> Dense) on a text that ships with
Python: the source of the standard library's ``textwrap`` module (the Zen of Python if the
sources are not installed).

Truncated backpropagation through time over ``--batch-size`` parallel streams of the text, Adam,
gradient clipping with ``gluon.utils.clip_global_norm``, perplexity per epoch, and a sample at the
end.

    python examples/char_lstm.py --epochs 3 --hybridize
    python examples/char_lstm.py --epochs 1 --steps 20      # quick check (CI)
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import inspect
import io
import math
import time
from typing import Any

import numpy
from tqdm import tqdm

import framework as mx
from framework import autograd, gluon, init, np, npx
from framework.gluon import nn, rnn


def load_text() -> str:
    """A text every Python installation has."""
    try:
        import textwrap

        return inspect.getsource(textwrap)
    except (OSError, TypeError):  # stdlib installed without its sources
        with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
            import this
        return codecs.decode(this.s, "rot13")


class CharLM(gluon.HybridBlock):
    """Embedding -> LSTM (layout NTC) -> Dense over every step."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int,
                 dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = rnn.LSTM(hidden, num_layers=layers, layout="NTC", dropout=dropout)
        self.decoder = nn.Dense(vocab, flatten=False)

    def forward(self, x: Any, states: Any) -> Any:
        out, states = self.lstm(self.embedding(x), states)
        return self.decoder(out), states

    def begin_state(self, batch_size: int, **kwargs: Any) -> list[Any]:
        return self.lstm.begin_state(batch_size, **kwargs)


def batchify(ids: numpy.ndarray, batch_size: int) -> numpy.ndarray:
    """The text cut into ``batch_size`` parallel streams: shape (batch_size, length)."""
    n = len(ids) // batch_size
    return ids[:n * batch_size].reshape(batch_size, n)


def sample(net: CharLM, chars: list[str], index: dict[str, int], prefix: str, length: int,
           temperature: float = 0.8, seed: int = 0) -> str:
    """Continue ``prefix`` by ``length`` characters drawn from the model."""
    rng = numpy.random.default_rng(seed)
    states = net.begin_state(1)
    out = list(prefix)
    logits = None
    for ch in prefix:
        logits, states = net(np.array([[index.get(ch, 0)]], dtype="int32"), states)
    for _ in range(length):
        assert logits is not None
        z = logits.asnumpy().reshape(-1).astype("float64") / temperature
        p = numpy.exp(z - z.max())
        nxt = int(rng.choice(len(chars), p=p / p.sum()))
        out.append(chars[nxt])
        logits, states = net(np.array([[nxt]], dtype="int32"), states)
    return "".join(out)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0,
                        help="at most this many steps per epoch (0: the whole text)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=35)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embed", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--clip", type=float, default=1.0, help="max global gradient norm")
    parser.add_argument("--sample-len", type=int, default=200)
    parser.add_argument("--hybridize", action="store_true")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = parser.parse_args(argv)

    npx.set_np()
    mx.np.random.seed(0)
    text = load_text()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = numpy.array([index[c] for c in text], dtype="int32")
    streams = batchify(ids, args.batch_size)
    print(f"text: {len(text)} characters, vocabulary {len(chars)}, "
          f"{streams.shape[1] // args.seq_len} steps per epoch")

    net = CharLM(len(chars), args.embed, args.hidden, args.layers, args.dropout)
    net.initialize(init.Xavier())
    if args.hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": args.lr})
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]

    ppl = float("inf")
    for epoch in range(args.epochs):
        start = time.perf_counter()
        states = net.begin_state(args.batch_size)
        offsets = range(0, streams.shape[1] - 1 - args.seq_len + 1, args.seq_len)
        if args.steps:
            offsets = offsets[:args.steps]
        total, count = 0.0, 0
        bar = tqdm(offsets, desc=f"epoch {epoch + 1}", leave=False, disable=args.no_progress)
        for i in bar:
            x = np.array(streams[:, i:i + args.seq_len])
            y = np.array(streams[:, i + 1:i + 1 + args.seq_len])
            states = [s.detach() for s in states]  # truncated BPTT
            with autograd.record():
                logits, states = net(x, states)
                loss = loss_fn(logits, y).mean()
            loss.backward()
            gluon.utils.clip_global_norm([p.grad() for p in params], args.clip)
            trainer.step(1)
            total += float(loss)
            count += 1
            bar.set_postfix(ppl=f"{math.exp(total / count):.2f}")
        ppl = math.exp(total / max(count, 1))
        print(f"epoch {epoch + 1}: perplexity {ppl:.2f}, {count} steps, "
              f"{time.perf_counter() - start:.1f} s")
    print("sample:")
    print(sample(net, chars, index, "def ", args.sample_len))
    return ppl


if __name__ == "__main__":
    main()
