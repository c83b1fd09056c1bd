"Project-level checks: README generated from index.ipynb, version in sync, modules importable."
import configparser, importlib, json, runpy, sys
from pathlib import Path
from conftest import ROOT

def _nb2md():
    return runpy.run_path(str(ROOT/'tools'/'nb2md.py'))['nb2md']

def test_readme_up_to_date():
    "README.md is what tools/nb2md.py renders from nbs/index.ipynb (run `make export` to refresh it)"
    assert (ROOT/'README.md').read_text() == _nb2md()(ROOT/'nbs'/'index.ipynb')

def test_readme_quick_start_two_commands():
    lines = (ROOT/'README.md').read_text().split('```sh\n', 1)[1].split('```', 1)[0].strip().splitlines()
    assert [l.split('#')[0].strip() for l in lines] == ['make reproduce', 'make test']

def test_nb2md_honours_cell_options(tmp_path):
    cells = [dict(cell_type='markdown', metadata={}, source='# Title'),
             dict(cell_type='code', metadata={}, source='#| hide\nsecret_hidden = 1', outputs=[], execution_count=None),
             dict(cell_type='code', metadata={}, source='#| echo: false\nsecret_echo = 2', execution_count=1,
                  outputs=[dict(output_type='execute_result', data={'text/plain': 'shown_output'}, metadata={}, execution_count=1)]),
             dict(cell_type='code', metadata={}, source='#| output: false\nvisible_code = 3', execution_count=2,
                  outputs=[dict(output_type='stream', name='stdout', text='secret_output')]),
             dict(cell_type='code', metadata={}, source='#| include: false\nsecret_include = 4', outputs=[], execution_count=None)]
    nb = tmp_path/'t.ipynb'
    nb.write_text(json.dumps(dict(cells=cells, metadata={}, nbformat=4, nbformat_minor=5)))
    md = _nb2md()(nb)
    assert '# Title' in md and 'shown_output' in md and 'visible_code' in md
    for secret in ('secret_hidden', 'secret_echo', 'secret_output', 'secret_include', '#|'): assert secret not in md

def test_version_matches_settings():
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    import humannums
    assert humannums.__version__ == cfg['DEFAULT']['version']

def test_every_notebook_module_exists():
    "One notebook -> one module: every numbered notebook exports the module named by its default_exp"
    for nb in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')):
        src = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'])
        mod = src.split('#| default_exp ', 1)[1].split()[0]
        importlib.import_module(f'humannums.{mod}')
        assert (ROOT/'humannums'/f'{mod}.py').exists(), nb.name

def test_constraints_pin_cpu_torch():
    pins = (ROOT/'constraints.txt').read_text()
    assert 'torch==2.13.0' in pins.splitlines()

def test_readme_and_docs_share_one_converter():
    "tools/nb2md.py (the README) is the docs converter of tools/build_docs.py in its README mode, not a second parser"
    g = runpy.run_path(str(ROOT/'tools'/'nb2md.py'))
    assert g['notebook_markdown'].__module__ == 'build_docs' and '_opts' not in g and '_DIRECTIVE' not in g

def test_package_metadata(tmp_path):
    "The wheel pip builds from this tree: Apache-2.0 with its LICENSE file, the description, the `humannums` console script"
    import shutil, subprocess, sys, zipfile
    src = tmp_path/'src'; src.mkdir()
    for f in ('setup.py', 'settings.ini', 'MANIFEST.in', 'LICENSE', 'README.md'): shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'humannums', src/'humannums', ignore=shutil.ignore_patterns('__pycache__'))
    res = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '--no-index',
                          '-w', str(tmp_path/'dist'), str(src)], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    whl, = (tmp_path/'dist').glob('humannums-*.whl')
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        read = lambda end: z.read(next(n for n in names if n.endswith(end))).decode()
        meta, eps = read('.dist-info/METADATA'), read('.dist-info/entry_points.txt')
        licence = [z.read(n).decode() for n in names if n.rsplit('/', 1)[-1] == 'LICENSE']
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    assert 'License: Apache Software License 2.0' in meta and 'Classifier: License :: OSI Approved :: Apache Software License' in meta
    assert f"Summary: {cfg['DEFAULT']['description']}" in meta
    assert len(licence) == 1 and 'Apache License' in licence[0] and 'Version 2.0' in licence[0], names
    assert 'humannums = humannums.cli:main' in eps
    assert any(n == 'humannums/cli.py' for n in names) and not any('nbs/' in n or n.startswith('tests/') for n in names)

def test_fastai_event_dispatch_is_the_one_leanlearner_replaces():
    """`LeanLearner` (17_lean) re-implements fastai's `Learner.__call__` and `Learner._call_one` and relies on
    `Callback.__call__`. If a fastai release changes any of them, this fails: read the new code, and drop `LeanLearner` (make `make_learner` return a plain
    `Learner`) if fastai's dispatch now does per-event work that `LeanLearner` would skip; else update the hashes."""
    import hashlib, inspect
    from fastai.learner import Learner
    from fastai.callback.core import Callback
    got = {f.__qualname__: hashlib.sha256(inspect.getsource(f).encode()).hexdigest()[:16] for f in (Learner.__call__, Learner._call_one, Callback.__call__)}
    assert got == {'Learner.__call__': 'a4e165c6fb366bb9', 'Learner._call_one': 'e30949028df13e88', 'Callback.__call__': '0920595b5310a3a4'}, got

