"""Careless and hostile use, round two: the translators, model paths that are not regular files, crafted model
files, the Python API, and the models the repository ships. Every case ends with the right result or a clear
message (exit 1 or 2, no traceback); no file that was there is lost; nothing hangs or reads without bound.
Special files live in temporary folders only (a FIFO, a symbolic link to /dev/zero, a sparse file)."""
import os, shutil
import pytest
from conftest import ROOT, hn, clean, hn_bounded



# --- data loss ----------------------------------------------------------------------------------------------------

def test_out_never_replaces_a_file_that_is_not_a_model(tmp_path):
    notes = tmp_path/'n.txt'; notes.write_text('notes')
    err = clean(hn('train', 'd2w', '--epochs', '1', '--out', notes), 1)
    assert f'{notes} exists and is not a humannums model file (or cannot be read as one), so it is left alone' in err, err
    assert notes.read_text() == 'notes' and sorted(p.name for p in tmp_path.iterdir()) == ['n.txt']

def test_out_replaces_a_model_file(model_file, tmp_path):
    "A model file is what --out may replace: an earlier model (here a language model, replaced by a translator)"
    old = tmp_path/'m.pth'; shutil.copy(model_file, old)
    res = hn('train', 'd2w', '--epochs', '1', '--out', old)
    assert res.returncode == 0 and f'saved {old}' in res.stdout, res.stderr
    res = hn('translate', old, '12')  # it is the translator now
    assert res.returncode == 0 and res.stdout.strip(), res.stderr

def test_out_with_a_trailing_slash_is_a_folder(tmp_path):
    err = clean(hn('train', 'd2w', '--epochs', '1', '--out', f'{tmp_path}/newdir/'), 2)
    assert f'--out {tmp_path}/newdir/ names a folder; give a file name such as {tmp_path}/newdir/d2w.safetensors' in err, err
    assert list(tmp_path.iterdir()) == []  # no file called 'newdir'

