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
"""
import base64, json, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROC, MD, SITE = ROOT/'_proc', ROOT/'_docs_md', ROOT/'_docs'
_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*)$')

def process_notebooks():
    "nbdev's processing into _proc/, minus the attempt to install Quarto"
    import nbdev.doclinks
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__()
    proc_nbs(n_workers=0, force=True)

def _opts(src):
    "Cell options and the source without them"
    opts, body = {}, []
    for line in src.splitlines():
        m = _DIRECTIVE.match(line)
        if m: opts[m.group(1)] = (m.group(2).strip().lower() or 'true')
        else: body.append(line)
    return opts, '\n'.join(body).strip('\n')

def _front_matter(src):
    "Title and description from nbdev's front matter raw cell"
    import yaml
    m = re.search(r'^---\n(.*?)\n---', src, re.S)
    return (yaml.safe_load(m.group(1)) or {}) if m else {}

_PANDOC_ATTR = re.compile(r'\{[^{}\n]*(?:target=|\.[\w-]+)[^{}\n]*\}')

def _md_fix(text):
    "Pandoc link attributes out; nbdev's .ipynb links point at the .md pages"
    text = _PANDOC_ATTR.sub('', text)
    return re.sub(r'\]\((?!https?:)([\w./-]*?)\.ipynb(#[^)]*)?\)', lambda m: f']({m.group(1)}.md{m.group(2) or ""})', text)

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

def _outputs(outs, stem, counter, img_dir):
    res = []
    for o in outs:
        t = o['output_type']
        if t == 'stream':
            if o.get('name') == 'stderr': continue
            txt = ''.join(o['text']).rstrip('\n')
            if txt: res.append('```\n' + txt + '\n```')
        elif t in ('execute_result', 'display_data'):
            d = o['data']
            if 'image/png' in d:
                counter[0] += 1
                name = f'{stem}_{counter[0]}.png'
                (img_dir/name).write_bytes(base64.b64decode(''.join(d['image/png'])))
                res.append(f'![](images/{name})')
            elif 'text/markdown' in d and not ''.join(d['text/markdown']).startswith('```html'):  # fastprogress: its HTML as code
                res.append(_md_fix(''.join(d['text/markdown'])))
            elif 'text/html' in d: res.append('<div class="nb-output" markdown="0">\n' + ''.join(d['text/html']).strip() + '\n</div>')
            elif 'text/plain' in d: res.append('```\n' + ''.join(d['text/plain']).rstrip('\n') + '\n```')
        elif t == 'error': res.append('```\n' + '\n'.join(o.get('traceback', [])) + '\n```')
    return res

def convert(nb_path, out_dir, img_dir):
    "One processed notebook to a Markdown page; returns its title"
    nb = json.loads(Path(nb_path).read_text())
    stem, parts, title, counter = Path(nb_path).stem, [], None, [0]
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
            if src.strip(): parts.append(_md_fix(math_to_mathml(src.strip('\n'), f'{stem}.ipynb')))
            continue
        opts, body = _opts(src)
        if opts.get('hide') == 'true' or opts.get('include') == 'false' or 'default_exp' in opts: continue
        folded = c.get('metadata', {}).get('jupyter', {}).get('source_hidden')  # folded in JupyterLab: not shown here either
        if body and opts.get('echo') != 'false' and not folded: parts.append('```python\n' + body + '\n```')
        if opts.get('output') != 'false': parts += _outputs(c.get('outputs', []), stem, counter, img_dir)
    (out_dir/f'{stem}.md').write_text('\n\n'.join(parts) + '\n')
    return title or stem

def write_mkdocs(pages):
    "mkdocs.yml with the nav in nbdev's sidebar order; no web fonts, nothing fetched"
    nav = '\n'.join(f'  - "{t}": {f}' for f, t in pages)
    (ROOT/'mkdocs.yml').write_text(f"""# Written by tools/build_docs.py: edit that script, not this file.
site_name: humannums
site_description: Recurrent language models on fastai's HUMAN_NUMBERS
docs_dir: _docs_md
site_dir: _docs
use_directory_urls: false
strict: true
theme:
  name: material
  font: false
  features: [navigation.footer, content.code.copy]
plugins:
  - search
markdown_extensions:
  - tables
  - attr_list
  - md_in_html
  - admonition
  - pymdownx.highlight
  - pymdownx.superfences
  - pymdownx.details
extra_css: [extra.css]
nav:
{nav}
""")

def build():
    process_notebooks()
    shutil.rmtree(MD, ignore_errors=True); (MD/'images').mkdir(parents=True)
    for svg in sorted((ROOT/'nbs'/'images').glob('*.svg')): shutil.copy(svg, MD/'images'/svg.name)  # tools/diagrams.py
    import yaml
    side = yaml.safe_load((ROOT/'nbs'/'sidebar.yml').read_text())['website']['sidebar']['contents']
    pages = []
    for entry in side:
        nb = PROC/entry
        if not nb.exists(): sys.exit(f'{entry} is in the sidebar but was not processed into {PROC}')
        pages.append((f'{nb.stem}.md', convert(nb, MD, MD/'images')))
    for extra in sorted((ROOT/'benchmarks'/'results').glob('bench.md')):
        shutil.copy(extra, MD/'benchmarks.md'); pages.append(('benchmarks.md', 'Benchmarks'))
    (MD/'extra.css').write_text('.nb-output { overflow-x: auto; font-size: .75rem; }\n'
                                '.nb-output table { border-collapse: collapse; }\n'
                                '.nb-output td, .nb-output th { padding: .1rem .5rem; border-bottom: 1px solid #ddd; }\n'
                                '.math-display { overflow-x: auto; margin: 1em 0; }\n'
                                'math { font-size: 1.1em; }\n'
                                '.md-typeset img[src$=".svg"] { display: block; margin: 1em auto; }\n')
    write_mkdocs(pages)
    subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '--quiet', '-f', str(ROOT/'mkdocs.yml')],
                   check=True, cwd=ROOT, env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})
    print(f'docs built: {SITE/"index.html"} ({len(pages)} pages)')

if __name__ == '__main__': build()
