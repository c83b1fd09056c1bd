#!/usr/bin/env python
"""Where training time goes: each model through the project's fastai Learner path vs a bare PyTorch loop
doing the same math (same model, batches, optimizer, one-cycle schedule), plus the Python-loop RNN4 vs the
fused nn.RNN. Prints a table and writes JSON and Markdown. Medians over --reps repetitions.

    .venv/bin/python benchmarks/bench.py [--models rnn4 awd] [--reps 3] [--series] [--out benchmarks/results]

Each model is measured in a fresh Python process, so its peak memory (max RSS) is its own. `--series` also times
the whole notebook series (tools/run_nbs.py into a temporary folder: one notebook per core at a time, one torch
thread each, as `make test` runs them).

Time targets (TARGETS, seconds for one whole seed-42 training through the Learner path, median over --reps) are
checked for the models measured: the script prints each one and exits with an error after writing its results
if one is missed. They hold at one torch thread (`OMP_NUM_THREADS=1`, as the notebooks run) on 2 cores.
"""
import argparse, json, platform, resource, statistics, subprocess, sys, tempfile, time
from functools import partial
from pathlib import Path
import torch
from torch import nn
from fastai.optimizer import Adam
from fastcore.parallel import num_cpus
from fastai.callback.schedule import combined_cos
from fastai.torch_core import norm_bias_params
from humannums.data import load_nums
from humannums.learner import seed_all
from humannums.zoo import EXPERIMENTS, get_experiment
from humannums.multilayer import StackedLM

# a whole training of the recipe, in seconds (was an assert in 09_awd: no test asserts a wall-clock time)
TARGETS = {'awd': 120}

def bare_fit(exp, epochs, seed):
    "fastai's fit_one_cycle written out as a plain loop: fastai's Adam, the same schedules, resets and metrics"
    seed_all(seed)
    model = exp.make_model(len(load_nums()[1]))
    dls = exp.dls()
    regs = [cb for cb in (exp.cbs() if exp.cbs else []) if type(cb).__name__ == 'RNNRegularizer']
    alpha, beta = (regs[0].alpha, regs[0].beta) if regs else (0., 0.)
    fk = exp.fit_kwargs
    lr_max, moms = exp.lr, fk.get('moms', (0.95, 0.85, 0.95))
    opt = Adam(list(model.parameters()), lr=lr_max, wd=fk.get('wd', 0.01))
    for p in norm_bias_params(model, True): opt.state[p]['do_wd'] = False  # as Learner does (wd_bn_bias=False)
    lr_s, mom_s = combined_cos(0.25, lr_max/25, lr_max, lr_max/1e5), combined_cos(0.25, *moms)
    n_iter, total, it = len(dls.train), epochs * len(dls.train), 0
    reset = getattr(model, 'reset', lambda: None)
    accs = []
    for epoch in range(epochs):
        model.train(); reset()
        for x, y in dls.train:
            pct = it / total
            opt.set_hyper('lr', lr_s(pct)); opt.set_hyper('mom', mom_s(pct))
            out = model(x)
            if isinstance(out, tuple): out, raw, dropped = out
            loss = exp.loss_func(out, y)
            if alpha: loss = loss + alpha * dropped.float().pow(2).mean()
            if beta and raw.shape[1] > 1: loss = loss + beta * (raw[:, 1:] - raw[:, :-1]).float().pow(2).mean()
            loss.backward(); opt.step(); opt.zero_grad()
            it += 1
        model.eval(); reset()
        correct = n = 0
        with torch.no_grad():
            for x, y in dls.valid:
                out = model(x)
                if isinstance(out, tuple): out = out[0]
                correct += (out.argmax(-1) == y).sum().item(); n += y.numel()
        accs.append(correct / n)
    reset()
    return accs

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

def tokens_per_epoch(exp):
    dls = exp.dls()
    return sum(x.numel() for x, _ in dls.train)

def bench_model(name, reps):
    exp = get_experiment(name)
    ep = exp.epochs
    fa, ba, tr, acc_f, acc_b = [], [], [], None, None
    for r in range(reps):
        t, learn = timed(lambda: exp.train(seed=42, epochs=ep)); fa.append(t / ep); tr.append(learn.train_seconds)
        acc_f = float(learn.recorder.values[-1][-1])
        t, accs = timed(lambda: bare_fit(exp, ep, 42)); ba.append(t / ep)
        acc_b = accs[-1]
    f, b = statistics.median(fa), statistics.median(ba)
    return dict(model=name, epochs=ep, fastai_s_per_epoch=f, bare_s_per_epoch=b, ratio=f / b,
                fastai_tokens_per_s=tokens_per_epoch(exp) / f, fastai_acc=acc_f, bare_acc=acc_b,
                same_result=abs(acc_f - acc_b) < 1e-6, train_s=statistics.median(tr), target_s=TARGETS.get(name))

