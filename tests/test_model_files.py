"""Model files that can't attack their reader (issue #34, round three): the old pickle format's worst files are refused
by their first bytes, today's format (safetensors, `18_modelfile`) bounds every part before reading it, a damaged or
overflowing model is refused, and every call owns its recurrent state, so one `TrainedModel` may be shared by threads.
Crafted files live in temporary folders; every case ends with the right result or a clear message and no traceback."""
import copy, hashlib, json
from concurrent.futures import ThreadPoolExecutor
import pytest
from conftest import ROOT, hn, clean, hn_bounded

def old_pickle(path, **changes):
    "A model file of the old format (torch.save's pickle) with `changes` to its fields"
    import torch
    from humannums.cache import new_model, model_vocab
    data = dict(format='humannums-model', version=1, name='rnn2', vocab=model_vocab('rnn2'), metrics={},
                state_dict=new_model('rnn2').state_dict())
    torch.save({**data, **changes}, path)
    return path

def craft(path, weights, raw=None, **fields):
    "A safetensors file with metadata `fields` (each JSON-encoded) and `raw` (strings as given), and a valid checksum"
    from safetensors.torch import save
    fields = {'format': 'humannums-model', 'version': '2', **{k: json.dumps(v) for k, v in fields.items()}, **(raw or {})}
    body = save(weights, metadata=fields)
    n = int.from_bytes(body[:8], 'little')
    path.write_bytes(save(weights, metadata={**fields, 'sha256': hashlib.sha256(body[8 + n:]).hexdigest()}))
    return path

# --- the old format's attacks: refused by the first bytes, before anything is unpickled ---------------------------

def shared_sublists():
    "A value that pickles to a few KB and prints as 10^12 items: one sub-list reused at every level"
    v = ['x'] * 10
    for _ in range(11): v = [v] * 10
    return v

def nested_tuple(depth=30):
    k = 'w'
    for _ in range(depth): k = (k, k)
    return k

@pytest.mark.parametrize('case', ['shared sub-lists', 'nested tuple key', 'stride 0'])
def test_old_format_attacks_are_refused_at_once(tmp_path, case):
    import torch
    f = tmp_path/'m.pth'
    if case == 'shared sub-lists': old_pickle(f, vocab=shared_sublists(), name=shared_sublists())
    elif case == 'nested tuple key': old_pickle(f, state_dict={nested_tuple(): torch.zeros(1)})
    else: old_pickle(f, state_dict={'i_h.weight': torch.zeros(1).expand(2**40)})
    assert f.stat().st_size < 100_000
    err = clean(hn_bounded('predict', f, 'one'), 1)
    assert "a model file in humannums' old format (a pickle inside a zip archive, written by torch.save); convert it once with `humannums convert" in err, err
    err = clean(hn_bounded('train', 'rnn2', '--epochs', '1', '--out', f), 1)  # nor is it read to decide whether --out may replace it
    assert 'exists and is not a humannums model file' in err, err

# --- today's format: every part bounded and checked ---------------------------------------------------------------

def test_deep_and_huge_metadata_are_refused_quickly(model_file, tmp_path):
    from humannums.modelfile import read_model_file
    meta, weights = read_model_file(model_file)
    deep = '[' * 5000 + ']' * 5000
    for name, raw, fields, said in [
            ('deep', {'name': deep}, meta, 'its name nests 5000 levels deep, more than the 3 a model file has'),
            ('deepvocab', {'vocab': deep}, meta, 'its vocab nests 5000 levels deep'),
            ('wide', {}, {**meta, 'vocab': [['x'] * 1000] * 2}, None),  # within the bounds: a pair of 1,000-token lists, but not rnn2's vocabulary
            ('listname', {}, {**meta, 'name': ['rnn2']}, "its name is not as humannums writes it (got a list of 1 item)"),
            ('header', {}, {**meta, 'name': 'x' * 300_000}, 'not a readable model file')]:
        f = craft(tmp_path/f'{name}.st', weights, raw=raw, **{k: v for k, v in fields.items() if k not in raw})
        err = clean(hn_bounded('predict', f, 'one'), 1)
        assert said in err if said else 'its vocabulary differs from the HUMAN_NUMBERS vocabulary' in err, err

