"""Careless and hostile use, round three (issue #34): humannums.files under an empty FASTAI_HOME, a config.ini of
another program, earlier config.ini.broken files, a full disk, a kill during a save, write-protected and private
files, and a damaged data file. Each case ends with the right result or a clear message, and nothing that was there
is lost or left behind. Special files and full disks live in temporary folders only (a full disk is a small tmpfs,
mounted only where the test may, as root)."""
import hashlib, os, shutil, signal, stat, subprocess, sys, threading, time
from pathlib import Path
import pytest
from conftest import hn, clean
from test_careless import tmpfs  # noqa: F401 (a fixture: a small tmpfs, root only)


def data(home, **kw):
    "`humannums data` with FASTAI_HOME=`home`"
    return hn('data', env=dict(os.environ, FASTAI_HOME=str(home), OMP_NUM_THREADS='1'), **kw)

def names(folder): return sorted(p.name for p in Path(folder).iterdir())

def umask():
    u = os.umask(0); os.umask(u)
    return u

# --- 1. FASTAI_HOME set but empty -------------------------------------------------------------------------------------

def test_empty_fastai_home_means_the_default(tmp_path):
    "FASTAI_HOME= (set, empty) means ~/.fastai, as if unset, not the current folder"
    user, cwd = tmp_path/'user', tmp_path/'cwd'; user.mkdir(); cwd.mkdir()
    res = hn('data', cwd=cwd, env=dict(os.environ, HOME=str(user), FASTAI_HOME='', OMP_NUM_THREADS='1'))
    assert res.returncode == 0 and res.stdout.count('verified') == 2, res.stderr
    assert f'HUMAN_NUMBERS in {user/".fastai"/"data"/"human_numbers"}' in res.stdout, res.stdout
    assert (user/'.fastai'/'config.ini').is_file() and names(cwd) == []

def test_empty_fastai_home_error_names_the_default(tmp_path):
    "When ~/.fastai can't be made, the message names it (not the current folder, nor an empty FASTAI_HOME)"
    user, cwd = tmp_path/'user', tmp_path/'cwd'; user.write_text('a file where a home folder should be'); cwd.mkdir()
    res = hn('data', cwd=cwd, env=dict(os.environ, HOME=str(user), FASTAI_HOME='', OMP_NUM_THREADS='1'))
    err = clean(res, 1)
    assert f'cannot write the HUMAN_NUMBERS files in {user/".fastai"} (' in err and 'set FASTAI_HOME' in err, err
    assert names(cwd) == []

# --- 2. config.ini.broken is never overwritten ------------------------------------------------------------------------

def test_broken_configs_are_numbered_never_overwritten(tmp_path):
    home = tmp_path/'home'; home.mkdir()
    (home/'config.ini.broken').write_text('an earlier broken one')
    for n, garbage in [(1, 'garbage one'), (2, '\x00garbage two')]:
        (home/'config.ini').write_text(garbage)
        res = data(home)
        assert res.returncode == 0 and res.stdout.count('verified') == 2, res.stderr
        assert f'was unreadable; rewrote it with fastai\'s defaults (the old one is in config.ini.broken.{n})' in res.stderr, res.stderr
        assert (home/f'config.ini.broken.{n}').read_text() == garbage
    assert (home/'config.ini.broken').read_text() == 'an earlier broken one'
    assert names(home) == ['config.ini', 'config.ini.broken', 'config.ini.broken.1', 'config.ini.broken.2', 'data']

# --- 3. only fastai's own config.ini is repaired ----------------------------------------------------------------------

@pytest.mark.parametrize('text', ['[server]\nhost = example.org\nport = 8080\n', '[DEFAULT]\ncolor = blue\n', '# my notes\n'])
def test_another_programs_config_is_left_alone(tmp_path, text):
    home = tmp_path/'home'; home.mkdir(); cfg = home/'config.ini'
    cfg.write_text(text)
    err = clean(data(home), 1)
    assert f"humannums data: error: {cfg} holds none of fastai's settings (data, archive, storage, model), so it is not " \
           "fastai's config.ini and is left alone: set FASTAI_HOME to another folder, or move that file away" in err, err
    assert cfg.read_text() == text and names(home) == ['config.ini']

@pytest.mark.parametrize('text, said', [('  \n\t\n', 'was empty; rewrote it'), ('[DEFAULT]\narchive = archive\n', 'was unreadable; rewrote it')])
def test_fastai_configs_are_still_repaired(tmp_path, text, said):
    "A blank file (a full disk) and a fastai file without its `data` entry are fastai's: repaired, not refused"
    home = tmp_path/'home'; home.mkdir()
    (home/'config.ini').write_text(text)
    res = data(home)
    assert res.returncode == 0 and said in res.stderr and 'data = data' in (home/'config.ini').read_text(), res.stderr

# --- 4. config.ini with the umask's permissions -----------------------------------------------------------------------

@pytest.mark.parametrize('mask', [0o022, 0o027])
def test_config_ini_gets_the_umask_permissions(run_py, tmp_path, mask):
    home = tmp_path/'home'
    run_py(f'import os; os.umask({mask:#o}); from humannums.files import fastai_data_dir; fastai_data_dir()', home=home)
    assert stat.S_IMODE((home/'config.ini').stat().st_mode) == 0o666 & ~mask
    assert names(home) == ['config.ini']

# --- 5. a full disk leaves no temp file -------------------------------------------------------------------------------

