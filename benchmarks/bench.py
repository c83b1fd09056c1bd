#!/usr/bin/env python
"""Where training time goes, and how the command line answers.

Training: each model is fitted five ways on the same data, model and one-cycle schedule, in one process, the
five one after another in an order that rotates from one repetition to the next (so none always runs first):
  - helper: the library's `Experiment.train` (fastai's Learner as `LeanLearner`, fastai's Adam);
  - learner: the plain fastai code the notebooks show, `Learner(...)` + `fit_one_cycle` (progress bar off);
  - pytorch: what a PyTorch user writes, `torch.optim.AdamW` + `OneCycleLR` in a plain loop (the yardstick);
  - bare: fastai's `fit_one_cycle` written out as a plain loop, fastai's own `Adam` (so it does the same math);
  - adamw: the helper with `opt_func` = torch's AdamW through fastai's `OptimWrapper` (a candidate, not adopted).
Each ratio is the median, over --reps repetitions, of a variant's fit time over the PyTorch loop's in the same
repetition; the spread (lowest-highest) is beside it. Times count the training loop or `fit_one_cycle` alone (the
data, model, optimizer or Learner are built, and the garbage collected, beforehand; the fastai variants' `fit_one_cycle` creates its optimizer). The fits are short (BENCH_EPOCHS, DEFAULT_BENCH_EPOCHS) so that the variants of one repetition
run seconds apart and the machine's drift cancels in their ratio; one untimed one-epoch fit of each variant comes
first (a process's first fit runs several times slower). The per-batch overhead is the median, over the repetitions, of
(variant - loop) / batches fitted.

Where the time goes: per batch, what each variant adds to the PyTorch loop; for one small model (rnn3), the time
spent in all of `Learner.__call__` (every event, per-fit and per-epoch ones included) over the batches of the second
of two one-epoch fits (fastai's `Learner` against the helper's `LeanLearner`), and the per-call cost of two of the
pieces `LeanLearner` replaces.

Command line: whole-process wall time of `humannums --help`, `predict` and `generate` on a model file, beside
`python -c "import torch"`: median of --cli-reps runs after one warm-up.

    .venv/bin/python benchmarks/bench.py [--models rnn4 awd] [--reps 4] [--jobs 2] [--series] [--out benchmarks/results]
    .venv/bin/python benchmarks/bench.py --render   # rewrite bench.md from bench.json (after editing the report's text)

Each model is measured in a fresh Python process with one torch thread (as the notebooks run), so its peak
memory (max RSS) is its own; --jobs runs that many of those processes at once (default 1: a second one on 2
cores adds its own noise to the first's times). `--series` also times the whole notebook series (tools/run_nbs.py into a temporary folder).

Time targets (TARGETS, seconds for one whole seed-42 training through the Learner path, median over --reps) are
checked for the models measured: the script prints each one and exits with an error after writing its results
if one is missed. They hold at one torch thread (`OMP_NUM_THREADS=1`, as the notebooks run) on 2 cores.
"""
import argparse, gc, json, os, platform, resource, shutil, statistics, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
import torch
from torch import nn
from fastai.optimizer import Adam
from fastcore.parallel import num_cpus
from fastai.callback.schedule import combined_cos
from fastai.torch_core import norm_bias_params
from fastai.optimizer import OptimWrapper
from fastai.learner import Learner
from fastai.metrics import accuracy
from fastai.callback.rnn import ModelResetter
from humannums.data import load_nums
from humannums.learner import seed_all, make_learner, epoch_metric
from humannums.zoo import EXPERIMENTS, get_experiment
from humannums.multilayer import StackedLM

# epochs per timed fit: short, so a repetition's variants run close together (one-cycle's cost per epoch is flat)
BENCH_EPOCHS = {'awd_gru': 3, 'transformer_pointer': 3}
DEFAULT_BENCH_EPOCHS = 5
GOAL_MODELS = ('rnn4', 'lstm', 'awd_gru', 'transformer_pointer')  # issue 18's goals name these
VARIANTS = ('helper', 'learner', 'pytorch', 'bare', 'adamw')

# a whole training of the recipe, in seconds (was an assert in 09_awd: no test asserts a wall-clock time)
TARGETS = {'awd': 120}

