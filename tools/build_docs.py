#!/usr/bin/env python
"""Build the docs site offline, without Quarto: nbdev's own notebook processing (`_proc/`), a small converter
from the processed notebooks to Markdown (`_docs_md/`), then MkDocs + Material in strict mode (`_docs/`).

    .venv/bin/python tools/build_docs.py        # then open _docs/index.html

nbdev_docs needs Quarto, which can't be installed here. nbdev's processing works without it: it drops
hidden and export-only cells, renders show_doc, and turns the title cell into front matter. What it writes
is meant for Quarto, so the converter below reads it: it honours the cell options Quarto would (echo,
output, include), takes the title and description from the front matter, the page order from the sidebar
nbdev writes, keeps nbdev's page names (so show_doc links resolve), strips Pandoc link attributes and
writes images out as files. Committed notebooks are used as they are: nothing is re-executed.

Math in Markdown cells (`$...$` inline, `$$...$$` display; never inside code spans or code blocks) is
converted to MathML at build time with `latex2mathml`, so the site shows equations with no script, no font
and no CDN: browsers render MathML themselves. The diagrams in `nbs/images/` (drawn by tools/diagrams.py)
are copied next to the pages. `<details markdown="1">` blocks (the questionnaires' answers) render
collapsed, with Markdown inside.

Links stay inside the site, so it works offline and wherever it is served: nbdev's cross-references (written
for `doc_host`, a site that doesn't exist) point at the page of the notebook that exports the name, and each
show_doc heading gets the id those links use; "source" links open `source/<module>.py.html`, a page of the
module's code with an anchor per line (`#L12`), instead of a repository host. show_doc of a class says `class`.
"""
import base64, functools, html, importlib, inspect, json, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROC, MD, SITE = ROOT/'_proc', ROOT/'_docs_md', ROOT/'_docs'

def process_notebooks():
    "nbdev's processing into _proc/, minus the attempt to install Quarto"
    import nbdev.doclinks
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__()
    proc_nbs(n_workers=0, force=True)

def cell_options(src:str) -> tuple[dict, str]:
    "A cell's `#|` options, read by nbdev's own parser (values lower case, 'true' for a bare flag), and its source without them"
    from fastcore.basics import AttrDict
    from nbdev.process import extract_directives
    cell = AttrDict(cell_type='code', source=src)
    opts = {k.rstrip(':'): (' '.join(v).lower() or 'true') for k, v in extract_directives(cell, remove=True).items()}
    body = cell.source.splitlines()
    while body and re.match(r'^\s*#\|', body[0]): body.pop(0)  # the Quarto options, which nbdev leaves in the source
    return opts, '\n'.join(body).strip('\n')

def _front_matter(src):
    "Title and description from nbdev's front matter raw cell"
    import yaml
    m = re.search(r'^---\n(.*?)\n---', src, re.S)
    return (yaml.safe_load(m.group(1)) or {}) if m else {}

_PANDOC_ATTR = re.compile(r'\{[^{}\n]*(?:target=|\.[\w-]+)[^{}\n]*\}')

@functools.cache
def _pages() -> dict:
    "nbdev's page name of each notebook (its name without the number: `data`) -> our page (`00_data.md`)"
    return {re.sub(r'^\d+[a-z]?_', '', p.stem): f'{p.stem}.md' for p in sorted((ROOT/'nbs').glob('*.ipynb'))}

