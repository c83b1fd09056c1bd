"""Give the committed trained/ files today's recipe key, keeping their weights, when a change to a module the key reads
(input checks, file safety, ...) provably leaves training as it was.

    .venv/bin/python tools/rekey_trained.py --base REV

On this machine it trains every model of `cache.TRAINED` (seed 42) twice, with the code of REV and with the working
tree's, one torch thread each, and compares weights and fastai's tables bit for bit. Only if all are identical does it
write today's `recipe_key` into the files in trained/, leaving everything else in them as it is; otherwise it names
the models that moved and exits 1: then the change did alter training, and `make models` must retrain them (on the
CPU the committed figures came from: see DEVELOPERS.md). This lets a machine of another CPU (whose training drifts
in the last digits) keep the committed weights when the code that trains them has not changed what it computes."""
import argparse, os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ("try: from humannums.cache import save_all_trained\n"  # since the zoo split; before it, in zoo
         "except ImportError: from humannums.zoo import save_all_trained\n"
         "save_all_trained({out!r}, jobs=0, progress=None)")

def train_all(src:Path, out:Path):
    "Train cache.TRAINED into `out` with the humannums package found in folder `src`"
    env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS='1')
    subprocess.run([sys.executable, '-c', TRAIN.format(out=str(out))], env=env, cwd=src, check=True)

def same(a, b) -> bool:
    "Whether two trained-model files, as (metadata, weights), hold the same weights (bit for bit) and the same table"
    (ma, wa), (mb, wb) = a, b
    bits = lambda t: t.contiguous().numpy().tobytes()
    return (wa.keys() == wb.keys() and ma['trained']['values'] == mb['trained']['values']
            and all(wa[k].dtype == wb[k].dtype and bits(wa[k]) == bits(wb[k]) for k in wa))

def _read_any(folder:Path, name:str):
    "(metadata, weights) of the trained file of `name` in `folder`: today's format, or the pickle of the format before it"
    from humannums.modelfile import read_model_file
    new = folder/f'{name}-seed42.safetensors'
    if new.exists(): return read_model_file(new)
    import torch
    data = torch.load(folder/f'{name}-seed42.pth', map_location='cpu', weights_only=True)
    return {'trained': {'values': data['values']}}, data['state_dict']

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--base', required=True, help='the commit whose code made the committed trained/ files')
    args = p.parse_args(argv)
    from humannums.cache import TRAINED, recipe_key, trained_path
    from humannums.modelfile import read_model_file, write_model_file
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(['git', 'worktree', 'add', '--detach', '-q', str(tmp/'base'), args.base], cwd=ROOT, check=True)
        try:
            train_all(tmp/'base', tmp/'old'); train_all(ROOT, tmp/'new')
        finally: subprocess.run(['git', 'worktree', 'remove', '--force', str(tmp/'base')], cwd=ROOT)
        # the base's files may be of an older format: compare what its trained/ files would hold, read by the base's own code
        moved = [n for n in TRAINED if not same(_read_any(tmp/'old', n), read_model_file(trained_path(tmp/'new', n)))]
    if moved:
        print(f"training changed for {', '.join(moved)}: retrain with `make models` (on the reference CPU); nothing re-keyed")
        return 1
    for n in TRAINED:
        f = trained_path(ROOT/'trained', n)
        meta, weights = read_model_file(f)
        old, meta['trained']['key'] = meta['trained']['key'], recipe_key(n)
        write_model_file(f, weights, **meta)
        print(f'{f.name}: identical training before and after; key {old} -> {meta["trained"]["key"]}')
    return 0

if __name__ == '__main__': sys.exit(main())