def _ar_tar(exp):
    "The AR and TAR weights (alpha, beta) of a recipe's RNNRegularizer, or (0, 0)"
    regs = [cb for cb in (exp.cbs() if exp.cbs else []) if type(cb).__name__ == 'RNNRegularizer']
    return (regs[0].alpha, regs[0].beta) if regs else (0., 0.)

def _loop(exp, model, dls, epochs, step):
    "A plain training loop: `step(loss)` after each batch's loss (with AR/TAR), then a validation pass per epoch: (seconds, accuracies)"
    alpha, beta = _ar_tar(exp)
    reset = getattr(model, 'reset', lambda: None)
    accs, start = [], time.perf_counter()
    for epoch in range(epochs):
        model.train(); reset()
        for x, y in dls.train:
            out = model(x)
            if isinstance(out, tuple): out, raw, dropped = out
            loss = exp.loss_func(out, y)
            if alpha: loss = loss + alpha * dropped.float().pow(2).mean()
            if beta and raw.shape[1] > 1: loss = loss + beta * (raw[:, 1:] - raw[:, :-1]).float().pow(2).mean()
            step(loss)
        model.eval(); reset()
        correct = n = 0
        with torch.no_grad():
            for x, y in dls.valid:
                out = model(x)
                if isinstance(out, tuple): out = out[0]
                correct += (out.argmax(-1) == y).sum().item(); n += y.numel()
        accs.append(correct / n)
    reset()
    return time.perf_counter() - start, accs

def bare_fit(exp, epochs, seed, dls):
    "fastai's fit_one_cycle written out as a plain loop: fastai's Adam, the same schedules, resets and metrics"
    seed_all(seed)
    model = exp.make_model(len(load_nums()[1]))
    fk = exp.fit_kwargs
    lr_max, moms = exp.lr, fk.get('moms', (0.95, 0.85, 0.95))
    opt = Adam(list(model.parameters()), lr=lr_max, wd=fk.get('wd', 0.01))
    for p in norm_bias_params(model, True): opt.state[p]['do_wd'] = False  # as Learner does (wd_bn_bias=False)
    lr_s, mom_s = combined_cos(0.25, lr_max/25, lr_max, lr_max/1e5), combined_cos(0.25, *moms)
    total, it = epochs * len(dls.train), [0]
    def step(loss):
        pct = it[0] / total
        opt.set_hyper('lr', lr_s(pct)); opt.set_hyper('mom', mom_s(pct))
        loss.backward(); opt.step(); opt.zero_grad()
        it[0] += 1
    return _loop(exp, model, dls, epochs, step)

def pytorch_fit(exp, epochs, seed, dls):
    "What a PyTorch user writes: torch.optim.AdamW and OneCycleLR (fastai's schedule and hyper-parameters), a plain loop"
    seed_all(seed)
    model = exp.make_model(len(load_nums()[1]))
    fk = exp.fit_kwargs
    moms = fk.get('moms', (0.95, 0.85, 0.95))
    no_wd = {id(p) for p in norm_bias_params(model, True)}  # fastai leaves biases and norms undecayed; so do we here
    groups = [dict(params=[p for p in model.parameters() if id(p) not in no_wd]),
              dict(params=[p for p in model.parameters() if id(p) in no_wd], weight_decay=0.)]
    opt = torch.optim.AdamW(groups, lr=exp.lr, betas=(moms[0], 0.99), eps=1e-5, weight_decay=fk.get('wd', 0.01))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=exp.lr, total_steps=epochs * len(dls.train), pct_start=0.25,
                                                div_factor=25., final_div_factor=1e5 / 25, base_momentum=moms[1], max_momentum=moms[0])
    def step(loss):
        loss.backward(); opt.step(); opt.zero_grad(); sched.step()
    return _loop(exp, model, dls, epochs, step)

def _cbs(exp):
    "The recipe's callbacks, with the ModelResetter a stateful model needs (as `make_learner` adds it)"
    cbs = list(exp.cbs() if exp.cbs else [])
    if exp.stateful and not any(isinstance(cb, ModelResetter) for cb in cbs): cbs.append(ModelResetter())
    return cbs