def loop_vs_fused(reps):
    "RNN4's Python loop against the same recurrence as one fused nn.RNN(nonlinearity='relu') call, forward+backward"
    from humannums.more_signal import RNN4, flat_ce
    x, y = get_experiment('rnn4').dls().one_batch()
    res, vocab_sz = {}, len(load_nums()[1])
    for name, m in (('python loop (RNN4)', RNN4(vocab_sz, 64)),
                    ('fused nn.RNN relu', StackedLM(vocab_sz, 64, 1, partial(nn.RNN, nonlinearity='relu')))):
        ts = []
        for _ in range(reps):
            m.reset(); t = time.perf_counter()
            for _ in range(50): flat_ce(m(x), y).backward()
            ts.append((time.perf_counter() - t) / 50)
        res[name] = statistics.median(ts) * 1e3
    return res

def _target(r):
    "' (target <= N s: ok|MISSED)' for a row with a time target, else ''"
    if r.get('target_s') is None: return ''
    return f" (target <= {r['target_s']} s: {'ok' if r['train_s'] <= r['target_s'] else 'MISSED'})"

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', nargs='+', default=['rnn1', 'rnn3', 'rnn4', 'lstm', 'awd', 'awd_gru', 'transformer_pointer'], choices=list(EXPERIMENTS))
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--out', type=Path, default=Path(__file__).parent/'results')
    p.add_argument('--series', action='store_true', help='also time the whole notebook series')
    p.add_argument('--one', help=argparse.SUPPRESS)  # internal: measure one model in this process, print JSON
    a = p.parse_args()
    if a.one:
        r = bench_model(a.one, a.reps)
        r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return print(json.dumps(r))
    rows = []
    for name in a.models:
        res = subprocess.run([sys.executable, __file__, '--one', name, '--reps', str(a.reps)], capture_output=True, text=True)
        if res.returncode: sys.exit(res.stderr)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{name:10s} fastai {r['fastai_s_per_epoch']:.3f}s/epoch  bare {r['bare_s_per_epoch']:.3f}s/epoch  "
              f"ratio {r['ratio']:.2f}  {r['fastai_tokens_per_s']:,.0f} tok/s  acc {r['fastai_acc']:.4f}/{r['bare_acc']:.4f}"
              f"  train {r['train_s']:.1f}s{_target(r)}", flush=True)
    lf = loop_vs_fused(a.reps)
    series, jobs = None, num_cpus()
    if a.series:
        root = Path(__file__).resolve().parent.parent
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            subprocess.run([sys.executable, str(root/'tools'/'run_nbs.py'), '--out', d, '--jobs', str(jobs)], check=True, capture_output=True)
            series = time.perf_counter() - t
        print(f'whole notebook series: {series:.0f}s')
    info = dict(threads=torch.get_num_threads(), torch=torch.__version__, python=platform.python_version(),
                machine=platform.machine(), reps=a.reps, series_seconds=series, series_jobs=jobs if series else None)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out/'bench.json').write_text(json.dumps(dict(info=info, models=rows, loop_vs_fused_ms=lf), indent=1))
    md = ['# Benchmarks', '', f"Written by `benchmarks/bench.py`. torch {info['torch']}, {info['threads']} threads, "
          f"Python {info['python']} on {info['machine']}; median of {a.reps} runs; each model in its own process.", '',
          '| model | epochs | fastai s/epoch | bare loop s/epoch | ratio | fastai tokens/s | accuracy fastai / bare | peak RSS MB |',
          '|---|---:|---:|---:|---:|---:|---|---:|']
    md += [f"| {r['model']} | {r['epochs']} | {r['fastai_s_per_epoch']:.3f} | {r['bare_s_per_epoch']:.3f} | {r['ratio']:.2f} | "
           f"{r['fastai_tokens_per_s']:,.0f} | {r['fastai_acc']:.4f} / {r['bare_acc']:.4f} | {r['peak_rss_mb']:.0f} |" for r in rows]
    if series: md += ['', f'Whole notebook series: {series:.0f} s ({jobs} notebooks at a time, one torch thread each, '
                          'as `make test` runs them).']
    targets = [r for r in rows if r.get('target_s') is not None]
    if targets:
        md += ['', '| model | whole training s | target s | |', '|---|---:|---:|---|']
        md += [f"| {r['model']} | {r['train_s']:.1f} | {r['target_s']} | {'ok' if r['train_s'] <= r['target_s'] else 'MISSED'} |" for r in targets]
    md += ['', '| recurrence, one batch forward+backward | ms |', '|---|---:|'] + [f'| {k} | {v:.2f} |' for k, v in lf.items()]
    (a.out/'bench.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    if missed := [f"{r['model']} {r['train_s']:.1f}s > {r['target_s']}s" for r in targets if r['train_s'] > r['target_s']]:
        sys.exit(f'time target missed: {", ".join(missed)}')

if __name__ == '__main__': main()
