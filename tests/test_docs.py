"""The docs site: built offline from the committed notebooks, no hidden text, links and images resolve, every
exported name documented, math converted to MathML (no CDN), the diagrams current and shown, and pages that
render in headless Chromium."""
import importlib, importlib.util, json, re, shutil, subprocess, sys, tempfile
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

EXTERNAL_HOSTS = {'huggingface.co', 'squidfunk.github.io', 'docs.fast.ai', 'pytorch.org', 'docs.pytorch.org'}  # Material's footer; fastai, PyTorch docs

class _Ids(HTMLParser):
    def __init__(self): super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs): self.ids |= {v for k, v in attrs if k in ('id', 'name') and v}

def test_links_and_images_resolve(site):
    "Every href and src of every page (the source pages too): a file and an anchor of the site, or a host of the allow-list"
    pages = _pages(site) + sorted((site/'source').glob('*.html'))
    assert len(pages) > 17 + 10, 'the source pages are missing'
    ids = {}
    def anchors(f):
        if f not in ids: p = _Ids(); p.feed(f.read_text()); ids[f] = p.ids
        return ids[f]
    checked = 0
    for page in pages:
        if page.name == '404.html': continue  # served at the site root by design: its links are absolute
        p = _Refs(); p.feed(page.read_text())
        for ref in p.refs:
            if re.match(r'^(mailto:|data:|javascript:)', ref): continue
            if m := re.match(r'^https?://([^/]+)', ref):
                assert m.group(1) in EXTERNAL_HOSTS, f'{page.name}: a link to {ref}, a host outside the allow-list'
                continue
            target, _, anchor = ref.split('?')[0].partition('#')
            f = (page.parent/target).resolve() if target else page
            assert f.exists(), f'{page.name}: broken link {ref}'
            if anchor and f.suffix == '.html':
                assert anchor in anchors(f), f'{page.name}: link {ref}: no id {anchor!r} in {f.name}'
            checked += 1
    assert checked > 1000, checked

def test_show_doc_links_stay_inside_and_classes_say_class(site):
    md = (ROOT/'_docs_md'/'05_more_signal.md').read_text()
    assert 'humannums.github.io' not in md and 'github.com/humannums' not in md
    assert '[source](source/more_signal.py.html#L' in md
    assert re.search(r'### RNN4 \{#rnn4\}\n+```python\nclass RNN4\(', md), 'RNN4 is a class'
    assert re.search(r'```python\ndef flat_ce\(', md), 'flat_ce is a function'
    line = int(re.search(r'\[source\]\(source/more_signal\.py\.html#L(\d+)\)\s+### RNN4', md).group(1))
    src = (site/'source'/'more_signal.py.html').read_text()
    assert re.search(rf'<tr id="L{line}">.*class RNN4', src), 'the source link opens the line of the definition'

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

_PROBE = """<script>
window.addEventListener('load', () => {
  const m = document.querySelector('math[display="block"]'), r = m ? m.getBoundingClientRect() : {width: 0, height: 0};
  const frac = document.querySelector('mfrac'), fr = frac ? frac.getBoundingClientRect() : {height: 0};
  const imgs = [...document.querySelectorAll('img[src$=".svg"]')];
  document.body.setAttribute('data-probe', JSON.stringify({
    mathml: typeof MathMLElement !== 'undefined' && m instanceof MathMLElement, w: r.width, h: r.height,
    frac_h: fr.height, font: frac ? parseFloat(getComputedStyle(frac).fontSize) : 0,
    svgs: imgs.length, loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length}));
});
</script>"""

@pytest.mark.skipif(not CHROMIUM, reason='Chromium not installed (.ci/run installs it)')
def test_math_and_diagrams_render_in_chromium(site, tmp_path):
    "A page with equations and a diagram, opened offline: the MathML is laid out as math and the SVGs load"
    html = (site/'05_more_signal.html').read_text()
    # the page, with a probe script, reading the site's own files through <base>
    page = tmp_path/'probe.html'
    page.write_text(html.replace('<head>', f'<head><base href="{site.as_uri()}/">', 1).replace('</body>', _PROBE + '</body>', 1))
    dom = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={tmp_path/"profile"}', '--virtual-time-budget=10000',
                          '--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-probe="([^"]*)"', dom)
    assert m, 'the probe did not run: ' + dom[-500:]
    import html as htmllib
    probe = json.loads(htmllib.unescape(m.group(1)))
    assert probe['mathml'], probe  # Chromium parsed <math> as MathML, not as an unknown element
    assert probe['w'] > 50 and probe['h'] > 10, probe
    assert probe['frac_h'] > 1.4 * probe['font'] > 0, probe  # a fraction is laid out stacked, taller than a text line
    assert probe['svgs'] >= 1 and probe['loaded'] == probe['svgs'], probe