def learner_fit(exp, epochs, seed, dls):
    "The fastai code the notebooks show: Learner(dls, model, loss_func, metrics=accuracy, cbs) and fit_one_cycle (no progress bar)"
    seed_all(seed)
    learn = Learner(dls, exp.make_model(len(load_nums()[1])), loss_func=exp.loss_func, metrics=accuracy, cbs=_cbs(exp))
    with learn.no_bar(), learn.no_logging():
        start = time.perf_counter(); learn.fit_one_cycle(epochs, exp.lr, **exp.fit_kwargs); seconds = time.perf_counter() - start
    return seconds, epoch_metric(learn, 'accuracy')

def adamw_fit(exp, epochs, seed, dls):
    "The helper's LeanLearner with torch's AdamW as its optimizer, through fastai's OptimWrapper"
    seed_all(seed)
    learn = make_learner(exp.make_model(len(load_nums()[1])), dls, loss_func=exp.loss_func, stateful=exp.stateful,
                         cbs=exp.cbs() if exp.cbs else None, opt_func=partial(OptimWrapper, opt=torch.optim.AdamW))
    with learn.no_bar(), learn.no_logging():
        start = time.perf_counter(); learn.fit_one_cycle(epochs, exp.lr, **exp.fit_kwargs); seconds = time.perf_counter() - start
    return seconds, epoch_metric(learn, 'accuracy')

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

def tokens_per_epoch(exp):
    dls = exp.dls()
    return sum(x.numel() for x, _ in dls.train)

def bench_model(name, reps):
    "Fit `name` five ways per repetition (order rotating): median fit seconds per epoch, ratios to the PyTorch loop, accuracies"
    exp = get_experiment(name)
    ep = min(BENCH_EPOCHS.get(name, DEFAULT_BENCH_EPOCHS), exp.epochs)
    def helper(dls, ep=ep):  # the library's path: its own data (built inside `train`), timed by `train` around `fit` alone
        learn = exp.train(seed=42, epochs=ep)
        return learn.run_info.seconds, epoch_metric(learn, 'accuracy')
    def other(fit, dls, ep=ep): return fit(exp, ep, 42, dls)  # (seconds of the loop or `fit_one_cycle` alone, accuracies)
    runs = dict(helper=helper, learner=partial(other, learner_fit), pytorch=partial(other, pytorch_fit),
                bare=partial(other, bare_fit), adamw=partial(other, adamw_fit))
    for v in VARIANTS: runs[v](exp.dls(), ep=1)  # warm-up, untimed
    dls = exp.dls()
    batches = ep * (len(dls.train) + len(dls.valid))
    secs, accs = {v: [] for v in VARIANTS}, {}
    for r in range(reps):
        for v in VARIANTS[r % len(VARIANTS):] + VARIANTS[:r % len(VARIANTS)]:  # rotate which variant goes first
            dls = exp.dls(); gc.collect()  # each fit starts from a collected heap
            t, a = runs[v](dls)
            secs[v].append(t); accs[v] = a[-1]
    ratio = {v: [a / b for a, b in zip(secs[v], secs['pytorch'])] for v in VARIANTS if v != 'pytorch'}
    row = dict(model=name, epochs=ep, recipe_epochs=exp.epochs, reps=reps, tokens_per_epoch=tokens_per_epoch(exp),
               batches_per_fit=batches, s_per_epoch={v: statistics.median(secs[v]) / ep for v in VARIANTS},
               ms_per_batch_pytorch=statistics.median(secs['pytorch']) / batches * 1e3,
               overhead_ms_per_batch={v: statistics.median([(a - b) / batches * 1e3 for a, b in zip(secs[v], secs['pytorch'])])
                                      for v in VARIANTS if v != 'pytorch'},
               ratio_to_pytorch={v: statistics.median(x) for v, x in ratio.items()},
               ratio_range={v: (min(x), max(x)) for v, x in ratio.items()}, ratios=ratio,
               acc=accs, same_result=abs(accs['helper'] - accs['bare']) < 1e-6 and abs(accs['helper'] - accs['learner']) < 1e-6)
    row['train_s'] = row['s_per_epoch']['helper'] * exp.epochs  # a whole training of the recipe, estimated from s/epoch
    row['target_s'] = TARGETS.get(name)
    return row

def _best_us(f, n=2000, rounds=5):
    "Microseconds per call of `f()`: the best of `rounds` rounds of `n` calls"
    best = float('inf')
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n): f()
        best = min(best, (time.perf_counter() - t) / n * 1e6)
    return best

