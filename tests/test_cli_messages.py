"""The command line's messages where a user's input or machine is unusual (issue #34): an empty or nameless path, a
Ctrl-C while the library loads, a file name that isn't UTF-8, counting from the first numbers, a full disk, a damaged
data file, a HOME that can't be written. Each ends with the right result, or a clear message, exit 1 or 2, no traceback."""
import hashlib, os, shutil, signal, subprocess
from pathlib import Path
import pytest
from conftest import EXE, hn

def clean(res):
    "No traceback on stderr"
    assert 'Traceback' not in res.stderr, res.stderr[-2000:]

# --- 1, 4: paths that name nothing ---------------------------------------------------------------------------------

@pytest.mark.parametrize('out', ['.', '', './', '..'])
def test_reproduce_out_needs_a_name(tmp_path, out):
    work = tmp_path/'work'; work.mkdir()
    res = hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', out, cwd=work)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert 'humannums reproduce: error: the report folder needs a name' in res.stderr and 'such as reproduce or ./results' in res.stderr
    assert 'seed 0' not in res.stdout and list(work.iterdir()) == []
    clean(res)

@pytest.mark.parametrize('args', [['predict', '', 'one'], ['generate', '', 'one'], ['count', ''], ['translate', '', '12']])
def test_empty_file_is_a_usage_error(args):
    res = hn(*args)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert f"humannums {args[0]}: error: FILE is empty: give a model file's path" in res.stderr and 'is a folder' not in res.stderr
    clean(res)

# --- 5: count's options --------------------------------------------------------------------------------------------

def test_count_from_1_uses_one_number_of_prompt(model_file):
    res = hn('count', model_file, '--from', '1', '--n', '3')
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith('counting on from 1, after a prompt of 1 number:\n') and res.stdout.rstrip().endswith('of 3 right')
    res = hn('count', model_file, '--from', '2', '--n', '1')  # the default of 2 otherwise
    assert res.returncode == 0 and 'after a prompt of 2 numbers:' in res.stdout, res.stderr
    assert 'at most --from (default: 2, or 1 with --from 1)' in ' '.join(hn('count', '--help').stdout.split())

@pytest.mark.parametrize('args,msg', [
    (['--from', '1', '--context', '2'], '--context 2 is more than --from 1: the prompt holds the numbers up to --from, from 1 on; give --context 1 at most'),
    (['--from', '5', '--context', '9'], '--context 9 is more than --from 5'),
    (['--from', '9990', '--n', '20'], '--n 20 after --from 9,990 goes past 9,999, the last number HUMAN_NUMBERS spells: give --n 9 at most'),
    (['--from', '9998', '--n', '2'], '--n 2 after --from 9,998 goes past 9,999, the last number HUMAN_NUMBERS spells: give --n 1 at most'),
])
def test_count_errors_name_the_options(model_file, args, msg):
    res = hn('count', model_file, *args)
    assert res.returncode == 2 and f'humannums count: error: {msg}' in res.stderr, (res.returncode, res.stderr)
    assert 'start' not in res.stderr and 'n (how many' not in res.stderr and 'context (' not in res.stderr
    clean(res)

# --- 2: Ctrl-C while torch and fastai load --------------------------------------------------------------------------

