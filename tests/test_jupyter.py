"""The notebooks in real Jupyter: executed by a Jupyter kernel (nbclient + the .venv's ipykernel, as `make notebooks`
and JupyterLab run them) they print the figures that `make test`'s way (execnb's CaptureShell, as nbdev_test) prints
on the same machine; and `make lab` serves them to a real browser, headless Chromium, with the .venv's kernel."""
import json, os, re, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from html.parser import HTMLParser
from pathlib import Path
import pytest
from conftest import ROOT

NBS = ['03_rnn.ipynb', '13_inference.ipynb']  # a short model notebook and the inference one
VENV_BIN = ROOT/'.venv'/'bin'

def run_nbs(*args):
    return subprocess.run([sys.executable, str(ROOT/'tools'/'run_nbs.py'), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800)

@pytest.fixture(scope='module')
def executed(tmp_path_factory):
    "NBS executed both ways, one notebook at a time, one torch thread: {engine: folder of executed copies}"
    outs = {e: tmp_path_factory.mktemp(e) for e in ('execnb', 'jupyter')}
    procs = {e: subprocess.Popen([sys.executable, str(ROOT/'tools'/'run_nbs.py'), '--engine', e, '--jobs', '1', '--out', str(out),
                                  *(str(ROOT/'nbs'/n) for n in NBS)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for e, out in outs.items()}  # side by side, one core each (one torch thread each)
    for e, proc in procs.items():
        out, err = proc.communicate(timeout=1800)
        assert proc.returncode == 0, f'{e}:\n{out}\n{err[-5000:]}'
    return outs

_NOISE = [(re.compile(r'\b0x[0-9a-fA-F]{6,}\b'), '0x?'),                                   # object addresses
          (re.compile(re.escape(tempfile.gettempdir()) + r'/[^\s\'",)\]]+'), '<tmp>'),  # temporary paths
          (re.compile(r'\b\d+(\.\d+)?\s?(s|ms|µs|us|sec|seconds)\b'), '<time>'),      # timings
          (re.compile(r'\b\d{1,2}:\d{2}(:\d{2})?\b'), '<time>')]

_HTML_ROW = re.compile(r'<tr>((?:<td>[^<]*</td>)+)</tr>')
_TEXT_ROW = re.compile(r'(?:^|\r)(\d+)((?: +-?\d+\.\d+)+) +\d{2}:\d{2} *$', re.M)

def fit_table(t:str):
    """fastai's training table as rows of numbers, whichever way fastprogress drew it: an HTML table in a Jupyter
    kernel, lines of console text in nbdev_test's shell (which is not a notebook to fastprogress); None if `t` has none"""
    if 'class="fastprogress"' in t:
        rows = [re.findall(r'<td>([^<]*)</td>', r) for r in _HTML_ROW.findall(t)]
        return [r[:-1] for r in rows]  # the last column is the time
    if 'train_loss' in t and (rows := _TEXT_ROW.findall(t)): return [[e, *v.split()] for e, v in rows]

def figures(nb_path:Path) -> dict:
    """What a reader reads of each code cell: its text outputs (printed text, errors, and results and displays as
    JupyterLab shows them: HTML where there is some, as for tables, else plain text). A table's plain text is not
    compared: pandas lays it out for the width of the console it guesses, which differs between the two shells.
    fastai's training table is compared by its numbers: a kernel draws it as HTML, nbdev_test's shell as text."""
    res = {}
    for c in json.loads(nb_path.read_text())['cells']:
        if c['cell_type'] != 'code': continue
        texts = []
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if o['output_type'] == 'stream': t = f"{o['name']}: {''.join(o['text'])}"
            elif o['output_type'] == 'error': t = f"error: {o['ename']}: {o['evalue']}"
            else: t = ''.join(data.get('text/html') or data.get('text/plain', ''))
            if (table := fit_table(t)) is not None: texts.append(f'fit table: {table}'); continue
            if '<style>' in t and 'progress' in t and '<table' not in t: continue  # fastprogress's style sheet (Jupyter only)
            for pat, rep in _NOISE: t = pat.sub(rep, t)
            texts.append(t)
        res[c['id']] = texts
    return res

@pytest.mark.parametrize('name', NBS)
def test_jupyter_kernel_gives_make_test_figures(executed, name):
    "Same cells, same text outputs, in a real kernel as in nbdev_test's shell (so a reader in JupyterLab sees the pages' figures)"
    sources = lambda engine: [c['source'] for c in json.loads((executed[engine]/name).read_text())['cells']]
    assert sources('execnb') == sources('jupyter'), f'nbs/{name} was edited while this test ran it: run the test again'
    a, b = figures(executed['execnb']/name), figures(executed['jupyter']/name)
    assert list(a) == list(b)
    assert sum(map(len, b.values())) >= 5, f'{name}: too few outputs to compare'
    for cid in a: assert b[cid] == a[cid], f'{name}, cell {cid}: the Jupyter kernel printed\n{b[cid]}\nnbdev_test printed\n{a[cid]}'
    nb = json.loads((executed['jupyter']/name).read_text())
    assert nb['metadata']['kernelspec']['name'] == 'python3'
    assert not [o for c in nb['cells'] for o in c.get('outputs', []) if o['output_type'] == 'error']

def test_kernel_is_the_venv_python(tmp_path):
    "The notebooks' kernel `python3`, started by this environment's Jupyter, is this environment's python, one torch thread"
    nb = tmp_path/'k.ipynb'
    cells = [dict(cell_type='code', id='c0', metadata={}, outputs=[], execution_count=None,
                  source='import sys, torch; print(sys.executable, torch.get_num_threads())')]
    nb.write_text(json.dumps(dict(cells=cells, nbformat=4, nbformat_minor=5,
                                  metadata=dict(kernelspec=dict(name='python3', display_name='python3', language='python')))))
    res = run_nbs('--out', tmp_path/'out', nb)
    assert res.returncode == 0, res.stderr
    out = json.loads((tmp_path/'out'/'k.ipynb').read_text())['cells'][0]['outputs']
    exe, threads = ''.join(out[0]['text']).split()
    assert Path(exe).parent == Path(sys.executable).parent and threads == '1'

# --- `make lab` in a real browser -------------------------------------------------------------------------------

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic']

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r: return json.loads(r.read())

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "`make lab`, headless, on a free port with a token; stopped (its whole process group) whatever happens"
    d = tmp_path_factory.mktemp('lab')
    port, token = _free_port(), secrets.token_hex(16)
    args = [f'--no-browser', '--ServerApp.ip=127.0.0.1', f'--port={port}', '--ServerApp.port_retries=0',
            f'--IdentityProvider.token={token}', f'--LabApp.workspaces_dir={d/"ws"}', f'--LabApp.user_settings_dir={d/"settings"}',
            '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--LabApp.extension_manager=readonly']
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(d/'config'), JUPYTER_RUNTIME_DIR=str(d/'runtime'))
    log = open(d/'server.log', 'w')
    # -o: use the .venv as it is (never reinstall from a test)
    proc = subprocess.Popen(['make', '-s', '-o', '.venv/.installed', 'lab', f'LAB_ARGS={" ".join(args)}'], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, f'make lab exited ({proc.returncode}):\n{(d/"server.log").read_text()[-3000:]}'
            try: _get(f'{base}/api/status?token={token}'); break
            except OSError:
                assert time.time() < deadline, f'JupyterLab did not answer in 120 s:\n{(d/"server.log").read_text()[-3000:]}'
                time.sleep(0.5)
        yield dict(base=base, token=token, pid=proc.pid, dir=d)
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL); proc.wait(30)
        log.close()

class _LabText(HTMLParser):
    "Text of the rendered markdown headings and of the output areas of a JupyterLab page"
    def __init__(self):
        super().__init__(); self.stack, self.headings, self.outputs = [], [], []
    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get('class') or ''
        kind = 'out' if 'jp-OutputArea-output' in cls.split() else 'h1' if tag == 'h1' else None
        if tag in ('br', 'img', 'input', 'meta', 'link', 'hr', 'wbr', 'col', 'source'): return
        self.stack.append(kind)
        if kind == 'out': self.outputs.append('')
        if kind == 'h1': self.headings.append('')
    def handle_endtag(self, tag):
        if self.stack: self.stack.pop()
    def handle_data(self, data):
        if 'out' in self.stack: self.outputs[-1] += data
        elif 'h1' in self.stack: self.headings[-1] += data

@pytest.mark.skipif(not CHROMIUM, reason='Chromium not installed (.ci/run installs it)')
def test_lab_shows_notebook_in_chromium(lab, tmp_path):
    "A reader's view: the notebook's title and its stored outputs rendered by JupyterLab, and a kernel from the .venv"
    name = '03_rnn.ipynb'
    cells = json.loads((ROOT/'nbs'/name).read_text())['cells']
    title = ''.join(cells[0]['source']).splitlines()[0].lstrip('# ').strip()
    shown = next(''.join(o['data']['text/plain']) for c in cells if c['cell_type'] == 'code' for o in c.get('outputs', [])
                 if o['output_type'] == 'execute_result' and 'text/markdown' not in o['data'] and '\n' not in ''.join(o['data']['text/plain']))
    url = f'{lab["base"]}/lab/tree/{name}?token={lab["token"]}&reset'
    for budget in (30_000, 90_000):  # virtual time for the app's scripts to load and render; more on a busy machine
        dom = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={tmp_path/"profile"}', '--window-size=1280,2000',
                              f'--virtual-time-budget={budget}', '--dump-dom', url], capture_output=True, text=True, timeout=300).stdout
        p = _LabText(); p.feed(dom)
        if any(shown in o for o in p.outputs): break
    assert f'<title>{name} - JupyterLab</title>' in dom
    assert title in [h.replace('¶', '').strip() for h in p.headings], p.headings
    assert any(shown in o for o in p.outputs), f'{shown!r} not in the rendered outputs: {p.outputs[:5]}'
    # opening the notebook started its kernel, `python3`: the .venv's python
    deadline, kernels = time.time() + 60, []
    while time.time() < deadline and not kernels:
        kernels = _get(f'{lab["base"]}/api/kernels?token={lab["token"]}'); time.sleep(0.5)
    assert [k['name'] for k in kernels] == ['python3']
    import psutil
    procs = [c for c in psutil.Process(lab['pid']).children(recursive=True) if 'ipykernel_launcher' in c.cmdline()]
    assert procs and all(Path(c.cmdline()[0]).parent == VENV_BIN for c in procs), [c.cmdline() for c in procs]

