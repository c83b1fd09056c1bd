"The `humannums` console script, driven as a user would: subprocesses, exit codes, messages, files."
import csv, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest

from conftest import EXE, hn

def test_console_script_installed():
    assert EXE, 'humannums console script not on PATH'

@pytest.mark.parametrize('cmd', [[], ['data'], ['train'], ['predict'], ['generate'], ['translate'], ['reproduce']])
def test_help_at_every_level(cmd):
    res = hn(*cmd, '--help')
    assert res.returncode == 0 and 'usage: humannums' in res.stdout

def test_data(tmp_path):
    res = hn('data', env=dict(os.environ, FASTAI_HOME=str(tmp_path)))
    assert res.returncode == 0, res.stderr
    assert res.stdout.count('verified') == 2 and 'tokens: 63,095' in res.stdout and 'vocab: 30 tokens' in res.stdout
    assert (tmp_path/'data'/'human_numbers'/'train.txt').stat().st_size == 280_599

def test_round_trip(model_file):
    res = hn('predict', model_file, 'seven thousand two hundred', '--k', '3')
    assert res.returncode == 0, res.stderr
    rows = [l.split() for l in res.stdout.strip().splitlines()]
    assert len(rows) == 3 and all(0 <= float(p) <= 1 for _, p in rows)
    assert [float(p) for _, p in rows] == sorted((float(p) for _, p in rows), reverse=True)
    res = hn('generate', model_file, 'one thousand two hundred .', '--n', '5')
    assert res.returncode == 0, res.stderr
    out = res.stdout.strip().split()
    assert out[:5] == 'one thousand two hundred .'.split() and len(out) == 10

def test_train_is_seeded(model_file, tmp_path):
    res = hn('train', 'rnn2', '--epochs', '1', '--seed', '0', '--out', tmp_path/'again.pth')
    first = hn('predict', model_file, 'one', '--k', '30').stdout
    assert res.returncode == 0 and hn('predict', tmp_path/'again.pth', 'one', '--k', '30').stdout == first

@pytest.mark.parametrize('args,code,msg', [
    (['train', 'bert'], 2, "unknown model 'bert'; choose one of: ffnn, rnn1"),
    (['train', 'lstn'], 2, "did you mean 'lstm'"),
    (['train', 'rnn1', '--epochs', '0'], 2, 'expected a positive integer'),
    (['train', 'rnn1', '--epochs', 'two'], 2, 'expected a positive integer'),
    (['train', 'rnn1', '--lr', '-1'], 2, 'expected a positive number'),
    (['train', 'rnn1', '--seed', '-5'], 2, 'expected a non-negative integer'),
    (['reproduce', '--seeds', '0'], 2, 'expected a positive integer'),
    (['reproduce', '--models', 'gpt'], 2, "unknown model 'gpt'"),
    (['frobnicate'], 2, 'invalid choice'),
])
def test_usage_errors(args, code, msg):
    res = hn(*args)
    assert res.returncode == code and msg in res.stderr and 'Traceback' not in res.stderr

