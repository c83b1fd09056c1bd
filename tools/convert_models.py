"""Convert the repository's model files of humannums' old format (pickles, `.pth`) into today's (`.safetensors`, `18_modelfile`),
proving each one's weights and table unchanged, then remove the old file.

    .venv/bin/python tools/convert_models.py trained counting

Every tensor is compared bit for bit with the pickle's (`modelfile.convert_model_file` reads the new file back), and a trained
model's table, seed, seconds and recipe key are compared field by field; a file that differs in anything is left
where it was and the tool exits 1. A try of `13a_counting` (a bare state dict) becomes a model file named after it.
"""
import sys
from pathlib import Path
import torch
from humannums.inference import MODEL_NAMES
from humannums.modelfile import read_model_file, write_model_file, read_old_model_file, convert_model_file, MODEL_SUFFIX
from humannums.cache import model_vocab
from humannums.data import load_nums

def same_bits(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.contiguous().numpy().tobytes() == b.contiguous().numpy().tobytes()

def convert_try(old: Path) -> Path:
    "A bare state dict of a counting try (`save_try` before version 2) as a model file named after the try"
    state = torch.load(old, map_location='cpu', weights_only=True)
    name, seed = old.stem.rsplit('-seed', 1)
    new = write_model_file(old.with_suffix(MODEL_SUFFIX), state, name=name, vocab=list(load_nums()[1]), metrics={'seed': int(seed)})
    got = read_model_file(new)[1]
    assert got.keys() == state.keys() and all(same_bits(got[k], v) for k, v in state.items()), old
    return new

def main(folders) -> int:
    bad = 0
    for old in sorted(f for d in folders for f in Path(d).glob('*.pth')):
        try:
            try: data = read_old_model_file(old)
            except ValueError: data = None  # not a model file of the old format: a try's state dict?
            if data is None: new = convert_try(old)
            else:
                new = convert_model_file(old, names=MODEL_NAMES, vocab_of=model_vocab)
                meta, weights = read_model_file(new)
                if data['format'] == 'humannums-trained':
                    t = meta['trained']
                    assert [t['key'], t['seed'], t['seconds'], t['metric_names'], t['values']] == \
                           [data['key'], data['seed'], data['seconds'], list(data['metric_names']), data['values']], old
                assert all(same_bits(weights[k], v) for k, v in data['state_dict'].items()), old
        except Exception as e:
            print(f'{old}: NOT converted ({e})'); bad += 1; continue
        old.unlink()
        print(f'{old} -> {new}: {len(weights if data else read_model_file(new)[1])} tensors, bit for bit; old file removed')
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:] or ['trained', 'counting']))