def test_lab_offers_the_project_kernel(lab):
    "`make lab` installed the `humannums` kernel into .venv, running the .venv's python"
    specs = _get(f'{lab["base"]}/api/kernelspecs?token={lab["token"]}')['kernelspecs']
    assert {'humannums', 'python3'} <= set(specs)
    assert Path(specs['humannums']['spec']['argv'][0]) == VENV_BIN/'python'

# --- opening and saving in JupyterLab (issue #37) ------------------------------------------------------------------

def _lab_dom(lab, name, profile, budget):
    url = f'{lab["base"]}/lab/tree/{name}?token={lab["token"]}&reset'
    return subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={profile}', '--window-size=1280,2000',
                           f'--virtual-time-budget={budget}', '--dump-dom', url], capture_output=True, text=True, timeout=300).stdout

@pytest.mark.skipif(not CHROMIUM, reason='Chromium not installed (.ci/run installs it)')
@pytest.mark.parametrize('name', ['01_learner.ipynb', '05_more_signal.ipynb'])
def test_opening_a_notebook_leaves_it_unchanged(lab, tmp_path, name):
    """Opened in JupyterLab, a notebook's tab shows no unsaved change once its kernel is ready: JupyterLab finds the
    kernel name and language information it would write already stored, so closing the tab asks nothing"""
    before = (ROOT/'nbs'/name).read_bytes()
    for budget in (30_000, 90_000, 180_000):  # virtual time for the app to load and the kernel to start; more on a busy machine
        dom = _lab_dom(lab, name, tmp_path/f'profile{budget}', budget)
        status = re.findall(r'jp-Notebook-ExecutionIndicator[^>]*data-status="(\w+)"', dom)
        if 'idle' in status: break
    assert 'idle' in status, f'the kernel never became ready: {status}'  # by then JupyterLab has written what it would
    tabs = [t for t in re.findall(rf'<li[^>]*title="Name: {re.escape(name)}[^"]*"[^>]*>', dom) if 'lm-TabBar-tab' in t]
    assert len(tabs) == 1, f'{len(tabs)} tabs for the notebook'  # (the file browser lists it too, in another kind of item)
    assert 'jp-mod-dirty' not in tabs[0], tabs[0]
    assert (ROOT/'nbs'/name).read_bytes() == before