@pytest.mark.parametrize('args,code,msg', [
    (['predict', '{m}', 'seven thousnd'], 2, "unknown word 'thousnd' (closest: 'thousand'); the vocabulary is: one . two"),
    (['predict', '{m}', '  '], 2, 'empty prompt'),
    (['predict', '{m}', 'one', '--k', '31'], 2, 'argument --k: expected an integer from 1 to 30'),
    (['predict', '{m}', 'one', '--k', '0'], 2, 'argument --k: expected an integer from 1 to 30'),
    (['generate', '{m}', 'one', '--n', '-1'], 2, 'expected a non-negative integer'),
    (['predict', '{missing}', 'one'], 1, 'no such model file'),
    (['predict', '{junk}', 'one'], 1, 'not a readable model file'),
    (['predict', '{half}', 'one'], 1, 'truncated, corrupted'),
])
def test_bad_input(model_file, tmp_path, args, code, msg):
    (tmp_path/'junk.pth').write_text('not a model')
    raw = model_file.read_bytes(); (tmp_path/'half.pth').write_bytes(raw[:len(raw)//2])
    paths = dict(m=model_file, missing=tmp_path/'missing.pth', junk=tmp_path/'junk.pth', half=tmp_path/'half.pth')
    res = hn(*[a.format(**paths) for a in args])
    assert res.returncode == code, (res.returncode, res.stderr)
    assert msg in res.stderr and 'Traceback' not in res.stderr

@pytest.fixture(scope='session')
def translator_files(tmp_path_factory):
    "A words->digits and a digits->words translator, trained for one epoch each by the console script"
    d = tmp_path_factory.mktemp('translators')
    for name in ('w2d', 'd2w'):
        res = hn('train', name, '--epochs', '1', '--seed', '0', '--out', d/f'{name}.pth')
        assert res.returncode == 0, res.stderr
        assert 'exact_match' in res.stdout and f'saved {d/name}.pth' in res.stdout, res.stdout
    return d/'w2d.pth', d/'d2w.pth'

def test_translate(translator_files, tmp_path):
    w2d, d2w = translator_files
    for path, text in ((w2d, 'nine thousand eight hundred seventy four'), (d2w, '9874')):
        res = hn('translate', path, text)
        assert res.returncode == 0 and res.stdout.count('\n') == 1 and res.stdout.strip(), res.stderr
    assert hn('translate', w2d, 'one').stdout.strip().isdigit()  # a number comes out, right or not after one epoch
    assert set(hn('translate', d2w, '12').stdout.split()) <= set('one two three four five six seven eight nine ten eleven twelve thirteen '
        'fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand'.split())

@pytest.mark.parametrize('args,code,msg', [
    (['translate', '{w2d}', 'nine thousand and five'], 2, "unknown word(s) ['and']; allowed: "),
    (['translate', '{w2d}', 'one two three four five six seven'], 2, 'got 7 words; the numbers 1 to 9999 take at most 6'),
    (['translate', '{w2d}', '  '], 2, 'no words to translate'),
    (['translate', '{d2w}', '10000'], 2, 'expected the digits of a number from 1 to 9999'),
    (['translate', '{d2w}', '0042'], 2, 'expected the digits of a number from 1 to 9999 (no sign, no leading zero)'),
    (['translate', '{d2w}', 'nine'], 2, 'expected the digits'),
    (['translate', '{m}', '12'], 2, "model 'rnn2' is a language model, not a translator"),
    (['predict', '{d2w}', 'one'], 2, "model 'd2w' is a translator (d2w), not a language model: use translate"),
    (['generate', '{w2d}', 'one'], 2, "model 'w2d' is a translator (w2d)"),
    (['translate', '{junk}', '12'], 1, 'not a readable model file'),
    (['translate', '{missing}', '12'], 1, 'no such model file'),
])
def test_translate_bad_input(translator_files, model_file, tmp_path, args, code, msg):
    (tmp_path/'junk.pth').write_text('not a model')
    paths = dict(w2d=translator_files[0], d2w=translator_files[1], m=model_file, junk=tmp_path/'junk.pth', missing=tmp_path/'no.pth')
    res = hn(*[a.format(**paths) for a in args])
    assert res.returncode == code and msg in res.stderr and 'Traceback' not in res.stderr, (res.returncode, res.stderr)

def test_a_bug_shows_its_traceback(model_file, tmp_path):
    "Only bad input (`InputError`) becomes a usage message: any other error inside a command keeps its traceback"
    code = ("import sys, humannums.inference as inf\nfrom humannums.cli import main\n"
            "def broken(*a, **k): raise KeyError('a bug')\ninf.predict_next = broken\nsys.exit(main(['predict', sys.argv[1], 'one']))")
    res = subprocess.run([sys.executable, '-c', code, str(model_file)], capture_output=True, text=True)
    assert res.returncode == 1 and 'Traceback' in res.stderr and "KeyError: 'a bug'" in res.stderr, res.stderr[-800:]

def test_train_out_is_folder(tmp_path):
    res = hn('train', 'rnn1', '--epochs', '1', '--out', tmp_path)
    assert res.returncode == 2 and 'is a folder' in res.stderr

def test_ctrl_c_leaves_no_file(tmp_path):
    "SIGINT during training: exit 130, a message, and no model file or temp file"
    proc = subprocess.Popen([EXE, 'train', 'rnn3', '--epochs', '50', '--out', str(tmp_path/'m.pth')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(10)  # imports take a few seconds; 50 epochs of RNN3 take far longer than this
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert 'interrupted' in err and 'Traceback' not in err
    assert list(tmp_path.iterdir()) == []

def test_reproduce(tmp_path):
    res = hn('reproduce', '--seeds', '2', '--models', 'rnn1', 'rnn2', '--out', tmp_path/'rep')
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (tmp_path/'rep').iterdir())
    assert names == ['accuracy.png', 'curves.csv', 'report.md', 'results.csv']
    md = (tmp_path/'rep'/'report.md').read_text()
    assert '| rnn1 |' in md and '| 0.424 | 0.494 |' in md and ' ± ' in md
    assert (tmp_path/'rep'/'accuracy.png').read_bytes()[:4] == b'\x89PNG'
    assert len((tmp_path/'rep'/'results.csv').read_text().strip().splitlines()) == 1 + 4

def _rows(folder):
    "results.csv without the timing column"
    with open(folder/'results.csv', newline='') as f:
        return [{k: v for k, v in r.items() if k != 'seconds'} for r in csv.DictReader(f)]

def test_reproduce_jobs_gives_the_same_runs(tmp_path):
    "Runs in worker processes (one torch thread each) give the rows and curves of runs one after another"
    args = ('reproduce', '--seeds', '2', '--models', 'rnn1', 'rnn4')
    one = hn(*args, '--out', tmp_path/'one', env=dict(os.environ, OMP_NUM_THREADS='1'))
    two = hn(*args, '--jobs', '2', '--out', tmp_path/'two')
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert _rows(tmp_path/'one') == _rows(tmp_path/'two')
    assert (tmp_path/'one'/'curves.csv').read_text() == (tmp_path/'two'/'curves.csv').read_text()

def test_ctrl_c_stops_the_workers(tmp_path):
    "SIGINT during a parallel reproduce: exit 130, no report files, and no worker left running"
    proc = subprocess.Popen([EXE, 'reproduce', '--models', 'rnn3', '--seeds', '4', '--jobs', '2', '--out', str(tmp_path/'rep')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(15)  # the workers are up and training (4 runs of RNN3 take far longer)
    assert proc.poll() is None, proc.communicate()
    kids = subprocess.run(['pgrep', '-P', str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(kids) >= 2, kids
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert 'interrupted' in err and 'Traceback' not in err
    assert not (tmp_path/'rep').exists() or list((tmp_path/'rep').iterdir()) == []
    alive = lambda: [k for k in kids if Path(f'/proc/{k}').exists()]
    for _ in range(20):  # multiprocessing's resource tracker leaves when it notices its parent is gone
        if not alive(): break
        time.sleep(0.5)
    assert alive() == [], [Path(f'/proc/{k}/cmdline').read_text() for k in alive()]