def test_ctrl_c_while_the_library_loads(tmp_path):
    """SIGINT after parsing, while the imports run: 'humannums: interrupted', exit 130, no traceback.
    Python's import-time report (PYTHONPROFILEIMPORTTIME, on stderr) says when numpy has loaded: that happens only
    after parsing (the command line imports nothing of the library before), with torch and fastai still to come."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME='1', OMP_NUM_THREADS='1')
    landed = []
    for attempt in range(5):  # the import lasts seconds after numpy; one landing in it is enough, and each try is checked
        proc = subprocess.Popen([EXE, 'predict', str(tmp_path/'nothing.pth'), 'one'], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        try:
            for line in proc.stderr:  # the condition, not a duration: numpy's line is written once numpy has loaded
                if line.startswith('import time:') and line.rsplit('|', 1)[-1].strip() == 'numpy':
                    proc.send_signal(signal.SIGINT); break
            err = proc.stderr.read(); proc.wait(timeout=120)
        finally:
            if proc.poll() is None: proc.kill()
            proc.stdout.close(); proc.stderr.close()
        said = [l for l in err.splitlines() if not l.startswith('import time:')]
        assert 'Traceback' not in err and 'KeyboardInterrupt' not in err, '\n'.join(said[-20:])
        assert proc.returncode in (130, 1), (proc.returncode, said[-20:])  # 1: the imports were over ('no such model file')
        if proc.returncode == 130:
            assert said[-1] == 'humannums: interrupted', said[-5:]
            landed.append(attempt); break
    assert landed, 'no SIGINT landed while the library loaded in 5 tries'

# --- 3: a file name that isn't UTF-8 -------------------------------------------------------------------------------

def test_train_out_not_utf8_with_strict_output(tmp_path):
    out = tmp_path/os.fsdecode(b'\xff.pth')
    env = dict(os.environ, PYTHONIOENCODING='utf-8:strict', OMP_NUM_THREADS='1')
    res = hn('train', 'ffnn', '--epochs', '1', '--out', out, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    clean(res)
    assert f'saved {tmp_path}/\\xff.pth' in res.stdout, res.stdout
    assert os.listdir(os.fsencode(tmp_path)) == [b'\xff.pth']
    res = hn('predict', tmp_path/os.fsdecode(b'\xfe.pth'), 'one', env=env)  # a message naming such a path, on stderr
    assert res.returncode == 1 and f'{tmp_path}/\\xfe.pth: no such model file' in res.stderr, res.stderr
    clean(res)

# --- 6: a full disk while saving -----------------------------------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    "Mount a small tmpfs (root only; skipped where mounting is not allowed), as tests/test_careless.py does"
    mnt = tmp_path/'mnt'; mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which('mount'): pytest.skip('mounting a tmpfs needs root')
    def mount(*opts):
        res = subprocess.run(['mount', '-t', 'tmpfs', '-o', ','.join(opts), 'tmpfs', str(mnt)], capture_output=True, text=True)
        if res.returncode: pytest.skip(f'cannot mount a tmpfs here: {res.stderr.strip()}')
        return mnt
    yield mount
    subprocess.run(['umount', str(mnt)], capture_output=True)

def _fill(mnt):
    "Leave far less room on `mnt` than a model file needs"
    (mnt/'filler').write_bytes(b'\0' * max(0, shutil.disk_usage(mnt).free - 8192))

def test_full_disk_says_the_old_model_was_kept(model_file, tmpfs):
    mnt = tmpfs('size=128k')
    good = mnt/'m.pth'; shutil.copy(model_file, good)
    before = good.read_bytes()
    _fill(mnt)
    res = hn('train', 'rnn2', '--epochs', '1', '--out', good)
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert f'humannums train: error: {good}: model not saved (No space left on device); the old file was kept' in res.stderr, res.stderr
    clean(res)
    assert good.read_bytes() == before and sorted(p.name for p in mnt.iterdir()) == ['filler', 'm.pth']

def test_full_disk_says_nothing_was_written(tmpfs):
    mnt = tmpfs('size=128k')
    _fill(mnt)
    res = hn('train', 'ffnn', '--epochs', '1', '--out', mnt/'new.pth')
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert f'humannums train: error: {mnt/"new.pth"}: model not saved (No space left on device); nothing was written' in res.stderr, res.stderr
    clean(res)
    assert sorted(p.name for p in mnt.iterdir()) == ['filler']

# --- 7: a damaged data file ----------------------------------------------------------------------------------------

def test_data_says_which_file_it_repaired(tmp_path):
    env = dict(os.environ, FASTAI_HOME=str(tmp_path))
    assert hn('data', env=env).returncode == 0
    train = tmp_path/'data'/'human_numbers'/'train.txt'
    good = train.read_bytes()
    bad = bytearray(good); bad[1000] ^= 0x20; train.write_bytes(bytes(bad))  # one byte, same size
    res = hn('data', env=env)
    assert res.returncode == 0, res.stderr
    lines = {l.split(':')[0].strip(): l for l in res.stdout.splitlines() if l.startswith('  ')}
    assert lines['train.txt'].endswith('repaired') and lines['valid.txt'].endswith('verified'), res.stdout
    assert train.read_bytes() == good and hashlib.sha256(good).hexdigest().startswith('194a5defcc1e77a1')
    again = hn('data', env=env)  # repaired once: verified from then on
    assert again.returncode == 0 and again.stdout.count('verified') == 2 and 'repaired' not in again.stdout
    clean(res)

# --- 8: a HOME that can't be written -------------------------------------------------------------------------------

@pytest.mark.parametrize('cmd', ['data', 'predict'])
def test_no_plotting_warning_without_a_writable_home(tmp_path, model_file, cmd):
    "A path under a file (/dev/null) can't be created even by root, so matplotlib's default config folder is unusable"
    env = {k: v for k, v in os.environ.items() if k not in ('MPLCONFIGDIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME')}
    env.update(HOME='/dev/null/home', FASTAI_HOME=str(tmp_path/'fastai'), OMP_NUM_THREADS='1')
    args = ['data'] if cmd == 'data' else ['predict', model_file, 'one']
    res = hn(*args, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'matplotlib' not in res.stderr.lower(), res.stderr
    clean(res)
