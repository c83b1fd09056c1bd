#!/usr/bin/env python
"Execute the notebook series in order (the main job), saving executed copies with their outputs to --out."
import argparse, os, sys, time
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--out', default='reproduce', help='folder for the executed notebooks (default: reproduce)')
    p.add_argument('nbs', nargs='*', help='notebooks to run (default: every nbs/*.ipynb but index)')
    a = p.parse_args()
    from execnb.shell import CaptureShell
    root = Path(__file__).resolve().parent.parent
    nbs = [Path(o).resolve() for o in a.nbs] or sorted(f for f in (root/'nbs').glob('[0-9]*.ipynb'))
    out = Path(a.out).resolve(); out.mkdir(parents=True, exist_ok=True)
    total = time.time()
    for f in nbs:
        t = time.time()
        os.chdir(f.parent)
        sh = CaptureShell(f)
        try: sh.execute(f, out/f.name, exc_stop=True)
        except Exception as e:
            print(sh.prettytb(fname=f), file=sys.stderr)
            sys.exit(f'{f.name} failed: {e}')
        print(f'{f.name:28s} {time.time()-t:6.1f}s', flush=True)
    print(f'{"all notebooks":28s} {time.time()-total:6.1f}s; executed copies in {out}')

if __name__ == '__main__': main()