def test_full_disk_leaves_no_config_temp_file(tmpfs):
    mnt = tmpfs('size=64k')
    home = mnt/'home'; home.mkdir()
    (mnt/'filler').write_bytes(b'\0' * shutil.disk_usage(mnt).free)  # not a byte left
    for _ in range(2):  # every attempt used to leave one more
        err = clean(data(home), 1)
        assert f'cannot write the HUMAN_NUMBERS files in {home} (No space left on device)' in err, err
        assert names(home) == []

# --- 6. SIGTERM or SIGHUP during a save -------------------------------------------------------------------------------

KILLED_DURING_SAVE = '''
import os, signal, sys, time
signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as in a terminal, whatever ran the test
from humannums.files import atomic_write
target, ready = sys.argv[1], sys.argv[2]
def slow(tmp):
    with open(tmp, 'wb') as f: f.write(b'half a model')
    open(ready, 'w').close()  # under way: kill me now
    while True: time.sleep(0.01)
atomic_write(target, slow)
'''

@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_during_a_save_leaves_no_temp_file(tmp_path, sig):
    out, ready = tmp_path/'out', tmp_path/'ready'; out.mkdir()
    (out/'m.pth').write_bytes(b'the old model')
    p = subprocess.Popen([sys.executable, '-c', KILLED_DURING_SAVE, str(out/'m.pth'), str(ready)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300  # only a safety net against a hang
    while not ready.exists():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, 'the save never started'
        time.sleep(0.02)
    assert len(list(out.glob('.m.pth.*.tmp'))) == 1  # the half-written temp file is there...
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    assert p.returncode == -sig, (p.returncode, err)  # ...the process still dies of the signal...
    assert 'Traceback' not in err, err
    assert names(out) == ['m.pth'] and (out/'m.pth').read_bytes() == b'the old model'  # ...and the temp file is gone

def test_a_save_restores_the_signal_handlers_and_works_in_a_thread(tmp_path):
    from humannums.files import atomic_write_bytes
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    atomic_write_bytes(tmp_path/'a.bin', b'1')
    assert {s: signal.getsignal(s) for s in before} == before
    errors = []
    def save():
        try: atomic_write_bytes(tmp_path/'b.bin', b'2')
        except BaseException as e: errors.append(e)
    t = threading.Thread(target=save); t.start(); t.join()
    assert errors == [] and (tmp_path/'b.bin').read_bytes() == b'2' and names(tmp_path) == ['a.bin', 'b.bin']

# --- 7. write-protected and private files -----------------------------------------------------------------------------

def test_out_never_replaces_a_write_protected_model(model_file, tmp_path):
    m = tmp_path/f'm{model_file.suffix}'; shutil.copy(model_file, m); os.chmod(m, 0o444)
    before = m.read_bytes()
    err = clean(hn('train', 'rnn1', '--epochs', '1', '--out', m), 1)
    assert f'{m} is write-protected; humannums replaces only files you may write (as cp without -f): make it writable ' \
           'or give another path' in err, err
    assert m.read_bytes() == before and stat.S_IMODE(m.stat().st_mode) == 0o444 and names(tmp_path) == [m.name]

def test_check_target_refuses_a_write_protected_file(tmp_path):
    from humannums.files import check_target
    f = tmp_path/'m.pth'; f.write_bytes(b'x'); os.chmod(f, 0o555)  # no owner write bit: refused even for root
    with pytest.raises(PermissionError, match='m.pth is write-protected; humannums replaces only files you may write'):
        check_target(f, ours=lambda p: True)
    os.chmod(f, 0o644)
    assert check_target(f, ours=lambda p: True) == f

def test_atomic_write_keeps_the_mode_of_a_file_it_replaces(tmp_path):
    from humannums.files import atomic_write_bytes
    private = tmp_path/'private.pth'; private.write_bytes(b'old'); os.chmod(private, 0o600)
    atomic_write_bytes(private, b'new')
    assert private.read_bytes() == b'new' and stat.S_IMODE(private.stat().st_mode) == 0o600
    atomic_write_bytes(tmp_path/'new.pth', b'new')
    assert stat.S_IMODE((tmp_path/'new.pth').stat().st_mode) == 0o666 & ~umask()

# --- 8. a damaged data file is rewritten with a warning ---------------------------------------------------------------

def test_data_warns_when_it_rewrites_a_damaged_file(tmp_path):
    home = tmp_path/'home'; folder = home/'data'/'human_numbers'
    res = data(home)
    assert res.returncode == 0 and 'warning' not in res.stderr, res.stderr  # written for the first time: silently
    train = folder/'train.txt'; good = train.read_bytes()
    train.write_bytes(good[:100] + b'X' + good[101:])  # one byte changed, same size
    res = data(home)
    assert res.returncode == 0, res.stderr
    assert f'humannums data: warning: train.txt in {folder} did not match its pinned size and SHA-256; rewrote it' in res.stderr, res.stderr
    assert 'valid.txt' not in res.stderr and train.read_bytes() == good
    (folder/'valid.txt').unlink()  # missing: written again without a warning
    res = data(home)
    assert res.returncode == 0 and 'warning' not in res.stderr, res.stderr
    assert hashlib.sha256((folder/'valid.txt').read_bytes()).hexdigest() == '3a3e30cd8eddcd27477ef232bd07bc5d12b34b1ceec6295c607f0faff793ed5e'
