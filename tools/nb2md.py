#!/usr/bin/env python
"Render a notebook to Markdown without Quarto (README.md from nbs/index.ipynb): hidden cells dropped, outputs kept."
import json, re, sys
from pathlib import Path

_DIRECTIVE = re.compile(r'^\s*#\|\s*(.*)$')

def _opts(src:str):
    "nbdev/Quarto cell options of `src` and the source without them"
    opts, body = {}, []
    for line in src.splitlines():
        m = _DIRECTIVE.match(line)
        if m:
            k, _, v = m.group(1).partition(':') if ':' in m.group(1) else (m.group(1).split(' ')[0], '', 'true')
            opts[k.strip()] = v.strip().lower() or 'true'
        else: body.append(line)
    return opts, '\n'.join(body).strip('\n')

def _outputs(outs):
    "Markdown for a code cell's outputs"
    res = []
    for o in outs:
        if o['output_type'] == 'stream': res.append('```\n' + ''.join(o['text']).rstrip('\n') + '\n```')
        elif o['output_type'] in ('execute_result', 'display_data'):
            d = o['data']
            if 'text/markdown' in d: res.append(''.join(d['text/markdown']).rstrip('\n'))
            elif 'text/plain' in d: res.append('```\n' + ''.join(d['text/plain']).rstrip('\n') + '\n```')
    return res

def nb2md(path) -> str:
    "Markdown text of the notebook at `path`"
    nb = json.loads(Path(path).read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            if src.strip(): parts.append(src.strip('\n'))
            continue
        if c['cell_type'] != 'code': continue
        opts, body = _opts(src)
        if opts.get('hide') == 'true' or opts.get('include') == 'false' or 'default_exp' in opts: continue
        if body and opts.get('echo') != 'false': parts.append('```python\n' + body + '\n```')
        if opts.get('output') != 'false': parts += _outputs(c.get('outputs', []))
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    if len(sys.argv) != 3: sys.exit('usage: nb2md.py NOTEBOOK OUT.md')
    Path(sys.argv[2]).write_text(nb2md(sys.argv[1]))