def where_time_goes(name='rnn3'):
    "Microseconds per batch in callback events (all of `Learner.__call__`) in a one-epoch fit, plain Learner and LeanLearner; two replaced pieces per call"
    import numpy as np
    from fastai.callback.schedule import ParamScheduler
    from humannums import lean as hl
    exp, spent = get_experiment(name), {}
    for kind, cls in (('learner', Learner), ('helper', hl.LeanLearner)):  # each defines its own __call__
        orig, tot, n = cls.__call__, [0.], [0]
        def timed(self, e, orig=orig, tot=tot, n=n):
            t = time.perf_counter(); orig(self, e); tot[0] += time.perf_counter() - t; n[0] += e == 'after_batch'
        for rep in range(2):  # the first fit is a warm-up
            tot[0] = n[0] = 0
            cls.__call__ = timed
            try: learner_fit(exp, 1, 42, exp.dls()) if kind == 'learner' else exp.train(seed=42, epochs=1)
            finally: cls.__call__ = orig
        spent[kind] = tot[0] / n[0] * 1e6
    args = (0.25, np.array([4e-4]), np.array([1e-2]), np.array([1e-7]))
    learn = make_learner(exp.make_model(len(load_nums()[1])), exp.dls(), loss_func=exp.loss_func, stateful=exp.stateful,
                         cbs=exp.cbs() if exp.cbs else None)
    learn.create_opt()  # what ParamScheduler sets; no training needed to time a call
    def before_batch_us(make):
        ps = ParamScheduler({'lr': make(*args), 'mom': make(0.25, 0.95, 0.85, 0.95)})
        learn.add_cb(ps); ps.before_fit(); learn.pct_train, learn.training = 0.3, True
        try: return _best_us(ps.before_batch)
        finally: learn.remove_cb(ps)
    x, y = exp.dls().one_batch()
    with torch.no_grad(): pred = learn.model(x)
    return dict(model=name, events_us_per_batch=spent,
                param_scheduler_us={'fastai': before_batch_us(combined_cos), 'helper': before_batch_us(hl._combined_cos)},
                accuracy_us={'fastai': _best_us(lambda: accuracy(pred, y)), 'helper': _best_us(lambda: hl._accuracy(pred, y))})

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

def cli_times(reps):
    "Whole-process wall seconds (median of `reps` after a warm-up) of the command line, beside `import torch`"
    exe = shutil.which('humannums', path=str(Path(sys.executable).parent)) or shutil.which('humannums')
    with tempfile.TemporaryDirectory() as d:
        model = Path(d)/'rnn4.safetensors'
        subprocess.run([exe, 'train', 'rnn4', '--epochs', '1', '--out', str(model)], check=True, capture_output=True)
        cmds = {'python -c "import torch"': [sys.executable, '-c', 'import torch'],
                'python -c "import fastai.torch_core"  (fastai\'s Module, the models\' base class)': [sys.executable, '-c', 'import fastai.torch_core'],
                'humannums --help': [exe, '--help'],
                'humannums predict (a usage error: --k 0)': [exe, 'predict', str(model), 'one', '--k', '0'],
                'humannums predict rnn4.safetensors "one thousand two hundred"': [exe, 'predict', str(model), 'one thousand two hundred'],
                'humannums generate rnn4.safetensors "one thousand two hundred ." --n 20': [exe, 'generate', str(model), 'one thousand two hundred .', '--n', '20']}
        times = {k: [] for k in cmds}
        for r in range(reps + 1):  # alternating, the first round a warm-up (disk cache)
            for k, cmd in cmds.items():
                t = time.perf_counter(); res = subprocess.run(cmd, capture_output=True); dt = time.perf_counter() - t
                if res.returncode != (2 if '--k' in cmd else 0): sys.exit(f'{k} exited with {res.returncode}: {res.stderr.decode()[-500:]}')
                if r: times[k].append(dt)
    return {k: statistics.median(v) for k, v in times.items()}

def _target(r):
    "' (target <= N s: ok|MISSED)' for a row with a time target, else ''"
    if r.get('target_s') is None: return ''
    return f" (target <= {r['target_s']} s: {'ok' if r['train_s'] <= r['target_s'] else 'MISSED'})"