def test_fastai_functions_leanlearner_copies():
    """`LeanLearner.fit_one_cycle` is fastai's `fit_one_cycle` with `_combined_cos` (fastai's `combine_scheds`/`combined_cos` in
    NumPy float32: fastai's `tensor` makes its positions float32), its metrics setter is fastai's with `_accuracy` (fastai's
    `accuracy`/`flatten_check` on plain tensors).
    If a fastai release changes any of these, this fails: carry the change over to 17_lean (its checks compare values), then update the hashes."""
    import hashlib, inspect
    from fastai.learner import Learner
    from fastai.callback.schedule import combine_scheds, combined_cos
    from fastai.metrics import accuracy
    from fastai.torch_core import flatten_check, tensor
    fs = dict(fit_one_cycle=Learner.fit_one_cycle, combine_scheds=combine_scheds, combined_cos=combined_cos, tensor=tensor,
              accuracy=accuracy, flatten_check=flatten_check, metrics_setter=Learner.metrics.fset)
    got = {k: hashlib.sha256(inspect.getsource(f).encode()).hexdigest()[:16] for k, f in fs.items()}
    assert got == {'fit_one_cycle': 'e2ea8084f0fe6b50', 'combine_scheds': '348105aef23f87d3', 'combined_cos': '1d1e3b4097434989', 'tensor': '384e140bca217e43',
                   'accuracy': 'aa6585ab0b327931', 'flatten_check': 'fb40c935038c8fa5', 'metrics_setter': 'b7189e063f996294'}, got

def _figures_without_caption(nb:Path) -> list[str]:
    "Figures of notebook `nb` (a plotted output, or a drawn `![...](images/...)`) with no '*Figure: ...*' caption right after them"
    cells, missing = json.loads(nb.read_text())['cells'], []
    for i, c in enumerate(cells):
        src = ''.join(c['source'])
        if c['cell_type'] == 'code' and any('image/png' in o.get('data', {}) for o in c.get('outputs', [])):
            nxt = cells[i+1] if i + 1 < len(cells) else None
            if not (nxt and nxt['cell_type'] == 'markdown' and ''.join(nxt['source']).lstrip().startswith('*Figure:')):
                missing.append(f"{nb.name} cell {c.get('id')}: a plot with no caption cell after it")
        if c['cell_type'] == 'markdown':
            for part in src.split('![')[1:]:  # each drawing, up to the next one
                if '](images/' in part and '*Figure:' not in part:
                    missing.append(f"{nb.name} cell {c.get('id')}: a drawing with no caption below it")
    return missing

def test_every_figure_has_a_caption():
    "Every figure of the series, plotted or drawn, is followed by a visible caption that says what to look at"
    missing = [m for nb in sorted((ROOT/'nbs').glob('*.ipynb')) for m in _figures_without_caption(nb)]
    assert not missing, '\n'.join(missing)

def test_figure_caption_check_can_fail(tmp_path):
    cells = [dict(cell_type='code', metadata={}, source='plot()', execution_count=1, id='p',
                  outputs=[dict(output_type='display_data', data={'image/png': 'AAAA'}, metadata={})]),
             dict(cell_type='markdown', metadata={}, source='Some text, no caption', id='m'),
             dict(cell_type='markdown', metadata={}, source='![a drawing](images/x.svg)\n\nNo caption.', id='d')]
    nb = tmp_path/'t.ipynb'
    nb.write_text(json.dumps(dict(cells=cells, metadata={}, nbformat=4, nbformat_minor=5)))
    assert len(_figures_without_caption(nb)) == 2

def _code_cells(nb:Path) -> list[str]:
    return [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']

def test_first_model_within_25_code_cells():
    "The learner's path: the first model's class comes within 25 code cells of the top of 00 (hidden ones counted)"
    cells = _code_cells(ROOT/'nbs'/'00_data.ipynb') + _code_cells(ROOT/'nbs'/'01_learner.ipynb')
    first = next(i for i, s in enumerate(cells, 1) if s.lstrip().startswith('class ') and '(Module)' in s.split('\n')[0])
    assert first <= 25, first

MACHINERY = ('atomic', 'fifo', 'symlink', 'symbolic link', 'config.ini', 'thread', 'leanlearner', 'tensordl', 'check_target')

def test_reader_questions_stay_off_the_machinery():
    "Questions of 00-11 never quiz file safety, fastai internals or threads: those are for 15-17"
    found = []
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        if not nb.name[:2].isdigit() or int(nb.name[:2]) > 11: continue
        for c in json.loads(nb.read_text())['cells']:
            s = ''.join(c['source'])
            if c['cell_type'] == 'markdown' and '## Questionnaire' in s:
                found += [f'{nb.name}: {w}' for w in MACHINERY if w in s.lower()]
    assert not found, found


def test_zoo_is_the_registry_and_the_side_by_side_page():
    "zoo.py keeps the registry and what 12 shows side by side; the runner, the report and the trained-model cache have their own modules (19-21)"
    lines = (ROOT/'humannums'/'zoo.py').read_text().splitlines()
    assert len(lines) <= 200, len(lines)
    import humannums.zoo as zoo
    assert not {'run_all', 'reproduce', 'trained', 'write_report'} & set(zoo.__all__)
