"The `humannums` console script, driven as a user would: subprocesses, exit codes, messages, files."
import csv, os, queue, re, shutil, signal, subprocess, sys, threading, time
from pathlib import Path
import pytest

from conftest import EXE, hn

def test_console_script_installed():
    assert EXE, 'humannums console script not on PATH'

@pytest.mark.parametrize('cmd', [[], ['data'], ['train'], ['predict'], ['generate'], ['count'], ['translate'], ['reproduce']])
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
    (['train', 'rnn1', '--epochs', '0'], 2, 'expected an integer from 1 to 1000'),
    (['train', 'rnn1', '--epochs', 'two'], 2, 'expected an integer from 1 to 1000'),
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
    assert res.returncode == 2 and 'names a folder' in res.stderr

def _start(argv, tmp_path):
    "Start `argv` (a command line) in the background with its output piped, and a reader thread for its stdout"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout] + [lines.put(None)], daemon=True).start()
    return proc, lines

def _wait_for_line(proc, lines, pattern, safety=600):
    "Block until the process prints a line matching `pattern` (no fixed wait: the condition, on a machine of any speed); the lines so far"
    seen, deadline = [], time.monotonic() + safety  # the deadline is a safety net against a hang, not a guess at the speed
    while True:
        try: line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty: proc.kill(); raise AssertionError(f'no line matching {pattern!r} in {safety} s: {seen}')
        if line is None:  # stdout closed: it ended before the condition
            raise AssertionError(f'exited ({proc.wait()}) before a line matching {pattern!r}: {seen} {proc.stderr.read()[-2000:]}')
        seen.append(line)
        if re.search(pattern, line): return seen

def test_ctrl_c_leaves_no_file(tmp_path):
    "SIGINT during training: exit 130, a message, and no model file or temp file"
    # 1000 epochs: no machine finishes them in the moment between the line below and the signal
    proc, lines = _start([EXE, 'train', 'rnn3', '--epochs', '1000', '--out', str(tmp_path/'m.pth')], tmp_path)
    _wait_for_line(proc, lines, r'^training rnn3 ')  # printed (flushed) once the imports are done, as training starts
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read(); proc.wait(timeout=60)
    assert proc.returncode == 130, err
    assert 'interrupted' in err and 'Traceback' not in err
    assert list(tmp_path.iterdir()) == []

def test_reproduce(tmp_path):
    res = hn('reproduce', '--seeds', '2', '--models', 'rnn1', 'rnn2', '--out', tmp_path/'rep')
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (tmp_path/'rep').iterdir())
    assert names == ['accuracy.png', 'curves.csv', 'manifest.json', 'report.md', 'results.csv']
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

_DRIVER = """import dataclasses, sys
from humannums import zoo
# spawn runs this top level again in every worker, so the workers train the recipe as changed here
zoo.EXPERIMENTS['rnn3'] = dataclasses.replace(zoo.EXPERIMENTS['rnn3'], epochs={epochs})
if __name__ == '__main__':
    from humannums.cli import main
    sys.exit(main(sys.argv[1:]))
"""

def _workers(pid):
    "The pool's worker processes among the children of `pid` (not multiprocessing's resource tracker)"
    kids = subprocess.run(['pgrep', '-P', str(pid)], capture_output=True, text=True).stdout.split()
    return [k for k in kids if 'spawn_main' in Path(f'/proc/{k}/cmdline').read_bytes().decode(errors='replace')]

@pytest.mark.parametrize('epochs', [1, 10])  # runs made artificially short (a fraction of a second on a fast machine), and the recipe's own
def test_ctrl_c_stops_the_workers(tmp_path, epochs):
    "SIGINT during a parallel reproduce, while training is under way: exit 130, no report files, and no worker left running"
    (tmp_path/'driver.py').write_text(_DRIVER.format(epochs=epochs))
    # 40 runs on 2 workers: after the first one has finished, 39 are left, and the signal comes a moment later
    proc, lines = _start([sys.executable, str(tmp_path/'driver.py'), 'reproduce', '--models', 'rnn3', '--seeds', '40', '--jobs', '2',
                          '--out', str(tmp_path/'rep')], tmp_path)
    done = _wait_for_line(proc, lines, r'^rnn3 +seed \d+: accuracy')  # a run has ended: the workers are training the next ones
    assert f'after {epochs} epoch' in done[-1], done  # the driver's recipe is the one the workers train
    kids = _workers(proc.pid)
    assert len(kids) == 2, kids
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read(); proc.wait(timeout=60)
    assert proc.returncode == 130, err
    assert 'interrupted' in err and 'Traceback' not in err
    assert not (tmp_path/'rep').exists() or list((tmp_path/'rep').iterdir()) == []
    alive = lambda: [k for k in kids if Path(f'/proc/{k}').exists()]
    for _ in range(120):  # the pool ends its workers as the parent unwinds; poll for that (a minute at most, as a safety net)
        if not alive(): break
        time.sleep(0.5)
    assert alive() == [], [Path(f'/proc/{k}/cmdline').read_text() for k in alive()]