def _measure(name, reps, what='--one'):
    "Benchmark `name` in a fresh process (one torch thread): its row, with its peak memory (`what='--where'`: where its time goes)"
    env = dict(os.environ, OMP_NUM_THREADS='1')
    res = subprocess.run([sys.executable, __file__, what, name, '--reps', str(reps)], capture_output=True, text=True, env=env)
    if res.returncode: sys.exit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])

GOALS = {'helper': 1.15, 'learner': 1.3}  # issue 18: medians on 2 cores, against the PyTorch loop

def write_report(data, out:Path):
    "Write `data` (what `bench.json` holds) as `out/bench.md`; return the targets missed"
    info, rows, where, cli, lf = data['info'], data['models'], data['where_time_goes'], data['cli_seconds'], data['loop_vs_fused_ms']
    series, jobs = info['series_seconds'], info['series_jobs']
    ratio, over = (lambda r, v: r['ratio_to_pytorch'][v]), (lambda r, v: r['overhead_ms_per_batch'][v])
    rng = lambda r, v: f"{ratio(r, v):.2f} ({r['ratio_range'][v][0]:.2f}-{r['ratio_range'][v][1]:.2f})"
    row = lambda name: next((r for r in rows if r['model'] == name), None)
    md = ['# Benchmarks', '',
          f"Written by `benchmarks/bench.py` in one run ({info['bench_seconds']/60:.0f} min): torch {info['torch']}, one torch thread per "
          f"process, {info['jobs']} such process{'es' if info['jobs'] > 1 else ''} at a time on {info['cores']} cores ({info['cpu']}), Python {info['python']}.", '',
          '## Training, against what a PyTorch user writes', '',
          f"Fit time relative to a plain PyTorch loop with `torch.optim.AdamW` and `OneCycleLR` (same model, data, schedule and "
          f"hyper-parameters): median over {info['reps']} repetitions of each variant's time over the loop's in the same repetition "
          "(lowest-highest in brackets). In each repetition the five variants run one after another in one process, the order "
          "shifted by one from the last repetition, after one untimed one-epoch fit of each. The fits are short (epochs: timed "
          "of the recipe's), so that a repetition's variants run close together; their accuracies are those of the short fits. "
          "The fastai variants' times include creating the optimizer and the `Recorder`'s training and validation losses, "
          "which the PyTorch loop doesn't compute. Peak RSS is the whole process's (all five variants). "
          f"Goals (issue 18): helper <= {GOALS['helper']}, plain `Learner` <= {GOALS['learner']}.", '',
          '| model | epochs | PyTorch loop s/epoch | helper (`train`) | plain fastai `Learner` | bare loop, fastai Adam | helper + AdamW (`OptimWrapper`) | accuracy helper / learner / bare / PyTorch / AdamW | peak RSS MB |',
          '|---|---:|---:|---:|---:|---:|---:|---|---:|']
    for r in rows:
        ac = r['acc']
        md.append(f"| {r['model']} | {r['epochs']} of {r['recipe_epochs']} | "
                  f"{r['s_per_epoch']['pytorch']:.3f} | {rng(r, 'helper')} | {rng(r, 'learner')} | {rng(r, 'bare')} | {rng(r, 'adamw')} | "
                  f"{ac['helper']:.4f} / {ac['learner']:.4f} / {ac['bare']:.4f} / {ac['pytorch']:.4f} / {ac['adamw']:.4f} | {r['peak_rss_mb']:.0f} |")
    def verdict(r, v):
        lo, hi = r['ratio_range'][v]
        near = ' (within the spread)' if lo <= GOALS[v] <= hi else ''
        return f"{r['model']} {ratio(r, v):.2f} {'ok' if ratio(r, v) <= GOALS[v] else 'MISSED'}{near}"
    if goal_rows := [r for r in rows if r['model'] in GOAL_MODELS]:
        md += ['', f"**Goals** for {', '.join(r['model'] for r in goal_rows)}:", '',
               f"- helper <= {GOALS['helper']}: " + '; '.join(verdict(r, 'helper') for r in goal_rows) + '.',
               f"- plain `Learner` <= {GOALS['learner']}: " + '; '.join(verdict(r, 'learner') for r in goal_rows) + '.']
    md += ['', 'The helper, the plain `Learner` and the bare loop give the same accuracy to the last digit ' +
           ('(every model above): they do the same arithmetic. ' if all(r['same_result'] for r in rows) else
            f"except: {', '.join(r['model'] for r in rows if not r['same_result'])}. ") +
           "The PyTorch loop and the AdamW candidate use other code for the optimizer (and the loop for the schedule), so their "
           "accuracies differ. The AdamW candidate is not adopted: its column is no faster than the helper's beyond the "
           "spread, and it would change every figure of the series."]
    md += ['', '## Where the time goes', '',
           "Per batch fitted (training and validation), the PyTorch loop's time and what each variant spends on top of it "
           "(median over the repetitions of each repetition's difference; values below zero are noise). The bare loop has "
           "fastai's Adam and schedules but no `Learner`, so the helper's figure minus the bare loop's is roughly what the "
           "`Learner` costs. That cost grows far less than a batch's arithmetic from one model to the next, so it weighs most "
           "where a batch's arithmetic is cheapest; on the largest models it is within the noise of a batch's time:", '',
           '| model | batches per epoch | PyTorch loop ms/batch | helper +ms/batch | plain `Learner` +ms/batch | bare loop +ms/batch |',
           '|---|---:|---:|---:|---:|---:|']
    md += [f"| {r['model']} | {r['batches_per_fit'] // r['epochs']} | {r['ms_per_batch_pytorch']:.2f} | {over(r, 'helper'):+.2f} | "
           f"{over(r, 'learner'):+.2f} | {over(r, 'bare'):+.2f} |" for r in rows]
    w, wr, r4 = where, row(where['model']), row('rnn4')
    ev = w['events_us_per_batch']
    md += ['', f"Inside a one-epoch fit of {w['model']} (the second of two, in a process of its own), all of `Learner.__call__` "
           f"(every event: the callbacks' work and fastai's dispatch) takes {ev['learner']:.0f} us per batch with fastai's `Learner` "
           f"and {ev['helper']:.0f} us with the helper's `LeanLearner`. Two of the pieces `LeanLearner` replaces run inside those "
           "events; per call (best of 5 rounds):", '',
           '| piece | fastai us | helper us |', '|---|---:|---:|',
           f"| `ParamScheduler.before_batch` (every training batch), fastai's `combined_cos` / `_combined_cos` | "
           f"{w['param_scheduler_us']['fastai']:.1f} | {w['param_scheduler_us']['helper']:.1f} |",
           f"| `accuracy` on one {w['model']} batch (every validation batch), fastai's / `_accuracy` | "
           f"{w['accuracy_us']['fastai']:.1f} | {w['accuracy_us']['helper']:.1f} |", '',
           f"They save {w['param_scheduler_us']['fastai'] - w['param_scheduler_us']['helper']:.0f} us on a training batch and "
           f"{w['accuracy_us']['fastai'] - w['accuracy_us']['helper']:.0f} us on a validation batch; the rest of the "
           f"{(ev['learner'] - ev['helper']) / 1e3:.2f} ms between the two is `LeanLearner`'s lighter dispatch."]
    if wr and r4:
        md += ['', f"**Why {wr['model']} pays more than rnn4.** Both train on about as many words an epoch "
               f"({wr['tokens_per_epoch']:,} and {r4['tokens_per_epoch']:,}), but {wr['model']}'s rows are 3 words long and rnn4's 16, so {wr['model']} takes {wr['batches_per_fit'] // wr['epochs']} batches an epoch to rnn4's "
               f"{r4['batches_per_fit'] // r4['epochs']}, and each of its batches is cheap: {wr['ms_per_batch_pytorch']:.2f} ms in the "
               f"PyTorch loop, to rnn4's {r4['ms_per_batch_pytorch']:.2f} ms. The helper adds {over(wr, 'helper'):.2f} ms to each "
               f"({over(wr, 'helper') / wr['ms_per_batch_pytorch']:.0%}; {over(wr, 'bare'):.2f} ms of it fastai's Adam and schedules, "
               f"as the bare loop shows), and {over(r4, 'helper'):.2f} ms to rnn4's ({over(r4, 'helper') / r4['ms_per_batch_pytorch']:.0%}). "
               f"A plain `Learner`'s events alone take {ev['learner'] / 1e3:.2f} ms of a {wr['model']} batch, "
               f"{'more' if ev['learner'] / 1e3 > wr['ms_per_batch_pytorch'] else 'less'} than the PyTorch loop's whole batch; "
               f"`LeanLearner`'s take {ev['helper'] / 1e3:.2f} ms. So {wr['model']}'s helper runs at "
               f"{ratio(wr, 'helper'):.2f}x the PyTorch loop and {wr['s_per_epoch']['helper'] / wr['s_per_epoch']['bare']:.2f}x the bare "
               f"loop, the plain `Learner` at {ratio(wr, 'learner'):.2f}x.",
               '', f"**Why rnn4 misses the goals.** Its bare loop runs at {ratio(r4, 'bare'):.2f}x the PyTorch loop, so the whole gap "
               f"is the `Learner`'s: {over(r4, 'helper'):+.2f} ms a batch for the helper, {over(r4, 'learner'):+.2f} ms for the plain "
               "`Learner`. What `LeanLearner` still runs at every batch is fastai's: the `Recorder` (smoothed loss, losses and "
               "metrics), `ParamScheduler`'s `set_hyper`, `CastToTensor` and the `Learner`'s own steps around the batch."]
    md += ['', '## The command line', '', f"Whole-process wall time, median of {info['cli_reps']} runs after a warm-up.", '',
           '| command | seconds |', '|---|---:|']
    for k, v in cli.items():
        cmd, _, note = k.partition('  (')
        md.append(f"| `{cmd}`{' (' + note if note else ''} | {v:.2f} |")
    by = lambda start: next((v for k, v in cli.items() if k.startswith(start)), None)
    tor, core, hlp, use = by('python -c "import torch"'), by('python -c "import fastai.torch_core"'), by('humannums --help'), by('humannums predict (')
    pred, gen = by('humannums predict rnn4'), by('humannums generate')
    if None not in (tor, core, hlp, use, pred, gen):
        md += ['', f"**Goals.** `--help` and a usage error under 0.5 s: {hlp:.2f} s and {use:.2f} s, "
               f"{'ok' if max(hlp, use) < 0.5 else 'MISSED'}. `predict` and `generate` within 0.5 s of `import torch` "
               f"({tor:.2f} s): {pred:.2f} s and {gen:.2f} s, {'ok' if max(pred, gen) <= tor + 0.5 else 'MISSED'} "
               f"(+{pred - tor:.2f} s and +{gen - tor:.2f} s). Loading a model imports fastai's core: the models subclass fastai's "
               "`Module`, which is defined in `fastai.torch_core`, and `humannums.data`, which the registry needs, builds fastai "
               f"`DataLoaders`. Importing `fastai.torch_core` alone takes {core:.2f} s, as long as `predict` within this run's "
               f"noise ({pred - core:+.2f} s): our modules, reading the file and running the model add little to it."]
    if series: md += ['', f'Whole notebook series: {series:.0f} s ({jobs} notebooks at a time, one torch thread each, '
                          'as `make notebooks` runs them).']
    targets = [r for r in rows if r.get('target_s') is not None]
    if targets:
        md += ['', "A whole training's time target, estimated as the helper's s/epoch above times the recipe's epochs:", '',
               '| model | whole training s (helper, estimated) | target s | |', '|---|---:|---:|---|']
        md += [f"| {r['model']} | {r['train_s']:.1f} | {r['target_s']} | {'ok' if r['train_s'] <= r['target_s'] else 'MISSED'} |" for r in targets]
    md += ['', "RNN4's recurrence as the Python loop of the notebooks, and as one fused `nn.RNN` call (what a faster RNN4, "
           "and a faster yardstick, would use), one batch forward and backward:", '',
           '| recurrence, one batch forward+backward | ms |', '|---|---:|'] + [f'| {k} | {v:.2f} |' for k, v in lf.items()]
    md += reproduce_section(out)
    (out/'bench.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    return [f"{r['model']} {r['train_s']:.1f}s > {r['target_s']}s" for r in targets if r['train_s'] > r['target_s']]

def reproduce_section(out:Path) -> list[str]:
    "The wall time of `make reproduce` before and after it trained each model once (`reproduce.json`, measured by hand: see its `how`), as Markdown lines"
    f = out/'reproduce.json'
    if not f.exists(): return []
    r = json.loads(f.read_text())
    b, a = r['before'], r['after']
    row = lambda name, t: f"| {name} | {t['reproduce']:.0f} | {t['models']:.0f} | {t['counting']:.0f} | {t['total']:.0f} ({t['total'] / 60:.1f} min) |"
    return ['', '## `make reproduce`: every model trained once', '',
            f"{r['how']} Machine: {r['machine']}.", '',
            '| code | reproduce s | models s | counting s | total s |', '|---|---:|---:|---:|---:|',
            row(f"before ({r['before_rev']}): counting trains the 60 language-model runs again", b),
            row("after: counting scores the models reproduce kept in `runs/`", a), '',
            f"**Goal** at least 35% less time: {1 - a['total'] / b['total']:.0%} less, {'ok' if a['total'] <= 0.65 * b['total'] else 'MISSED'}."]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', nargs='+', default=['rnn1', 'rnn3', 'rnn4', 'lstm', 'awd', 'awd_gru', 'transformer_pointer'], choices=list(EXPERIMENTS))
    p.add_argument('--reps', type=int, default=7)
    p.add_argument('--cli-reps', type=int, default=5)
    p.add_argument('--jobs', type=int, default=1, help='models measured at a time, each in its own one-thread process')
    p.add_argument('--out', type=Path, default=Path(__file__).parent/'results')
    p.add_argument('--series', action='store_true', help='also time the whole notebook series')
    p.add_argument('--one', help=argparse.SUPPRESS)  # internal: measure one model in this process, print JSON
    p.add_argument('--where', help=argparse.SUPPRESS)  # internal: where one model's time goes, in this process, print JSON
    p.add_argument('--render', action='store_true', help="rewrite OUT/bench.md from OUT/bench.json (a run's figures), measuring nothing")
    a = p.parse_args()
    if a.render: return write_report(json.loads((a.out/'bench.json').read_text()), a.out) and None
    if a.where:
        torch.set_num_threads(1)
        return print(json.dumps(where_time_goes(a.where)))
    if a.one:
        torch.set_num_threads(1)
        r = bench_model(a.one, a.reps)
        r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return print(json.dumps(r))
    torch.set_num_threads(1)  # this process times the recurrence table, at one thread like the others
    t0 = time.perf_counter()
    with ThreadPoolExecutor(a.jobs) as pool:  # the costly models first, so that none is left running alone at the end
        order = [n for n in a.models if n in BENCH_EPOCHS] + [n for n in reversed(a.models) if n not in BENCH_EPOCHS]
        done = dict(zip(order, pool.map(lambda n: _measure(n, a.reps), order)))
    rows = [done[n] for n in a.models]
    for r in rows:
        q = r['ratio_to_pytorch']
        print(f"{r['model']:20s} pytorch {r['s_per_epoch']['pytorch']:.3f}s/epoch  helper x{q['helper']:.2f}  learner x{q['learner']:.2f}  "
              f"bare x{q['bare']:.2f}  adamw x{q['adamw']:.2f}{_target(r)}", flush=True)
    where = _measure('rnn3', a.reps, '--where')
    cli = cli_times(a.cli_reps)
    for k, v in cli.items(): print(f'{k:60s} {v:.2f}s')
    series, jobs = None, num_cpus()
    if a.series:
        root = Path(__file__).resolve().parent.parent
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            subprocess.run([sys.executable, str(root/'tools'/'run_nbs.py'), '--out', d, '--jobs', str(jobs)], check=True, capture_output=True)
            series = time.perf_counter() - t
        print(f'whole notebook series: {series:.0f}s')
    lf = loop_vs_fused(a.reps)
    info = dict(threads=torch.get_num_threads(), torch=torch.__version__, python=platform.python_version(), machine=platform.machine(),
                cpu=next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), None)
                    if Path('/proc/cpuinfo').exists() else None,
                cores=num_cpus(), reps=a.reps, jobs=a.jobs, cli_reps=a.cli_reps, series_seconds=series,
                series_jobs=jobs if series else None, bench_seconds=time.perf_counter() - t0)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out/'bench.json').write_text(json.dumps(dict(info=info, models=rows, where_time_goes=where, cli_seconds=cli,
                                                    loop_vs_fused_ms=lf), indent=1))
    if missed := write_report(json.loads((a.out/'bench.json').read_text()), a.out):
        sys.exit(f'time target missed: {", ".join(missed)}')


if __name__ == '__main__': main()