def test_one_flipped_bit_is_refused(model_file, tmp_path):
    raw = bytearray(model_file.read_bytes())
    n = int.from_bytes(raw[:8], 'little')
    for at in (8 + n, len(raw) - 1, 8 + n + (len(raw) - 8 - n) // 2):  # the first, last and a middle byte of the weights
        f = tmp_path/f'flip{at}.st'
        flipped = bytearray(raw); flipped[at] ^= 1; f.write_bytes(flipped)
        assert "its weights don't match their checksum: the file was damaged" in clean(hn('predict', f, 'one'), 1)

def test_huge_weights_are_refused_when_saved_and_loaded(model_file, tmp_path):
    import torch
    from humannums.inference import load_model, save_model, predict_next, DivergedError, TrainedModel
    from humannums.modelfile import read_model_file, write_model_file
    meta, weights = read_model_file(model_file)
    f = write_model_file(tmp_path/'huge.st', {k: torch.full_like(v, 1e30) for k, v in weights.items()}, **meta)
    assert 'its scores on a test input are not finite' in clean(hn('predict', f, 'one'), 1)
    assert 'its scores on a test input are not finite' in clean(hn('count', f), 1)
    tm = load_model(model_file)
    big = copy.deepcopy(tm.model)
    with torch.no_grad(): big.h_h.weight.mul_(1e37)
    with pytest.raises(DivergedError, match="not saved: the model's scores on a test input are not finite"):
        save_model(tmp_path/'big.st', big, 'rnn2')
    assert not (tmp_path/'big.st').exists()
    with pytest.raises(DivergedError, match="are not finite"):  # built in memory, never saved: an error, not a probability
        predict_next(TrainedModel(big, tm.vocab, 'rnn2', {}), 'one two three')

def test_api_bad_paths_and_devices(model_file):
    from humannums.files import InputError
    from humannums.inference import load_model, ModelFileError
    with pytest.raises(InputError, match="a model runs on 'cpu', 'cuda' or 'mps', not 'meta'"): load_model(model_file, device='meta')
    with pytest.raises(ModelFileError, match='cannot be read'): load_model('a\x00b')

def test_mismatched_weights_say_what_differs(model_file, tmp_path):
    from humannums.modelfile import read_model_file, write_model_file
    meta, weights = read_model_file(model_file)
    f = write_model_file(tmp_path/'x.st', weights, **{**meta, 'name': 'awd'})
    err = clean(hn('predict', f, 'one'), 1)
    assert "weights don't fit model 'awd': missing rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0 and more; unknown 'h_h.bias', 'h_h.weight'" in err, err

# --- state that belongs to each call ------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['awd', 'rnn4', 'transformer', 'transformer_pointer'])
def test_one_trained_model_shared_by_threads_and_generators(name):
    import torch
    torch.set_num_threads(1)
    from humannums.inference import load_model, generate, generate_words, predict_next
    tm = load_model(ROOT/'trained'/f'{name}-seed42.safetensors')
    prompts = ['one thousand two hundred', 'seven thousand nine hundred ninety eight .', 'four', 'nine thousand one hundred nineteen']
    serial = [generate(tm, prompts[i % 4], 25) for i in range(40)]
    with ThreadPoolExecutor(8) as pool: threaded = list(pool.map(lambda i: generate(tm, prompts[i % 4], 25), range(40)))
    assert threaded == serial
    alone = [list(generate_words(tm, q, 20)) for q in prompts[:2]]
    g1, g2, mixed = generate_words(tm, prompts[0], 20), generate_words(tm, prompts[1], 20), ([], [])
    for _ in range(20):
        mixed[0].append(next(g1)); predict_next(tm, 'six'); mixed[1].append(next(g2))
    assert list(mixed) == alone

# --- the shipped files --------------------------------------------------------------------------------------------

def test_shipped_files_are_in_todays_format():
    from humannums.modelfile import read_model_file
    from humannums.cache import TRAINED
    assert sorted(p.name for p in (ROOT/'trained').iterdir()) == sorted(f'{n}-seed42.safetensors' for n in TRAINED)
    for f in [*(ROOT/'trained').iterdir(), *(ROOT/'counting').glob('*.safetensors')]:
        assert f.read_bytes()[:2] != b'PK', f
        meta, weights = read_model_file(f)
        assert weights and meta['name']

# --- converting a file of the old format --------------------------------------------------------------------------

def test_convert_an_old_model_file(tmp_path):
    old = old_pickle(tmp_path/'mine.pth')
    res = hn('convert', old)
    assert res.returncode == 0 and 'mine.safetensors: rnn2, 5 weights, read back bit for bit' in res.stdout, res.stderr
    res = hn('predict', tmp_path/'mine.safetensors', 'one', '--k', '2')
    assert res.returncode == 0 and len(res.stdout.splitlines()) == 2, res.stderr
    (tmp_path/'notes.txt').write_text('mine')
    err = clean(hn('convert', old, '--out', tmp_path/'notes.txt'), 1)
    assert 'exists and is not a humannums model file' in err and (tmp_path/'notes.txt').read_text() == 'mine', err
    assert 'not a model file of humannums\' old format either' in clean(hn('convert', tmp_path/'notes.txt'), 1)
    assert '--out is empty' in clean(hn('convert', old, '--out', ''), 2)