def test_a_save_from_jupyterlab_is_cleaned(lab):
    """A notebook saved through `make lab`'s server, as JupyterLab saves it, with what a session adds (the kernel's
    own display name, a cell's execution times), is written as nbdev_clean writes it: the same bytes as the file read"""
    api, name = f'{lab["base"]}/api/contents', 'zz_save_check.ipynb'
    model = _get(f'{api}/03_rnn.ipynb?content=1&token={lab["token"]}')
    nb = model['content']
    nb['metadata']['kernelspec']['display_name'] = 'Python 3 (ipykernel)'
    code = next(c for c in nb['cells'] if c['cell_type'] == 'code')
    code['metadata']['execution'] = {'iopub.status.busy': '2026-01-01T00:00:00.000000Z'}
    req = urllib.request.Request(f'{api}/{name}?token={lab["token"]}', method='PUT', headers={'Content-Type': 'application/json'},
                                 data=json.dumps(dict(type='notebook', format='json', content=nb)).encode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r: assert r.status in (200, 201)
        assert (ROOT/'nbs'/name).read_bytes() == (ROOT/'nbs'/'03_rnn.ipynb').read_bytes()
    finally:
        (ROOT/'nbs'/name).unlink(missing_ok=True)
        (ROOT/'nbs'/'.ipynb_checkpoints'/name.replace('.ipynb', '-checkpoint.ipynb')).unlink(missing_ok=True)  # the server's checkpoint of it