@pytest.mark.parametrize('files', [{'report.md': '# my own report\n'}, {'results.csv': 'a,b\n1,2\n'}])
def test_reproduce_never_replaces_files_named_like_a_report(tmp_path, files):
    for name, text in files.items(): (tmp_path/name).write_text(text)
    err = clean(hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', tmp_path), 1)
    assert 'holds files named like a report\'s, but no manifest.json that humannums wrote' in err, err
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == files

# --- paths that are not regular files -----------------------------------------------------------------------------

def test_fifo_and_dev_zero_are_refused_at_once(tmp_path):
    os.mkfifo(tmp_path/'pipe.pth'); (tmp_path/'zero.pth').symlink_to('/dev/zero')
    for name, what in [('pipe.pth', 'is a FIFO (named pipe), not a model file'), ('zero.pth', 'is a device, not a model file')]:
        assert what in clean(hn_bounded('predict', tmp_path/name, 'one'), 1)

def test_a_file_larger_than_any_model_is_not_read(tmp_path):
    big = tmp_path/'big.pth'
    with open(big, 'wb') as f: f.truncate(2**30)  # 1 GiB, sparse: no disk used
    assert 'more than the 67,108,864 bytes a humannums model file may have; not loaded' in clean(hn_bounded('predict', big, 'one'), 1)

# --- tracebacks on input ------------------------------------------------------------------------------------------

def test_translate_a_number_longer_than_python_converts(translator_files):
    err = clean(hn('translate', translator_files[1], '1' * 4301), 2)
    assert 'expected the digits of a number from 1 to 9999' in err, err

def test_nul_byte_in_fastai_config_is_repaired(tmp_path):
    (tmp_path/'config.ini').write_bytes(b'[DEFAULT]\ndata = da\x00ta\n')
    res = hn('data', env=dict(os.environ, FASTAI_HOME=str(tmp_path)))
    assert res.returncode == 0 and res.stdout.count('verified') == 2, res.stderr
    assert 'was unreadable; rewrote it' in res.stderr and (tmp_path/'config.ini.broken').read_bytes().count(b'\x00') == 1

def test_data_when_its_folder_is_a_file(tmp_path):
    (tmp_path/'data').mkdir(); (tmp_path/'data'/'human_numbers').write_text('mine')
    res = hn('data', env=dict(os.environ, FASTAI_HOME=str(tmp_path)))
    err = clean(res, 1)
    assert 'human_numbers is a file, where the HUMAN_NUMBERS folder goes; move it away, or set FASTAI_HOME' in err, err
    assert (tmp_path/'data'/'human_numbers').read_text() == 'mine'

def _crafted(model_file, tmp_path, change):
    "A copy of `model_file` whose weights are changed by `change(state_dict)`, with a valid checksum (safetensors, as humannums writes)"
    import hashlib, json
    from safetensors.torch import save
    from humannums.modelfile import read_model_file
    meta, weights = read_model_file(model_file)
    weights = change(dict(weights))
    fields = {'format': 'humannums-model', 'version': '2', **{k: json.dumps(v) for k, v in meta.items()}}
    body = save(weights, metadata=fields)
    n = int.from_bytes(body[:8], 'little')
    path = tmp_path/'crafted.safetensors'
    path.write_bytes(save(weights, metadata={**fields, 'sha256': hashlib.sha256(body[8 + n:]).hexdigest()}))
    return path

K = 'i_h.weight'
CRAFTED = {  # what is done to the weights: what the message says (a key that isn't a str, a sparse or meta tensor: no such file can exist)
    'integers': (lambda sd: {**sd, K: sd[K].long()}, f"weights don't fit model 'rnn2': {K} holds torch.int64 numbers where the model has torch.float32"),
    'float64 1e300': (lambda sd: {**sd, K: sd[K].double().fill_(1e300)}, f"weight '{K}' holds 'F64' numbers; a model file holds float32 (or int64)"),
    'NaN': (lambda sd: {**sd, K: sd[K].fill_(float('nan'))}, f"weights '{K}' are not finite (NaN or infinity)"),
    'all 1e30': (lambda sd: {k: v.fill_(1e30) for k, v in sd.items()}, "its scores on a test input are not finite"),
    'extra weight': (lambda sd: {**sd, 'extra': sd[K].clone()}, "weights don't fit model 'rnn2': unknown 'extra'"),
}

@pytest.mark.parametrize('case', list(CRAFTED))
def test_crafted_weights_get_a_message(model_file, tmp_path, case):
    change, said = CRAFTED[case]
    err = clean(hn('predict', _crafted(model_file, tmp_path, change), 'one'), 1)
    assert said in err, err

def test_python_api_names_the_wrong_argument(model_file):
    from humannums.files import InputTypeError, InputError
    from humannums.inference import load_model, predict_next, translate
    for call, said in [(lambda: translate(None, '42'), 'tm must be a TrainedModel (from load_model), got NoneType'),
                       (lambda: predict_next('x', 'one'), 'tm must be a TrainedModel (from load_model), got str'),
                       (lambda: load_model(None), 'path must be a file path (a str or Path), got NoneType')]:
        with pytest.raises(InputTypeError, match=r'^' + said.replace('(', r'\(').replace(')', r'\)')): call()
    with pytest.raises(InputError, match="device 'bogus' is not a torch device; give e.g. 'cpu' or 'cuda'"):
        load_model(model_file, device='bogus')

# --- unbounded work -----------------------------------------------------------------------------------------------

def test_epochs_have_an_upper_bound(tmp_path):
    err = clean(hn('train', 'd2w', '--epochs', '99999999999999999999', '--out', tmp_path/'m.pth'), 2)
    assert "argument --epochs: expected an integer from 1 to 1000, got '99999999999999999999'" in err
    assert list(tmp_path.iterdir()) == []

def test_transformer_prompt_is_bounded():
    "A Transformer reads only its last two windows, so a 10,000-word prompt works; a longer one is refused with the limit"
    f = ROOT/'trained'/'transformer_pointer-seed42.safetensors'
    res = hn('predict', f, ' '.join(['one'] * 10_000), '--k', '1')
    assert res.returncode == 0 and res.stdout.split()[0] == 'one', res.stderr[-500:]
    err = clean(hn('predict', f, ' '.join(['one'] * 30_000)), 2)
    assert 'the prompt has 30,000 words; at most 10,000 are read' in err, err

# --- the models the repository ships ------------------------------------------------------------------------------

SHIPPED = sorted(p.name for p in (ROOT/'trained').glob('*.safetensors'))

@pytest.mark.parametrize('name', SHIPPED)
def test_every_shipped_model_works_on_the_command_line(name):
    f = ROOT/'trained'/name
    if name.startswith(('w2d', 'd2w')):
        text = '9874' if name.startswith('d2w') else 'twelve'
        want = 'nine thousand eight hundred seventy four' if name == 'd2w-seed42.safetensors' else None  # the plain ones miss often
        res = hn('translate', f, text)
        assert res.returncode == 0 and res.stdout.strip(), res.stderr[-800:]
        if want: assert res.stdout.strip() == want, res.stdout
    else:
        res = hn('predict', f, 'one thousand two hundred', '--k', '3')
        assert res.returncode == 0 and len(res.stdout.strip().splitlines()) == 3, res.stderr[-800:]
        res = hn('generate', f, 'one thousand two hundred .', '--n', '4')
        assert res.returncode == 0 and len(res.stdout.split()) == 9, res.stderr[-800:]

# --- clear messages -----------------------------------------------------------------------------------------------

def test_vocabulary_messages_name_the_difference(model_file, translator_files, tmp_path):
    from humannums.modelfile import read_model_file, write_model_file
    (lm, lw), (tr, tw) = read_model_file(model_file), read_model_file(translator_files[1])
    write_model_file(tmp_path/'lmvocab.st', tw, **{**tr, 'vocab': lm['vocab']})
    write_model_file(tmp_path/'reversed.st', lw, **{**lm, 'vocab': lm['vocab'][::-1]})
    err = clean(hn('translate', tmp_path/'lmvocab.st', '12'), 1)
    assert "differs from the vocabulary of translator 'd2w': a list of 30 items, not a [source, target] pair of lists" in err, err
    err = clean(hn('predict', tmp_path/'reversed.st', 'one'), 1)
    assert "differs from the HUMAN_NUMBERS vocabulary: 30 tokens (30 expected); position 0 holds 'thousand' where 'one' belongs" in err, err

def test_unknown_words_listed_once(translator_files):
    err = clean(hn('translate', translator_files[0], 'bogus bogus nine bogus x'), 2)
    assert "unknown word(s) ['bogus', 'x']" in err, err

# --- counting on (#27's command) ----------------------------------------------------------------------------------

def test_count_marks_each_wrong_number():
    res = hn('count', ROOT/'trained'/'transformer_pointer-seed42.safetensors', '--from', '8995', '--n', '6')
    assert res.returncode == 0, res.stderr[-800:]
    lines = res.stdout.strip().splitlines()
    assert lines[0] == 'counting on from 8,995, after a prompt of 2 numbers:' and lines[-1].endswith('of 6 right'), res.stdout
    rows = lines[1:-1]
    assert [r.split()[0] for r in rows] == ['8,996', '8,997', '8,998', '8,999', '9,000', '9,001']
    assert all(r.rstrip().endswith(' ok') or 'WRONG, due: ' in r for r in rows), rows
    right = sum(r.rstrip().endswith(' ok') for r in rows)
    assert lines[-1] == f'{right} of 6 right'

@pytest.mark.parametrize('args,msg', [
    (['--from', '9999'], "argument --from: expected an integer from 1 to 9998, got '9999'"),
    (['--n', '0'], "argument --n: expected an integer from 1 to 1000, got '0'"),
    (['--n', '1001'], "argument --n: expected an integer from 1 to 1000, got '1001'"),
    (['--context', '101'], "argument --context: expected an integer from 1 to 100, got '101'"),
    (['--from', '9990', '--n', '20'], "--n 20 after --from 9,990 goes past 9,999, the last number HUMAN_NUMBERS spells: give --n 9 at most"),
    (['--from', '2', '--context', '4'], "--context 4 is more than --from 2: the prompt holds the numbers up to --from, from 1 on; give --context 2 at most"),
])
def test_count_bad_input(args, msg):
    err = clean(hn('count', ROOT/'trained'/'rnn4-seed42.safetensors', *args), 2)
    assert msg in err, err

def test_count_refuses_a_translator_and_a_missing_file(tmp_path):
    assert 'is a translator (d2w), not a language model' in clean(hn('count', ROOT/'trained'/'d2w-seed42.safetensors'), 2)
    assert 'no such model file' in clean(hn('count', tmp_path/'none.pth'), 1)
