#!/usr/bin/env python
"""Render a notebook to Markdown without Quarto (README.md from nbs/index.ipynb): hidden cells dropped, outputs kept.
The docs site's converter (`tools/build_docs.py`, `notebook_markdown`) in its README mode: one converter for both."""
import json, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import notebook_markdown

def nb2md(path) -> str:
    "Markdown text of the notebook at `path`"
    return notebook_markdown(json.loads(Path(path).read_text()), Path(path).stem, site=False)[1]

if __name__ == '__main__':
    if len(sys.argv) != 3: sys.exit('usage: nb2md.py NOTEBOOK OUT.md')
    Path(sys.argv[2]).write_text(nb2md(sys.argv[1]))