_WIDTH_PROBE = """<script>
window.addEventListener('load', () => {
  const col = document.querySelector('.md-content').getBoundingClientRect().width;
  const tables = [...document.querySelectorAll('.nb-output table')].map(t => ({w: t.scrollWidth, box: t.parentElement.clientWidth,
      rows: [...t.querySelectorAll('tbody tr')].map(r => r.getBoundingClientRect().height)}));
  const code = [...document.querySelectorAll('.md-typeset pre > code')].map(c => ({sw: c.scrollWidth, cw: c.clientWidth}));
  document.body.setAttribute('data-probe', JSON.stringify({col, tables, code,
      line: parseFloat(getComputedStyle(document.querySelector('.nb-output') || document.body).fontSize)}));
});
</script>"""

def _probe_widths(site, page, width, tmp_path):
    "What Chromium lays out for `page` in a window `width` px wide: the text column, each output table, each code block"
    import html as htmllib
    probe = tmp_path/f'probe-{width}.html'
    probe.write_text((site/page).read_text().replace('<head>', f'<head><base href="{site.as_uri()}/">', 1).replace('</body>', _WIDTH_PROBE + '</body>', 1))
    dom = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={tmp_path/"profile"}', f'--window-size={width},900', '--virtual-time-budget=10000',
                          '--dump-dom', probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-probe="([^"]*)"', dom)
    assert m, 'the probe did not run: ' + dom[-500:]
    return json.loads(htmllib.unescape(m.group(1)))

@pytest.mark.skipif(not CHROMIUM, reason='Chromium not installed (.ci/run installs it)')
@pytest.mark.parametrize('width', [1400, 1920])
def test_the_text_column_fits_code_and_tables(site, width, tmp_path):
    "In a 1400 and a 1920 px window the column is wide enough that 12_zoo's tables (the widest of the series) fit with each row on one line, and a model notebook's code cells are not cut"
    p = _probe_widths(site, '12_zoo.html', width, tmp_path)
    assert p['col'] >= (0.6 if width == 1400 else 0.55) * width, p['col']  # Material's default grid: about 560 px at 1400
    widest = max(p['tables'], key=lambda t: t['w'])
    assert widest['w'] <= widest['box'] + 1, widest  # the widest output table fits its column
    assert max(h for t in p['tables'] for h in t['rows']) < 2.2 * p['line'] * 1.2, p['tables']  # no row wrapped onto a second line
    code = _probe_widths(site, '05_more_signal.html', width, tmp_path)['code']
    cut = [c for c in code if c['sw'] > c['cw'] + 1]
    assert code and len(cut) <= len(code) // 10, cut  # a typical code cell fits; the odd long line may scroll


def _tool(name):
    "Import tools/NAME.py as a module"
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', ROOT/'tools'/f'{name}.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

# --- diagrams ----------------------------------------------------------------------------------------

_IMG = re.compile(r'!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]+src="([^"]+)"')

def _markdown_images():
    "(notebook, image path) for every image a Markdown cell of a notebook shows"
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            if c['cell_type'] != 'markdown': continue
            for m in _IMG.finditer(''.join(c['source'])):
                ref = m.group(1) or m.group(2)
                if not re.match(r'^(https?:|data:)', ref): yield nb, ref

def test_diagrams_are_current():
    "tools/diagrams.py redraws every committed SVG byte for byte, and nbs/images holds nothing else"
    svgs = _tool('diagrams').render_all()
    committed = {p.name: p.read_text() for p in (ROOT/'nbs'/'images').glob('*.svg')}
    assert len(svgs) >= 12
    assert sorted(committed) == sorted(svgs), 'nbs/images out of step with tools/diagrams.py: run it'
    stale = [n for n in svgs if committed[n] != svgs[n]]
    assert not stale, f'{stale} differ from what tools/diagrams.py draws: run it'
    for name, text in svgs.items():
        assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and '<title>' in text, name
        assert 'http' not in text.replace('http://www.w3.org/2000/svg', ''), f'{name} refers to another host'

