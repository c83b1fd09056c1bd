"""The command line and library under careless and hostile use: nothing that was there is lost or replaced by
something else, nothing grows without bound, and every mistake gets a message instead of a traceback.
Special files are made in temporary folders (mkfifo, symlinks, a device node made with mknod); a full or
read-only disk is a small tmpfs, mounted only where the test may (as root), skipped otherwise."""
import os, shutil, stat, subprocess, sys, time, zipfile
from pathlib import Path
import pytest
from conftest import hn, EXE

ROOT_USER = os.geteuid() == 0

def quick(res):
    "The run stopped before training: nothing trained, no traceback"
    assert 'training' not in res.stdout and 'Traceback' not in res.stderr, res.stdout + res.stderr

# --- data loss and replaced files ---------------------------------------------------------------------------------

def test_out_never_replaces_a_fifo_or_symlink(tmp_path):
    target = tmp_path/'precious.txt'; target.write_text('keep me')
    os.mkfifo(tmp_path/'pipe'); (tmp_path/'link.pth').symlink_to(target)
    for name, what in [('pipe', 'is a FIFO'), ('link.pth', 'is a symbolic link')]:
        res = hn('train', 'rnn1', '--epochs', '1', '--out', tmp_path/name)
        assert res.returncode == 1 and what in res.stderr and 'leaves it alone' in res.stderr, res.stderr
        quick(res)
    assert stat.S_ISFIFO(os.lstat(tmp_path/'pipe').st_mode) and (tmp_path/'link.pth').is_symlink()
    assert target.read_text() == 'keep me'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['link.pth', 'pipe', 'precious.txt']

@pytest.mark.skipif(not ROOT_USER, reason='making a device node needs root')
def test_out_never_replaces_a_device(tmp_path):
    "A copy of /dev/null made in a temp folder (the real one is never touched)"
    dev = tmp_path/'null'
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    res = hn('train', 'rnn1', '--epochs', '1', '--out', dev)
    assert res.returncode == 1 and 'is a device' in res.stderr, res.stderr
    quick(res)
    assert stat.S_ISCHR(os.lstat(dev).st_mode)

def test_diverged_run_does_not_replace_a_model(model_file, tmp_path):
    good = tmp_path/'good.pth'; shutil.copy(model_file, good)
    before = good.read_bytes()
    res = hn('train', 'rnn2', '--epochs', '1', '--lr', '1e30', '--out', good)
    assert res.returncode == 1, res.stderr
    assert 'not finite (NaN or infinity), so the training diverged' in res.stderr and 'was left as it was' in res.stderr
    assert 'saved' not in res.stdout and 'Traceback' not in res.stderr
    assert good.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['good.pth']

def test_out_checked_before_training(tmp_path):
    (tmp_path/'afile').write_text('x')
    res = hn('train', 'rnn3', '--out', tmp_path/'afile'/'m.pth')
    assert res.returncode == 1 and f'{tmp_path/"afile"} is not a folder' in res.stderr, res.stderr
    quick(res)

def test_reproduce_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path/'thesis.tex').write_text('mine')
    res = hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', tmp_path)
    assert res.returncode == 1 and 'holds more than a report (thesis.tex)' in res.stderr, res.stderr
    assert 'seed 0' not in res.stdout and (tmp_path/'thesis.tex').read_text() == 'mine'

@pytest.fixture
def tmpfs(tmp_path):
    "Mount a small tmpfs (root only; skipped where mounting is not allowed); yields (mount point, mount options fn)"
    mnt = tmp_path/'mnt'; mnt.mkdir()
    def mount(*opts):
        res = subprocess.run(['mount', '-t', 'tmpfs', '-o', ','.join(opts), 'tmpfs', str(mnt)], capture_output=True, text=True)
        if res.returncode: pytest.skip(f'cannot mount a tmpfs here: {res.stderr.strip()}')
        return mnt
    if not ROOT_USER or not shutil.which('mount'): pytest.skip('mounting a tmpfs needs root')
    yield mount
    subprocess.run(['umount', str(mnt)], capture_output=True)

def test_full_disk_keeps_the_old_model(model_file, tmpfs):
    mnt = tmpfs('size=128k')
    good = mnt/'m.pth'; shutil.copy(model_file, good)
    before = good.read_bytes()
    free = shutil.disk_usage(mnt).free
    (mnt/'filler').write_bytes(b'\0' * max(0, free - 8192))  # leave far less than a model file needs
    res = hn('train', 'rnn2', '--epochs', '1', '--out', good)
    assert res.returncode == 1 and 'No space left on device' in res.stderr and 'Traceback' not in res.stderr, res.stderr
    assert good.read_bytes() == before
    assert sorted(p.name for p in mnt.iterdir()) == ['filler', 'm.pth']  # no temp file left behind

def test_read_only_folder_refused_before_training(tmpfs):
    mnt = tmpfs('size=64k', 'ro')
    res = hn('train', 'rnn3', '--out', mnt/'m.pth')
    assert res.returncode == 1 and f'folder {mnt} is not writable (Read-only file system)' in res.stderr, res.stderr
    quick(res)

