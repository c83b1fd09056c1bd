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