def test_every_notebook_image_exists_and_every_diagram_is_shown():
    shown = set()
    for nb, ref in _markdown_images():
        assert (nb.parent/ref).resolve().is_file(), f'{nb.name} shows {ref}, which does not exist'
        shown.add((nb.parent/ref).resolve())
    unused = [p.name for p in (ROOT/'nbs'/'images').glob('*.svg') if p.resolve() not in shown]
    assert not unused, f'diagrams no notebook shows: {unused}'

# --- math --------------------------------------------------------------------------------------------

def test_math_converter():
    bd = _tool('build_docs')
    md = 'Inline $h_t = \\operatorname{relu}(a_t)$, code `$x$` kept.\n\n$$\nc_t = f_t \\odot c_{t-1}\n$$\n\n```python\ns = "$$y$$"\n```\n'
    out = bd.math_to_mathml(md, 'probe')
    assert out.count('<math') == 2 and 'display="block"' in out and 'display="inline"' in out
    assert '`$x$`' in out and 's = "$$y$$"' in out  # code spans and code blocks untouched
    assert '$' not in out.replace('`$x$`', '').replace('"$$y$$"', '')
    assert bd.math_to_mathml('costs 5$ and 6$ more', 'probe') == 'costs 5$ and 6$ more'  # not math
    with pytest.raises(ValueError, match='probe.*cannot convert'): bd.math_to_mathml('$\\Big\\lVert x$', 'probe')

MODEL_PAGES = ['03_rnn', '04_stateful', '05_more_signal', '06_multilayer', '07_lstm', '08_gru', '09_awd',
               '10_attention', '11_seq2seq']

class _Text(HTMLParser):
    "A page's text outside code, pre and math elements"
    def __init__(self): super().__init__(); self.skip, self.parts = 0, []
    def handle_starttag(self, tag, attrs): self.skip += tag in ('code', 'pre', 'math', 'script', 'style')
    def handle_endtag(self, tag): self.skip -= tag in ('code', 'pre', 'math', 'script', 'style')
    def handle_data(self, d):
        if not self.skip: self.parts.append(d)

@pytest.mark.parametrize('page', MODEL_PAGES)
def test_model_page_has_math_and_a_diagram(site, page):
    html = (site/f'{page}.html').read_text()
    assert '<math' in html and 'display="block"' in html, f'{page}: no equation rendered as MathML'
    assert re.search(r'<img[^>]+src="images/[\w-]+\.svg"', html), f'{page}: no diagram'
    p = _Text(); p.feed(html); text = ''.join(p.parts)
    assert '$$' not in text, f'{page}: raw $$ left in the text'
    assert not re.search(r'\$[^$\s][^$\n]*\\[a-zA-Z]', text), f'{page}: raw inline LaTeX left in the text'

def test_answers_render_collapsed(site):
    "`<details markdown=\"1\">` answers: collapsed, with their Markdown rendered (checked on whatever pages have them)"
    import markdown
    html = markdown.markdown('<details markdown="1"><summary>Answer</summary>\n\nUse `h_h` **twice**.\n\n</details>',
                             extensions=['md_in_html', 'pymdownx.details'])
    assert '<code>h_h</code>' in html and '<strong>twice</strong>' in html and ' open' not in html
    assert 'pymdownx.details' in (ROOT/'mkdocs.yml').read_text() and 'md_in_html' in (ROOT/'mkdocs.yml').read_text()
    for page in _pages(site):
        for block in re.findall(r'<details[^>]*>.*?</details>', page.read_text(), re.S):
            assert not re.match(r'<details[^>]*\bopen\b', block), f'{page.name}: an answer is shown open'
            assert 'markdown="1"' not in block and '</summary>' in block, f'{page.name}: {block[:200]}'
            assert not re.search(r'`[^`\n]+`|\*\*[A-Za-z][^*\n]*?[^*\s]\*\*', re.sub(r'<(pre|code)>.*?</\1>', '', block, flags=re.S)), \
                f'{page.name}: Markdown left unrendered in {block[:200]}'