@functools.cache
def _settings() -> dict:
    from nbdev.config import get_config
    cfg = get_config()
    return dict(doc=(cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')).rstrip('/'), git=cfg.git_url.rstrip('/'),
                lib=cfg.lib_path.name)

def _local_links(text, pages, cfg):
    "nbdev's links to `doc_host` pages and to the repository's code, made links inside this site"
    def page(m):
        name, anchor = m.group(1), m.group(2) or ''
        if name not in pages: raise ValueError(f'a link to {m.group(0)}: no notebook makes a page {name!r}')
        return pages[name] + anchor
    text = re.sub(re.escape(cfg['doc']) + r'/([\w-]+)\.html(#[\w.-]+)?', page, text)
    return re.sub(re.escape(cfg['git']) + r'/blob/[\w.-]+/' + re.escape(cfg['lib']) + r'/(\w+)\.py(#L\d+)?',
                  lambda m: f'source/{m.group(1)}.py.html{m.group(2) or ""}', text)

def _md_fix(text, pages=None, cfg=None):
    "Pandoc link attributes out; nbdev's .ipynb links point at the .md pages, its web links at pages of this site"
    text = _PANDOC_ATTR.sub('', text)
    text = re.sub(r'\]\((?!https?:)([\w./-]*?)\.ipynb(#[^)]*)?\)', lambda m: f']({m.group(1)}.md{m.group(2) or ""})', text)
    return _local_links(text, pages or _pages(), cfg or _settings())

_SHOW_DOC = re.compile(r'\[source\]\(source/(\w+)\.py\.html#L\d+\)\s*\n\s*\n(#{2,4}) ([A-Za-z_][\w.]*)\n(\s*```python\n)def ')

def _show_doc_fix(md:str, lib:str) -> str:
    "show_doc's heading gets the id nbdev's links use (the name, lower case), and a class is shown as `class`"
    def fix(m):
        module, level, name, fence = m.groups()
        obj = importlib.import_module(f'{lib}.{module}')
        for part in name.split('.'): obj = getattr(obj, part, None)
        kind = 'class' if inspect.isclass(obj) else 'def'
        return m.group(0)[:m.start(2) - m.start(0)] + f'{level} {name} {{#{name.lower()}}}\n{fence}{kind} '
    return _SHOW_DOC.sub(fix, md)

def fix_anchors(md_dir:Path):
    "A cross-reference to a name with no show_doc entry of its own (a method) goes to its class's entry instead"
    ids = {f.name: set(re.findall(r'^#{2,4} .* \{#([\w.-]+)\}$', f.read_text(), re.M)) for f in md_dir.glob('*.md')}
    def fix(m):
        page, anchor = m.group(1), m.group(2)
        if page not in ids or anchor in ids[page]: return m.group(0)
        parent = anchor.rsplit('.', 1)[0]
        if parent == anchor or parent not in ids[page]:
            raise ValueError(f'a link to {page}#{anchor}: {page} has no entry {anchor!r} (nor its class)')
        return f']({page}#{parent})'
    for f in md_dir.glob('*.md'):
        f.write_text(re.sub(r'\]\(([\w.-]+\.md)#([\w.-]+)\)', fix, f.read_text()))

def write_sources(out_dir:Path, lib:str):
    "A page per module of the library: its code, with an anchor on every line (`#L12`) for the show_doc source links"
    (out_dir/'source').mkdir(parents=True, exist_ok=True)
    for py in sorted((ROOT/lib).glob('*.py')):
        if py.name.startswith('_'): continue
        lines = py.read_text().splitlines()
        rows = '\n'.join(f'<tr id="L{i}"><td class="n"><a href="#L{i}">{i}</a></td><td><pre>{html.escape(l)}</pre></td></tr>'
                         for i, l in enumerate(lines, 1))
        (out_dir/'source'/f'{py.name}.html').write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{lib}/{py.name}</title>
<style>body {{ font-family: monospace; margin: 1rem; }} table {{ border-collapse: collapse; }} pre {{ margin: 0; }}
td.n {{ color: #888; text-align: right; padding-right: 1em; user-select: none; }} td.n a {{ color: inherit; text-decoration: none; }}
tr:target {{ background: #fff3b0; }}</style></head>
<body><p><a href="../index.html">{lib} docs</a> · {lib}/{py.name} (generated from the notebooks by nbdev_export)</p>
<table>
{rows}
</table></body></html>
""")

_CODE = re.compile(r'(^[ \t]*(```|~~~).*?^[ \t]*\2[ \t]*$|`+[^`\n]*?`+)', re.S | re.M)  # fenced blocks, code spans
_DISPLAY = re.compile(r'\$\$(.+?)\$\$', re.S)
_INLINE = re.compile(r'(?<![\\$\w])\$(?=[^\s$])([^$\n]+?)(?<=\S)\$(?![\w$])')
_MD_ACTIVE = str.maketrans({c: f'&#x{ord(c):02X};' for c in '*_`[]\\$|'})

def _mathml(tex:str, display:bool, where:str='') -> str:
    "One LaTeX formula as MathML, with Markdown-active characters in its text written as entities"
    from latex2mathml.converter import convert
    try: mml = convert(tex.strip(), display='block' if display else 'inline')
    except Exception as e: raise ValueError(f'{where}: LaTeX that latex2mathml cannot convert: {tex!r} ({e})') from e
    if re.search(r'>[^<]*\\', mml):  # a command latex2mathml doesn't know comes out as text
        raise ValueError(f'{where}: LaTeX that latex2mathml cannot convert: {tex!r} (unknown command in {mml!r})')
    mml = re.sub(r'>([^<]+)<', lambda m: '>' + m.group(1).translate(_MD_ACTIVE) + '<', mml)
    return mml.replace('\n', ' ')

def math_to_mathml(text:str, where:str='') -> str:
    "`$$...$$` and `$...$` outside code spans and code blocks turned into MathML"
    def conv(chunk):
        chunk = _DISPLAY.sub(lambda m: '\n\n<div class="math-display" markdown="0">' + _mathml(m.group(1), True, where)
                             + '</div>\n\n', chunk)
        # in a span: Python-Markdown takes a line that starts with <math> for a raw HTML block
        return _INLINE.sub(lambda m: '<span class="math-inline">' + _mathml(m.group(1), False, where) + '</span>', chunk)
    out, i = [], 0
    for m in _CODE.finditer(text):
        out.append(conv(text[i:m.start()])); out.append(m.group(0)); i = m.end()
    out.append(conv(text[i:]))
    return ''.join(out)

def _outputs(outs, stem, counter, img_dir, site=True):
    "Markdown for a code cell's outputs; `site=False` (the README): text only, as GitHub shows it"
    res, merged = [], []
    for o in outs:  # a stream written in pieces (a word at a time) is one block, as Jupyter shows it
        if o['output_type'] == 'stream' and merged and merged[-1]['output_type'] == 'stream' and merged[-1].get('name') == o.get('name'):
            merged[-1] = {**merged[-1], 'text': ''.join(merged[-1]['text']) + ''.join(o['text'])}
        else: merged.append(o)
    for o in merged:
        t = o['output_type']
        if t == 'stream':
            if o.get('name') == 'stderr': continue
            txt = ''.join(o['text']).rstrip('\n')
            if txt: res.append('```\n' + txt + '\n```')
        elif t in ('execute_result', 'display_data'):
            d = o['data']
            if site and 'image/png' in d:
                counter[0] += 1
                name = f'{stem}_{counter[0]}.png'
                (img_dir/name).write_bytes(base64.b64decode(''.join(d['image/png'])))
                res.append(f'![](images/{name})')
            elif 'text/markdown' in d and not ''.join(d['text/markdown']).startswith('```html'):  # fastprogress: its HTML as code
                md = ''.join(d['text/markdown'])
                res.append(_show_doc_fix(_md_fix(md), _settings()['lib']) if site else md.rstrip('\n'))
            elif site and 'text/html' in d: res.append('<div class="nb-output" markdown="0">\n' + ''.join(d['text/html']).strip() + '\n</div>')
            elif 'text/plain' in d: res.append('```\n' + ''.join(d['text/plain']).rstrip('\n') + '\n```')
        elif t == 'error': res.append('```\n' + '\n'.join(o.get('traceback', [])) + '\n```')
    return res

def notebook_markdown(nb:dict, stem:str, img_dir:Path=None, site:bool=True) -> tuple[str, str]:
    "(title, Markdown) of notebook `nb`: a page of the site, or with `site=False` the README (no math, links or images rewritten)"
    parts, title, counter = [], None, [0]
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw':
            fm = _front_matter(src)
            if fm.get('title'):
                title = fm['title']
                parts.append(f'# {title}')
                if fm.get('description'): parts.append(f'> {fm["description"]}')
            continue
        if c['cell_type'] == 'markdown':
            if src.strip(): parts.append(_md_fix(math_to_mathml(src.strip('\n'), f'{stem}.ipynb')) if site else src.strip('\n'))
            continue
        if c['cell_type'] != 'code': continue
        opts, body = cell_options(src)
        if opts.get('hide') == 'true' or opts.get('include') == 'false' or 'default_exp' in opts: continue
        folded = c.get('metadata', {}).get('jupyter', {}).get('source_hidden')  # folded in JupyterLab: not shown here either
        if body and opts.get('echo') != 'false' and not folded: parts.append('```python\n' + body + '\n```')
        if opts.get('output') != 'false': parts += _outputs(c.get('outputs', []), stem, counter, img_dir, site)
    return title or stem, '\n\n'.join(parts) + '\n'

def convert(nb_path, out_dir, img_dir):
    "One processed notebook to a Markdown page; returns its title"
    title, md = notebook_markdown(json.loads(Path(nb_path).read_text()), Path(nb_path).stem, img_dir)
    (out_dir/f'{Path(nb_path).stem}.md').write_text(md)
    return title

def write_mkdocs(pages):
    "mkdocs.yml with the nav in nbdev's sidebar order; no web fonts, nothing fetched"
    import yaml
    cfg = dict(site_name='humannums', site_description="Recurrent language models on fastai's HUMAN_NUMBERS",
               docs_dir='_docs_md', site_dir='_docs', use_directory_urls=False, strict=True,
               validation=dict(links=dict(absolute_links='warn', unrecognized_links='warn', anchors='warn')),
               theme=dict(name='material', font=False, features=['navigation.footer', 'content.code.copy', 'toc.integrate']),
               plugins=['search'],
               markdown_extensions=['tables', 'attr_list', 'md_in_html', 'admonition', 'pymdownx.highlight',
                                    'pymdownx.superfences', 'pymdownx.details'],
               extra_css=['extra.css'], nav=[{t: f} for f, t in pages])
    (ROOT/'mkdocs.yml').write_text('# Written by tools/build_docs.py: edit that script, not this file.\n'
                                   + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))

def build():
    process_notebooks()
    shutil.rmtree(MD, ignore_errors=True); (MD/'images').mkdir(parents=True)
    for svg in sorted((ROOT/'nbs'/'images').glob('*.svg')): shutil.copy(svg, MD/'images'/svg.name)  # tools/diagrams.py
    write_sources(MD, _settings()['lib'])
    import yaml
    side = yaml.safe_load((ROOT/'nbs'/'sidebar.yml').read_text())['website']['sidebar']['contents']
    pages = []
    for entry in side:
        nb = PROC/entry
        if not nb.exists(): sys.exit(f'{entry} is in the sidebar but was not processed into {PROC}')
        pages.append((f'{nb.stem}.md', convert(nb, MD, MD/'images')))
    fix_anchors(MD)
    for extra in sorted((ROOT/'benchmarks'/'results').glob('bench.md')):
        shutil.copy(extra, MD/'benchmarks.md'); pages.append(('benchmarks.md', 'Benchmarks'))
    (MD/'extra.css').write_text('.nb-output { overflow-x: auto; font-size: .75rem; }\n'
                                '.nb-output table { border-collapse: collapse; }\n'
                                '.nb-output td, .nb-output th { padding: .1rem .5rem; border-bottom: 1px solid #ddd; }\n'
                                '.math-display { overflow-x: auto; margin: 1em 0; }\n'
                                'math { font-size: 1.1em; }\n'
                                '.md-typeset img[src$=".svg"] { display: block; margin: 1em auto; }\n'
                                # Material's grid stops at 61rem, leaving the text column about 560 px wide between the two
                                # sidebars in a 1400 px window: code lines were cut and tables wrapped every cell
                                '.md-grid { max-width: 100rem; }\n')
    write_mkdocs(pages)
    subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '--quiet', '-f', str(ROOT/'mkdocs.yml')],
                   check=True, cwd=ROOT, env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})
    print(f'docs built: {SITE/"index.html"} ({len(pages)} pages)')

if __name__ == '__main__': build()
