#!/usr/bin/env python
"""Execute the notebook series, saving executed copies with their outputs to --out.

Notebooks run --jobs at a time (default: one per core), each in a worker process with one torch thread:
the models are small enough that a second thread barely helps one notebook, while a second notebook beside
it uses the other core fully. One thread also keeps the arithmetic, and so every figure, the same on
machines with any number of cores. `make test` runs `nbdev_test` the same way."""
import argparse, os, sys, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from fastcore.parallel import num_cpus  # the cores this process may use

def run_one(f:Path, out:Path):
    "Execute notebook `f` in its own folder, write the executed copy into `out`; (name, seconds, error or None)"
    from execnb.shell import CaptureShell
    t = time.time()
    os.chdir(f.parent)
    sh = CaptureShell(f)
    # skip each notebook's final `nbdev_export()`, as nbdev_test does: notebooks running side by side would
    # rewrite the modules under each other's imports (`make export` exports them)
    try: sh.execute(f, out/f.name, exc_stop=True, preproc=lambda c: c.cell_type == 'code' and 'nbdev_export(' in c.source)
    except Exception as e: return f.name, time.time() - t, f'{sh.prettytb(fname=f)}\n{f.name} failed: {e}'
    return f.name, time.time() - t, None

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='reproduce/notebooks', help='folder for the executed notebooks (default: reproduce/notebooks)')
    p.add_argument('--jobs', type=int, default=num_cpus(), help='notebooks at a time (default: one per core)')
    p.add_argument('nbs', nargs='*', help='notebooks to run (default: every nbs/*.ipynb but index)')
    a = p.parse_args()
    if a.jobs < 1: p.error(f'--jobs must be at least 1, got {a.jobs}')
    root = Path(__file__).resolve().parent.parent
    nbs = [Path(o).resolve() for o in a.nbs] or sorted(f for f in (root/'nbs').glob('[0-9]*.ipynb'))
    if missing := [str(f) for f in nbs if not f.is_file()]: p.error(f'no such notebook: {", ".join(missing)}')
    out = Path(a.out).resolve(); out.mkdir(parents=True, exist_ok=True)
    os.environ['OMP_NUM_THREADS'] = '1'  # read by torch when each worker imports it
    total, failed = time.time(), []
    # longest first (the numbering is roughly the order of cost), so no long notebook starts last
    order = sorted(nbs, key=lambda f: f.name, reverse=a.jobs > 1)
    import run_nbs  # this file as a module: the workers must find `run_one` after IPython has replaced `__main__`
    with ProcessPoolExecutor(a.jobs) as ex:
        for fut in as_completed([ex.submit(run_nbs.run_one, f, out) for f in order]):
            name, secs, err = fut.result()
            if err: failed.append(name); print(err, file=sys.stderr)
            print(f'{name:28s} {secs:6.1f}s{"  FAILED" if err else ""}', flush=True)
    print(f'{"all notebooks":28s} {time.time()-total:6.1f}s with {a.jobs} at a time; executed copies in {out}')
    if failed: sys.exit(f'failed: {", ".join(sorted(failed))}')

if __name__ == '__main__': main()
