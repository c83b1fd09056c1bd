import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture
def run_py(tmp_path):
    "Run Python code in a fresh interpreter with FASTAI_HOME in a temp folder; returns CompletedProcess"
    def _run(code, home=None, check=True):
        env = dict(os.environ, FASTAI_HOME=str(home or tmp_path/'fastai_home'))
        res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=tmp_path)
        if check: assert res.returncode == 0, res.stderr
        return res
    return _run

EXE = shutil.which('humannums', path=str(Path(sys.executable).parent)) or shutil.which('humannums')

def hn(*args, cwd=None, env=None):
    "Run the `humannums` console script as a user would; returns CompletedProcess"
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)

def clean(res, code):
    "`res` exited with `code`, printing a message and no traceback"
    assert res.returncode == code and 'Traceback' not in res.stderr, (res.returncode, res.stdout[-500:], res.stderr[-2000:])
    return res.stderr

def hn_bounded(*args, **kw):
    "`hn` with a short limit, for the cases that used to hang: a hang fails the test instead of stalling the run"
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=120, **kw)

@pytest.fixture(scope='session')
def model_file(tmp_path_factory):
    "One RNN2 trained for an epoch by the console script, shared by the CLI test files (don't modify it: copy it)"
    d = tmp_path_factory.mktemp('cli')
    res = hn('train', 'rnn2', '--epochs', '1', '--seed', '0', '--out', d/'rnn2.safetensors')
    assert res.returncode == 0, res.stderr
    assert 'train_loss' in res.stdout and 'saved' in res.stdout
    return d/'rnn2.safetensors'

@pytest.fixture(scope='session')
def translator_files(tmp_path_factory):
    "A words->digits and a digits->words translator, trained for one epoch each by the console script"
    d = tmp_path_factory.mktemp('translators')
    for name in ('w2d', 'd2w'):
        res = hn('train', name, '--epochs', '1', '--seed', '0', '--out', d/f'{name}.safetensors')
        assert res.returncode == 0, res.stderr
        assert 'exact_match' in res.stdout and f'saved {d/name}.safetensors' in res.stdout, res.stdout
    return d/'w2d.safetensors', d/'d2w.safetensors'
