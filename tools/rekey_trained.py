"""Give the committed trained/ files today's recipe key, keeping their weights, when a change to a module the key reads
(input checks, file safety, ...) provably leaves training as it was.

    .venv/bin/python tools/rekey_trained.py --base REV

On this machine it trains every model of `zoo.TRAINED` (seed 42) twice, with the code of REV and with the working
tree's, one torch thread each, and compares weights and fastai's tables bit for bit. Only if all are identical does it
write today's `recipe_key` into the files in trained/, leaving everything else in them as it is; otherwise it names
the models that moved and exits 1: then the change did alter training, and `make models` must retrain them (on the
CPU the committed figures came from: see DEVELOPERS.md). This lets a machine of another CPU (whose training drifts
in the last digits) keep the committed weights when the code that trains them has not changed what it computes."""
import argparse, io, os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN = "from humannums.zoo import save_all_trained; save_all_trained({out!r}, jobs=0, progress=None)"

def train_all(src:Path, out:Path):
    "Train zoo.TRAINED into `out` with the humannums package found in folder `src`"
    env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS='1')
    subprocess.run([sys.executable, '-c', TRAIN.format(out=str(out))], env=env, cwd=src, check=True)

def same(a:dict, b:dict) -> bool:
    "Whether two trained-model files hold the same weights (bit for bit) and the same table"
    import torch
    return (a['state_dict'].keys() == b['state_dict'].keys() and a['values'] == b['values']
            and all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict']))

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--base', required=True, help='the commit whose code made the committed trained/ files')
    args = p.parse_args(argv)
    import torch
    from humannums.zoo import TRAINED, recipe_key, trained_path
    from humannums.files import atomic_write_bytes
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(['git', 'worktree', 'add', '--detach', '-q', str(tmp/'base'), args.base], cwd=ROOT, check=True)
        try:
            train_all(tmp/'base', tmp/'old'); train_all(ROOT, tmp/'new')
        finally: subprocess.run(['git', 'worktree', 'remove', '--force', str(tmp/'base')], cwd=ROOT)
        load = lambda f: torch.load(f, map_location='cpu', weights_only=True)
        moved = [n for n in TRAINED if not same(load(trained_path(tmp/'old', n)), load(trained_path(tmp/'new', n)))]
    if moved:
        print(f"training changed for {', '.join(moved)}: retrain with `make models` (on the reference CPU); nothing re-keyed")
        return 1
    for n in TRAINED:
        f = trained_path(ROOT/'trained', n)
        data = load(f)
        old, data['key'] = data['key'], recipe_key(n)
        buf = io.BytesIO(); torch.save(data, buf); atomic_write_bytes(f, buf.getvalue())
        print(f'{f.name}: identical training before and after; key {old} -> {data["key"]}')
    return 0

if __name__ == '__main__': sys.exit(main())
