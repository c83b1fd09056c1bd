"tools/run_nbs.py (`make notebooks`, and the benchmark's series timing): executes notebooks side by side, safely."
import json, subprocess, sys
import pytest
from conftest import ROOT

ENGINES = ['jupyter', 'execnb']  # a real Jupyter kernel (default, `make notebooks`), nbdev_test's CaptureShell

def run_nbs(*args):
    return subprocess.run([sys.executable, str(ROOT/'tools'/'run_nbs.py'), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)

def _nb(path, *sources):
    cells = [dict(cell_type='code', id=f'c{i}', metadata={}, source=s, outputs=[], execution_count=None)
             for i, s in enumerate(sources)]
    path.write_text(json.dumps(dict(cells=cells, metadata={}, nbformat=4, nbformat_minor=5)))
    return path

@pytest.mark.parametrize('engine', ENGINES)
def test_executes_in_parallel_with_one_thread(tmp_path, engine):
    "Outputs kept, one torch thread per notebook, and each notebook's `nbdev_export()` cell skipped"
    a = _nb(tmp_path/'a.ipynb', 'import torch; torch.get_num_threads()', 'import nbdev; nbdev.nbdev_export()')
    b = _nb(tmp_path/'b.ipynb', '6 * 7')
    res = run_nbs('--out', tmp_path/'out', '--jobs', 2, '--engine', engine, a, b)
    assert res.returncode == 0, res.stderr
    assert f'with 2 at a time ({engine})' in res.stdout
    out_a = json.loads((tmp_path/'out'/'a.ipynb').read_text())['cells']
    text = lambda cell: ''.join(cell['outputs'][0]['data']['text/plain'])
    assert text(out_a[0]) == '1'
    assert out_a[1]['outputs'] == [] and out_a[1]['execution_count'] is None
    assert text(json.loads((tmp_path/'out'/'b.ipynb').read_text())['cells'][0]) == '42'

def test_kernels_started_together_never_share_a_port(tmp_path):
    """Kernels talk over Unix sockets in folders of their own: over TCP, two kernels starting at the same moment
    sometimes picked the same free port and one died before replying ("Address already in use", seen in CI)"""
    nbs = [_nb(tmp_path/f'k{i}.ipynb', 'from ipykernel.kernelapp import IPKernelApp; IPKernelApp.instance().transport')
           for i in range(6)]
    res = run_nbs('--out', tmp_path/'out', '--jobs', 2, *nbs)
    assert res.returncode == 0, res.stderr
    for f in nbs:
        out = json.loads((tmp_path/'out'/f.name).read_text())['cells'][0]['outputs']
        assert ''.join(out[0]['data']['text/plain']) == "'ipc'"

@pytest.mark.parametrize('engine', ENGINES)
def test_failure_names_the_notebook(tmp_path, engine):
    ok, bad = _nb(tmp_path/'ok.ipynb', '1'), _nb(tmp_path/'bad.ipynb', '1/0', 'print("after the error")')
    res = run_nbs('--out', tmp_path/'out', '--engine', engine, ok, bad)
    assert res.returncode == 1
    assert 'ZeroDivisionError' in res.stderr and 'failed: bad.ipynb' in res.stderr
    assert 'after the error' not in res.stdout + res.stderr  # stops at the first error
    assert (tmp_path/'out'/'ok.ipynb').exists() and not (tmp_path/'out'/'bad.ipynb').exists()

def test_bad_arguments(tmp_path):
    res = run_nbs('--jobs', 0)
    assert res.returncode == 2 and '--jobs must be at least 1, got 0' in res.stderr
    res = run_nbs('--out', tmp_path, tmp_path/'nope.ipynb')
    assert res.returncode == 2 and 'no such notebook' in res.stderr and 'nope.ipynb' in res.stderr
    res = run_nbs('--engine', 'papermill')
    assert res.returncode == 2 and "invalid choice: 'papermill'" in res.stderr