def test_full_disk_leaves_an_empty_config_that_is_repaired(tmp_path):
    "What a full disk leaves (an empty config.ini) and what a stray editor leaves (garbage) are repaired, with a warning"
    home = tmp_path/'home'; home.mkdir()
    env = dict(os.environ, FASTAI_HOME=str(home))
    for text, said in [('', 'was empty; rewrote it'), ('\x00\x01 not ini', 'was unreadable; rewrote it')]:
        (home/'config.ini').write_text(text)
        res = hn('data', env=env)
        assert res.returncode == 0 and res.stdout.count('verified') == 2, res.stderr
        assert f'humannums data: warning: fastai\'s {home/"config.ini"} {said}' in res.stderr, res.stderr
        assert 'data = data' in (home/'config.ini').read_text()
    assert (home/'config.ini.broken').read_text() == '\x00\x01 not ini'

def test_concurrent_first_runs(tmp_path):
    "Processes starting together on a fresh FASTAI_HOME all find the data (they used to read a half-written config.ini)"
    home, go = tmp_path/'home', tmp_path/'go'
    code = ('import os, sys, time, humannums.data as d\n'
            f'open(os.path.join({str(tmp_path)!r}, "ready-" + sys.argv[1]), "w").close()\n'  # imported: ready to go
            f'while not os.path.exists({str(go)!r}): time.sleep(0.005)\n'
            'print(len(d.load_nums()[0]))')
    env = dict(os.environ, FASTAI_HOME=str(home), OMP_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, '-c', code, str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(10)]
    while len(list(tmp_path.glob('ready-*'))) < 10:  # every process has finished importing (however long that takes here)
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        time.sleep(0.05)
    go.touch()  # then they all start at once
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, [e[-500:] for _, e in outs]
    assert [o.strip() for o, _ in outs] == ['63095'] * 10
    assert sorted(p.name for p in home.iterdir()) == ['config.ini', 'data']

# --- bounds -------------------------------------------------------------------------------------------------------

def test_compressed_bomb_refused(tmp_path):
    "A small zip archive (the old pickle format) that would unpack to 100 MB is refused by its first bytes: nothing is unpacked"
    bomb = tmp_path/'bomb.pth'
    with zipfile.ZipFile(bomb, 'w') as z: z.writestr('archive/data/0', b'\0' * 100_000_000, zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 1_000_000
    res = hn('predict', bomb, 'one')
    assert res.returncode == 1 and "old format (a pickle inside a zip archive" in res.stderr and 'Traceback' not in res.stderr, res.stderr

def test_generate_is_capped_and_linear(model_file):
    res = hn('generate', model_file, 'one', '--n', '1000000000')
    assert res.returncode == 2 and 'expected a non-negative integer up to 10000' in res.stderr
    res = hn('generate', model_file, 'one thousand', '--n', '3000')  # once 800 words took 24 s; now a few seconds
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.split()) == 2 + 3000 and res.stdout.endswith('\n')

def test_jobs_capped_at_the_cores(tmp_path):
    res = hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--jobs', '1000', '--out', tmp_path/'rep')
    assert res.returncode == 0, res.stderr
    assert 'warning: jobs=1000 is more than the' in res.stderr and 'cores here; running' in res.stderr

# --- clear errors for what the parser accepts ---------------------------------------------------------------------

@pytest.mark.parametrize('args,msg', [
    (['train', 'rnn1', '--lr', '1e308'], 'argument --lr: expected a positive number up to 1e+38'),
    (['train', 'rnn1', '--lr', 'inf'], 'argument --lr: expected a positive number up to 1e+38'),
    (['train', 'rnn1', '--seed', str(2**64)], 'argument --seed: expected a non-negative integer up to 4294967294'),
    (['train', 'rnn1', '--seed', str(2**32 - 1)], 'expected a non-negative integer up to 4294967294'),
    (['reproduce', '--models', 'rnn1', 'rnn1'], 'model rnn1 given more than once'),
    (['reproduce', '--seeds', '1' * 5000], 'expected a positive integer up to 100'),
])
def test_usage_errors_not_tracebacks(args, msg, tmp_path):
    res = hn(*args, cwd=tmp_path)
    assert res.returncode == 2 and msg in res.stderr and 'Traceback' not in res.stderr, res.stderr
    assert list(tmp_path.iterdir()) == []

def test_bad_model_files(model_file, tmp_path):
    from humannums.modelfile import read_model_file, write_model_file
    meta, weights = read_model_file(model_file)
    write_model_file(tmp_path/'name.st', weights, **{**meta, 'name': 'gpt'})
    cases = [(tmp_path, 'is a folder, not a model file'), (tmp_path/'name.st', "unknown model 'gpt'")]
    for path, msg in cases:
        res = hn('predict', path, 'one')
        assert res.returncode == 1 and msg in res.stderr and 'Traceback' not in res.stderr, res.stderr

def test_words_of_a_huge_number():
    res = subprocess.run([sys.executable, '-c', 'from humannums.data import words\nwords(10**100000)'], capture_output=True, text=True)
    assert 'ValueError: words() takes an int from 1 to 9999, got an int of 332,193 bits' in res.stderr, res.stderr[-500:]

def test_broken_pipe_exits_quietly(tmp_path):
    "`humannums data | head -1`: the reader leaves early, and humannums stops without a traceback"
    res = subprocess.run(f'"{EXE}" data | head -1; echo "status ${{PIPESTATUS[0]}}"', shell=True, executable='/bin/bash',
                         capture_output=True, text=True, env=dict(os.environ, FASTAI_HOME=str(tmp_path)))
    lines = res.stdout.splitlines()
    assert lines[0].startswith('HUMAN_NUMBERS in') and lines[-1] == 'status 141', res.stdout
    assert res.stderr == '', res.stderr
