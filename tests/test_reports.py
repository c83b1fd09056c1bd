"""The reproduce report is replaced only while it is as humannums wrote it (issue #34, round three), a write-protected
report folder is left alone, a report folder needs a name, and a Ctrl-C while the workers start prints no traceback."""
import os, signal, subprocess, time
from pathlib import Path
import pytest
from conftest import EXE, hn, clean

@pytest.fixture(scope='module')
def report(tmp_path_factory):
    "A one-run report written by the console script (copy it before changing it)"
    out = tmp_path_factory.mktemp('rep')/'rep'
    res = hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', out)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ['accuracy.png', 'curves.csv', 'manifest.json', 'report.md', 'results.csv']
    return out

def copy_of(report, tmp_path):
    import shutil
    return Path(shutil.copytree(report, tmp_path/'rep'))

@pytest.mark.parametrize('file,text', [('report.md', '\n## My notes\n\nThese runs were for my thesis.\n'), ('results.csv', 'my,own\n1,2\n')])
def test_an_edited_report_is_not_replaced(report, tmp_path, file, text):
    rep = copy_of(report, tmp_path)
    if file == 'report.md':
        with open(rep/file, 'a') as f: f.write(text)
    else: (rep/file).write_text(text)
    before = {p.name: p.read_bytes() for p in rep.iterdir()}
    err = clean(hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', rep), 1)
    assert f"but {file} changed since humannums wrote it" in err, err
    assert {p.name: p.read_bytes() for p in rep.iterdir()} == before

def test_an_unedited_report_is_replaced(report, tmp_path):
    rep = copy_of(report, tmp_path)
    res = hn('reproduce', '--models', 'rnn2', '--seeds', '1', '--out', rep)
    assert res.returncode == 0 and '| rnn2 |' in (rep/'report.md').read_text(), res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['rep', 'runs']  # nothing left beside it but the kept models

def test_a_write_protected_report_folder_is_left_alone(report, tmp_path):
    rep = copy_of(report, tmp_path)
    os.chmod(rep, 0o555)
    try:
        err = clean(hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', rep), 1)
        assert 'is write-protected: make it writable, or give another folder for the report' in err, err
        assert sorted(p.name for p in tmp_path.iterdir()) == ['rep']  # no .rep.old-PID left behind
    finally: os.chmod(rep, 0o755)

@pytest.mark.parametrize('out', ['.', '..'])
def test_a_report_folder_needs_a_name(tmp_path, out):
    (tmp_path/'sub').mkdir()
    res = hn('reproduce', '--models', 'rnn1', '--seeds', '1', '--out', out, cwd=tmp_path/'sub')
    assert res.returncode in (1, 2) and 'Traceback' not in res.stderr and 'needs a name' in res.stderr, res.stderr
    assert list((tmp_path/'sub').iterdir()) == []

def _children(pid):
    "Process ids whose parent is `pid`"
    kids = []
    for p in Path('/proc').iterdir():
        if p.name.isdigit():
            try: stat = (p/'stat').read_text()
            except OSError: continue
            if int(stat.rsplit(')', 1)[1].split()[1]) == pid: kids.append(int(p.name))
    return kids

def _ignores_sigint(pid) -> bool:
    "Whether process `pid` ignores SIGINT now (its SigIgn mask in /proc)"
    line = next(l for l in Path(f'/proc/{pid}/status').read_text().splitlines() if l.startswith('SigIgn:'))
    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))

def test_ctrl_c_while_the_workers_start(tmp_path):
    "Ctrl-C (SIGINT to the whole process group, as a terminal sends it) as soon as the two workers exist and the parent listens again (the workers still importing): no traceback from any"
    proc = subprocess.Popen([EXE, 'reproduce', '--models', 'rnn1', '--seeds', '2', '--jobs', '2', '--out', str(tmp_path/'rep')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    deadline = time.monotonic() + 120  # a safety net against a hang, not a duration the test relies on
    while len([k for k in _children(proc.pid) if 'spawn_main' in Path(f'/proc/{k}/cmdline').read_text(errors='replace')]) < 2 or _ignores_sigint(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, 'the workers never started'
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and 'Traceback' not in err and 'interrupted' in err, (proc.returncode, err[-3000:])
    assert not (tmp_path/'rep').exists()

# --- train once (issue #35): every model kept, progress with the time left, counting from the kept models --------

def test_reproduce_keeps_its_models_and_says_where_it_is(tmp_path):
    res = hn('reproduce', '--models', 'rnn1', 'rnn2', '--seeds', '2', '--out', tmp_path/'rep')
    assert res.returncode == 0, res.stderr
    lines = [l for l in res.stdout.splitlines() if ' seed ' in l and ': accuracy ' in l]
    assert len(lines) == 4 and [l.split('; ')[1].split(',')[0] for l in lines] == [f'run {k} of 4' for k in range(1, 5)], lines
    assert all(' elapsed, about ' in l and l.endswith(' left') for l in lines[:3]) and lines[3].endswith(' elapsed'), lines
    assert sorted(p.name for p in (tmp_path/'runs').iterdir()) == [f'{m}-seed{s}.safetensors' for m in ('rnn1', 'rnn2') for s in (0, 1)]
    assert f"the trained models are in {tmp_path/'runs'}" in res.stdout
    assert 'Ran on ' in (tmp_path/'rep'/'report.md').read_text()

def test_counting_scores_the_kept_models_as_if_trained_again(tmp_path):
    "Scoring the model a reproduce run kept gives the figures of training it again with the same seed, to the last digit"
    import torch
    torch.set_num_threads(1)
    from humannums.report import reproduce
    from humannums.counting import count_study
    reproduce(tmp_path/'rep', seeds=(0,), names=['rnn4'], keep=tmp_path/'runs', progress=None)
    kept = count_study(['rnn4'], seeds=[0], runs=tmp_path/'runs', progress=None)
    again = count_study(['rnn4'], seeds=[0], runs=None, progress=None)
    assert len(kept) == 2 and all(k.equals(a) for k, a in zip(kept, again)), (kept, again)  # the counting and the carry table
