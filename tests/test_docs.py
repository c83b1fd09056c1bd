"""The docs site: built offline from the committed notebooks, no hidden text, links and images resolve, every
exported name documented, and pages that render in headless Chromium."""
import importlib, json, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path
import pytest
from conftest import ROOT

SITE = ROOT/'_docs'

@pytest.fixture(scope='module')
def site():
    res = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py')], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return SITE

def _pages(site): return sorted(site.glob('*.html'))

class _Refs(HTMLParser):
    def __init__(self): super().__init__(); self.refs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('href', 'src') and v: self.refs.append(v)

def test_every_notebook_has_a_page(site):
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        assert (site/f'{nb.stem}.html').exists(), nb.name

def test_no_hidden_cell_leaks(site):
    "No line of a hidden cell (or export boilerplate) appears in any page"
    secrets = {'nbdev.nbdev_export()', 'from fastcore.test import test_eq', '#| hide', '#| export', 'default_exp'}
    for nb in (ROOT/'nbs').glob('*.ipynb'):
        for c in json.loads(nb.read_text())['cells']:
            src = ''.join(c['source'])
            if c['cell_type'] == 'code' and src.startswith('#| hide'):
                secrets |= {l.strip() for l in src.splitlines()[1:] if len(l.strip()) > 25}
    for page in _pages(site):
        html = page.read_text()
        for s in secrets:
            assert s not in html, f'{s!r} leaks into {page.name}'

def test_links_and_images_resolve(site):
    for page in _pages(site):
        if page.name == '404.html': continue  # served at the site root by design: its links are absolute
        p = _Refs(); p.feed(page.read_text())
        for ref in p.refs:
            if re.match(r'^(https?:|mailto:|data:|#|javascript:)', ref): continue
            target = ref.split('#')[0].split('?')[0]
            if not target: continue
            assert (page.parent/target).resolve().exists(), f'{page.name}: broken link {ref}'

def test_no_fetch_from_internet(site):
    "No script, stylesheet or font is loaded from another host"
    for page in _pages(site):
        html = page.read_text()
        assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html), page.name
        assert 'fonts.googleapis' not in html and 'fonts.gstatic' not in html

def test_every_exported_name_documented(site):
    for py in sorted((ROOT/'humannums').glob('[a-z]*.py')):
        mod = importlib.import_module(f'humannums.{py.stem}')
        nb = next((ROOT/'nbs').glob(f'*_{py.stem}.ipynb'))
        html = (site/f'{nb.stem}.html').read_text()
        for name in getattr(mod, '__all__', []):
            if not callable(getattr(mod, name)) or isinstance(getattr(mod, name), dict): continue  # functions and classes
            assert re.search(rf'id="{name.lower()}"|>{name}<', html), f'{name} of humannums.{py.stem} has no entry in {nb.stem}.html'

def test_plots_and_tables_visible(site):
    html = (site/'05_more_signal.html').read_text()
    assert html.count('<img') >= 2 and 'train_loss' in html and '<table' in html
    assert 'search' in (site/'index.html').read_text().lower() and (site/'search'/'search_index.json').exists()

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic']

@pytest.mark.skipif(not CHROMIUM, reason='Chromium not installed (.ci/run installs it)')
@pytest.mark.parametrize('page,text', [('index.html', 'humannums'), ('07_lstm.html', 'LSTM')])
def test_page_renders_in_chromium(site, page, text, tmp_path):
    url = (site/page).as_uri()
    prof = tmp_path/'profile'
    dom = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={prof}', '--dump-dom', url],
                         capture_output=True, text=True, timeout=120).stdout
    assert text in dom and 'md-content' in dom  # the theme rendered, with the page's text
    shot = tmp_path/'shot.png'
    subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={prof}', '--window-size=1200,900', f'--screenshot={shot}', url],
                   capture_output=True, timeout=120)
    from PIL import Image
    im = Image.open(shot).convert('L')
    colours = len(set(im.getdata()))
    assert im.size == (1200, 900) and colours > 20, f'screenshot looks blank ({colours} grey levels)'
