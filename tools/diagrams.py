#!/usr/bin/env python
"""Draw the architecture diagrams of the notebooks as plain SVG files in `nbs/images/`.

    .venv/bin/python tools/diagrams.py            # (re)write nbs/images/*.svg
    .venv/bin/python tools/diagrams.py --check    # exit 1 if a committed SVG differs from what this draws

Every diagram is hand-built SVG: boxes, circles, arrows and `<text>` in a generic font family, so the
files are small, need no font or network, and come out byte-identical on every run (tests/test_docs.py
checks that). One colour per role, the same in every diagram: green for inputs and embeddings, blue for
hidden layers and state, pink for outputs, orange for gates, purple for attention.
"""
from __future__ import annotations
import math, sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'nbs'/'images'
W = 760  # every diagram is 760 px wide: the width of the docs' content column

KINDS = {  # fill, stroke
    'inp': ('#e8f5e9', '#2e7d32'), 'hid': ('#e3f2fd', '#1565c0'), 'out': ('#fce4ec', '#ad1457'),
    'gate': ('#fff3e0', '#e65100'), 'attn': ('#f3e5f5', '#6a1b9a'), 'op': ('#ffffff', '#424242'),
    'plain': ('#fafafa', '#616161'), 'mask': ('#eeeeee', '#9e9e9e'), 'none': ('none', '#616161')}
INK, GREY, GRAD = '#212121', '#616161', '#c62828'
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"

def _f(v: float) -> str:
    "Coordinates with at most one decimal, so the output never depends on float noise"
    s = f'{round(v, 1):.1f}'
    return s[:-2] if s.endswith('.0') else s

def _rich(s: str) -> str:
    "Text with `_{sub}` and `^{sup}` turned into tspans (only in non-code labels)"
    out, i = [], 0
    while i < len(s):
        if s[i] in '_^' and i + 1 < len(s) and s[i+1] == '{':
            j = s.index('}', i)
            shift = '-4' if s[i] == '^' else '5'
            out.append(f'<tspan dy="{shift}" font-size="75%">{escape(s[i+2:j])}</tspan><tspan dy="{-int(shift)}">\u200a</tspan>')
            i = j + 1
        else:
            j = i
            while j < len(s) and not (s[j] in '_^' and j + 1 < len(s) and s[j+1] == '{'): j += 1
            out.append(escape(s[i:j])); i = j
    return ''.join(out)

class Node:
    "A box or circle that arrows can attach to"
    def __init__(self, x, y, w, h, circle=False): self.x, self.y, self.w, self.h, self.circle = x, y, w, h, circle
    def edge(self, tx, ty):
        "Point on the border towards (tx, ty)"
        dx, dy = tx - self.x, ty - self.y
        if dx == dy == 0: return self.x, self.y
        if self.circle:
            d = math.hypot(dx, dy); return self.x + dx/d*self.w/2, self.y + dy/d*self.h/2
        s = min((self.w/2)/abs(dx) if dx else math.inf, (self.h/2)/abs(dy) if dy else math.inf)
        return self.x + dx*s, self.y + dy*s
    @property
    def top(self): return self.x, self.y - self.h/2
    @property
    def bottom(self): return self.x, self.y + self.h/2
    @property
    def left(self): return self.x - self.w/2, self.y
    @property
    def right(self): return self.x + self.w/2, self.y

class SVG:
    def __init__(self, h: int, title: str):
        self.h, self.title, self.items, self.colours = h, title, [], []

    def text(self, x, y, s, size=17, anchor='middle', colour=INK, mono=False, bold=False, italic=False):
        attrs = f'x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"'
        attrs += f' font-family="{MONO if mono else SANS}"' + (' xml:space="preserve"' if mono else '')
        if bold: attrs += ' font-weight="bold"'
        if italic: attrs += ' font-style="italic"'
        lines = s.split('\n')
        first = -(len(lines) - 1) * size * 0.6
        for k, line in enumerate(lines):
            yy = y + first + k * size * 1.2 + size * 0.35
            a = attrs.replace(f'y="{_f(y)}"', f'y="{_f(yy)}"', 1)
            self.items.append(f'<text {a}>{escape(line) if mono else _rich(line)}</text>')

    def rect(self, x0, y0, x1, y1, kind='plain', dashed=False, rx=6, width=2):
        fill, stroke = KINDS[kind]
        d = ' stroke-dasharray="6 4"' if dashed else ''
        self.items.append(f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1-x0)}" height="{_f(y1-y0)}" rx="{rx}" '
                          f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{d}/>')

    def box(self, x, y, label, kind='hid', w=110, h=48, mono=True, size=17, dashed=False, sub=None):
        "A labelled box centred on (x, y); `sub` is a smaller second line"
        self.rect(x - w/2, y - h/2, x + w/2, y + h/2, kind, dashed)
        if sub is None: self.text(x, y, label, size, mono=mono)
        else:
            self.text(x, y - size*0.45, label, size, mono=mono)
            self.text(x, y + size*0.6, sub, size - 3, colour=GREY)
        return Node(x, y, w, h)

    def circle(self, x, y, label, r=16, kind='op', size=20):
        fill, stroke = KINDS[kind]
        self.items.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{r}" fill="{fill}" stroke="{stroke}" stroke-width="2"/>')
        self.text(x, y - 1, label, size)
        return Node(x, y, 2*r, 2*r, circle=True)

    def _marker(self, colour):
        if colour not in self.colours: self.colours.append(colour)
        return f'arrow{self.colours.index(colour)}'

    def line(self, pts, colour=GREY, dashed=False, width=2, head=True, label=None, at=0.5, dx=0, dy=-10,
             size=15, anchor='middle', lcolour=None):
        "A polyline through `pts`, with an arrowhead at the end unless `head=False`"
        d = ' '.join(f'{_f(x)},{_f(y)}' for x, y in pts)
        extra = ' stroke-dasharray="7 5"' if dashed else ''
        if head: extra += f' marker-end="url(#{self._marker(colour)})"'
        self.items.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="{width}"{extra}/>')
        if label:
            # label on the longest segment, at fraction `at`
            segs = list(zip(pts, pts[1:]))
            (x0, y0), (x1, y1) = max(segs, key=lambda s: math.hypot(s[1][0]-s[0][0], s[1][1]-s[0][1]))
            self.text(x0 + (x1-x0)*at + dx, y0 + (y1-y0)*at + dy, label, size, anchor, lcolour or colour)

    def link(self, a: Node, b: Node, **kw):
        "Straight arrow from the border of `a` to the border of `b`"
        self.line([a.edge(b.x, b.y), b.edge(a.x, a.y)], **kw)

    def render(self) -> str:
        defs = ''.join(f'<marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                       f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
                       for i, c in enumerate(self.colours))
        body = '\n'.join(self.items)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{self.h}" viewBox="0 0 {W} {self.h}" '
                f'role="img" aria-label="{escape(self.title)}">\n<title>{escape(self.title)}</title>\n'
                f'<defs>{defs}</defs>\n<rect width="{W}" height="{self.h}" fill="#ffffff"/>\n{body}\n</svg>\n')

def legend(s: SVG, y: float, kinds=(('inp', 'input'), ('hid', 'hidden'), ('out', 'output')), x=20):
    "A small colour key in the bottom-left corner"
    for kind, name in kinds:
        s.rect(x, y - 8, x + 16, y + 8, kind, rx=3)
        s.text(x + 22, y, name, 14, 'start', GREY)
        x += 34 + 8.5 * len(name)

# --- 00 -------------------------------------------------------------------------------------------

def get_batches() -> SVG:
    s = SVG(440, 'get_batches: the samples cut into bs streams; batch i takes sample i of every stream, so row j of batch i+1 continues row j of batch i')
    cols = ['#e8f5e9', '#e3f2fd', '#fff3e0']
    strokes = ['#2e7d32', '#1565c0', '#e65100']
    s.text(20, 24, 'samples in text order (here 13 samples, bs = 3, so m = 13 // 3 = 4)', 16, 'start', GREY)
    cw = 54
    for k in range(13):
        x = 32 + k * cw
        fill, stroke = (cols[k//4], strokes[k//4]) if k < 12 else KINDS['mask']
        dash = ' stroke-dasharray="5 3"' if k == 12 else ''
        s.items.append(f'<rect x="{x}" y="40" width="{cw-4}" height="40" rx="5" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="2"{dash}/>')
        s.text(x + (cw-4)/2, 60, f's_{{{k}}}', 17, colour=INK if k < 12 else GREY)
    for j in range(3):
        x0, x1 = 32 + 4*j*cw, 32 + 4*(j+1)*cw - 4
        s.line([(x0, 92), (x0, 100), (x1, 100), (x1, 92)], strokes[j], head=False)
        s.text((x0+x1)/2, 116, f'stream {j}', 15, colour=strokes[j])
    s.text(32 + 12*cw + (cw-4)/2, 116, 'dropped', 14, colour=GREY)
    s.text(20, 160, 'get_batches(samples, bs=3): batch i takes the i-th sample of every stream', 16, 'start', GREY)
    gx, gy, cw2, rh = 170, 210, 130, 56
    for i in range(4):
        s.text(gx + i*cw2 + cw2/2 - 10, gy - 22, f'batch {i}', 16, bold=True)
        s.rect(gx + i*cw2 - 2, gy - 6, gx + i*cw2 + cw2 - 18, gy + 3*rh - 4, 'none', dashed=True, rx=8, width=1.5)
    for j in range(3):
        y = gy + j*rh + rh/2 - 5
        s.text(gx - 20, y, f'row {j}', 16, 'end', strokes[j])
        for i in range(4):
            x = gx + i*cw2 + 8
            s.items.append(f'<rect x="{x}" y="{_f(y-18)}" width="{cw2-34}" height="36" rx="5" fill="{cols[j]}" '
                           f'stroke="{strokes[j]}" stroke-width="2"/>')
            s.text(x + (cw2-34)/2, y, f's_{{{4*j+i}}}', 17)
            if i < 3: s.line([(x + cw2 - 34, y), (x + cw2 - 6, y)], strokes[j])
    s.text(W/2, 400, 'row j of batch i+1 is the text that follows row j of batch i,', 15, colour=GREY)
    s.text(W/2, 422, 'so a hidden state kept from one batch to the next reads on where it stopped', 15, colour=GREY)
    return s

# --- 01 -------------------------------------------------------------------------------------------

def last_word() -> SVG:
    s = SVG(420, 'LastWord: only the third word is read; embedding i_h, output layer h_o')
    xs = [170, 330, 490]
    words = [s.box(x, 370, f'word {k+1}', 'inp', 100, 40, mono=False) for k, x in enumerate(xs)]
    for w in words[:2]: s.text(w.x, w.y + 38, 'not read', 14, 'middle', GREY)
    emb = s.box(490, 280, 'i_h', 'inp', 90, 44)
    s.link(words[2], emb)
    s.text(545, 280, 'E x₃: 64 numbers', 15, 'start', GREY)
    ho = s.box(490, 170, 'h_o', 'out', 140, 44)
    s.link(emb, ho)
    s.line([ho.top, (490, 80)], label='scores for word 4', dx=10, dy=4, anchor='start', lcolour=INK)
    s.text(25, 200, 'a table in effect:\nfor each last word,\nthe words after it', 15, 'start', GREY)
    legend(s, 30, kinds=(('inp', 'input'), ('out', 'output')))
    return s

# --- 02 -------------------------------------------------------------------------------------------

def ffnn() -> SVG:
    s = SVG(470, 'FFNN: three embeddings concatenated, one hidden layer h_h, output layer h_o')
    xs = [170, 330, 490]
    words = [s.box(x, 420, f'word {k+1}', 'inp', 100, 40, mono=False) for k, x in enumerate(xs)]
    embs = [s.box(x, 335, 'i_h', 'inp', 90, 44) for x in xs]
    for w, e in zip(words, embs): s.link(w, e)
    cat = s.box(330, 245, 'concatenate', 'plain', 430, 44, mono=False, sub=None)
    for e in embs: s.line([e.top, (e.x, cat.y + 22)])
    s.text(585, 245, '3 × 64 = 192', 15, 'start', GREY)
    hh = s.box(330, 160, 'h_h', 'hid', 140, 52, sub='192 → 64, ReLU')
    s.link(cat, hh)
    ho = s.box(330, 78, 'h_o', 'out', 140, 44)
    s.link(hh, ho)
    s.line([ho.top, (330, 22)], label='scores for word 4', dx=10, dy=4, anchor='start', lcolour=INK)
    s.text(25, 160, 'each position has\nits own slice of\nh_h\'s weights', 15, 'start', GREY)
    legend(s, 455)
    return s

# --- 03 -------------------------------------------------------------------------------------------

def rnn1_unrolled() -> SVG:
    s = SVG(440, 'RNN1 unrolled: the same h_h applied after each of three words, input embeddings added to h')
    y = 205
    hh1 = s.box(120, y, 'h_h', 'hid', 96, 52, sub='+ ReLU')
    p2 = s.circle(250, y, '+')
    hh2 = s.box(370, y, 'h_h', 'hid', 96, 52, sub='+ ReLU')
    p3 = s.circle(500, y, '+')
    hh3 = s.box(620, y, 'h_h', 'hid', 96, 52, sub='+ ReLU')
    s.link(hh1, p2, label='h', dy=-12); s.link(p2, hh2); s.link(hh2, p3, label='h', dy=-12); s.link(p3, hh3)
    for k, (x, tgt) in enumerate([(120, hh1), (250, p2), (500, p3)]):
        e = s.box(x, 310, 'i_h', 'inp', 80, 42)
        w = s.box(x, 395, f'word {k+1}', 'inp', 96, 40, mono=False)
        s.link(w, e); s.link(e, tgt)
    ho = s.box(620, 105, 'h_o', 'out', 96, 44)
    s.link(hh3, ho)
    s.line([ho.top, (620, 30)], label='scores for word 4', dx=-12, dy=4, anchor='end', lcolour=INK)
    s.text(20, 40, 'one h_h, one set of weights,\napplied three times', 16, 'start', GREY)
    legend(s, 425, x=560 - 220)
    return s

def rnn2_loop() -> SVG:
    s = SVG(420, 'RNN2: the loop over the words; h starts at 0 and goes round through i_h and h_h once per word')
    x = 300
    w = s.box(x, 375, 'word t', 'inp', 100, 40, mono=False)
    e = s.box(x, 295, 'i_h', 'inp', 90, 44)
    p = s.circle(x, 215, '+')
    hh = s.box(x, 130, 'h_h', 'hid', 110, 54, sub='+ ReLU')
    s.link(w, e); s.link(e, p); s.link(p, hh)
    s.line([hh.right, (470, 130), (470, 215), p.right], colour='#1565c0')
    s.text(480, 172, 'h, for the next word', 15, 'start', '#1565c0')
    s.line([(140, 215), p.left], colour='#1565c0', label='h = 0 at the start', dx=-8, dy=-14, lcolour='#1565c0')
    ho = s.box(x, 45, 'h_o', 'out', 100, 40)
    s.link(hh, ho, dashed=True, label='after the last word', dx=-12, dy=0, anchor='end', lcolour=GREY)
    s.text(x + 60, 45, 'scores for the next word', 16, 'start')
    s.text(440, 300, 'for i in range(x.shape[1]):\n    h = h + i_h(x[:, i])\n    h = relu(h_h(h))', 14, 'start',
           GREY, mono=True)
    legend(s, 405)
    return s

# --- 04 -------------------------------------------------------------------------------------------

def rnn3_state() -> SVG:
    s = SVG(470, 'RNN3: the state h carries from one batch to the next, detached, so gradients stay within a batch')
    y = 215
    xs_all = [[70, 175, 280], [470, 575, 680]]
    for b, xs in enumerate(xs_all):
        s.rect(xs[0] - 55, 60, xs[-1] + 55, 410, 'none', dashed=True, rx=10, width=1.5)
        s.text((xs[0] + xs[-1]) / 2, 45, f'batch {"i" if b == 0 else "i+1"}, row j', 16, bold=True)
        hs = []
        for k, x in enumerate(xs):
            hh = s.box(x, y, 'h_h', 'hid', 80, 46)
            e = s.box(x, 300, 'i_h', 'inp', 64, 38)
            w = s.box(x, 370, f'w_{{{3*b+k+1}}}', 'inp', 64, 36, mono=False)
            s.link(w, e); s.link(e, hh, label='+', dx=14, dy=0, lcolour=INK, size=18)
            if hs: s.link(hs[-1], hh)
            hs.append(hh)
        ho = s.box(xs[-1], 120, 'h_o', 'out', 70, 40)
        s.link(hs[-1], ho)
        s.line([ho.top, (xs[-1], 72)], head=True)
        # gradient flowing back inside the batch
        s.line([(xs[-1] - 20, 165), (xs[0] - 10, 165)], GRAD, dashed=True, label='gradient', at=0.5, dy=-10)
        if b == 0: last = hs[-1]
        else: first = hs[0]
    # the kept state between batches
    s.line([last.right, first.left], '#1565c0', width=3, label='h.detach()', dy=-14)
    s.line([(375, 232), (375, 330)], GRAD, head=False, width=3)
    s.text(375, 345, 'gradient stops', 15, colour=GRAD)
    s.line([(10, y), (xs_all[0][0] - 40, y)], '#1565c0', width=3)
    s.text(20, 448, 'h is kept between calls (reset() sets it to 0 at the start of each epoch and of validation)',
           15, 'start', GREY)
    return s

# --- 05 -------------------------------------------------------------------------------------------

def rnn4_outputs() -> SVG:
    s = SVG(460, 'RNN4: an output after every word; targets are the inputs shifted by one; state kept across batches')
    xs, names = [130, 270, 410, 615], ['1', '2', '3', '16']
    hs = []
    for x, n in zip(xs, names):
        w = s.box(x, 410, f'x_{{{n}}}', 'inp', 70, 36, mono=False)
        e = s.box(x, 335, 'i_h', 'inp', 64, 38)
        hh = s.box(x, 250, 'h_h', 'hid', 84, 48)
        ho = s.box(x, 160, 'h_o', 'out', 70, 40)
        t = s.box(x, 75, f'y_{{{n}}} = x_{{{int(n)+1}}}', 'plain', 112, 36, mono=False)
        s.link(w, e); s.link(e, hh, label='+', dx=12, dy=0, lcolour=INK, size=18); s.link(hh, ho)
        s.link(ho, t, label='loss', dx=8, dy=0, anchor='start', lcolour=GREY, size=14)
        if hs: s.link(hs[-1], hh) if x != 615 else s.line([hs[-1].right, (495, 250)], head=False)
        hs.append(hh)
    s.text(512, 250, '…', 26); s.text(512, 410, '…', 26); s.text(512, 75, '…', 26)
    s.line([(530, 250), hs[-1].left])
    s.line([(15, 250), hs[0].left], '#1565c0', width=3)
    s.text(45, 285, 'h from the\nlast batch', 14, colour='#1565c0')
    s.line([hs[-1].right, (750, 250)], '#1565c0', width=3)
    s.text(710, 278, 'h.detach()', 14, colour='#1565c0')
    s.text(20, 24, '16 words in, 16 predictions out: flat_ce averages the 16 losses', 16, 'start', GREY)
    return s

# --- 06 -------------------------------------------------------------------------------------------

def stacked() -> SVG:
    s = SVG(470, 'Stacked RNN: layer 1 outputs at every step are the inputs of layer 2; h_o reads the top layer')
    xs = [150, 295, 440]
    s.text(12, 300, 'layer 1', 16, 'start', '#1565c0', bold=True)
    s.text(12, 200, 'layer 2', 16, 'start', '#1565c0', bold=True)
    rows = {}
    for layer, y in ((1, 300), (2, 200)):
        prev = None
        for x in xs:
            n = s.box(x, y, 'RNN', 'hid', 84, 46, mono=False)
            if prev: s.link(prev, n)
            prev = n
            rows[layer, x] = n
        s.line([(78, y), rows[layer, xs[0]].left], '#1565c0', width=2.5)
        s.line([prev.right, (590, y)], '#1565c0', width=2.5, label=f'h[{layer-1}]', dy=-12, lcolour='#1565c0')
    for k, x in enumerate(xs):
        e = s.box(x, 385, 'i_h', 'inp', 64, 38)
        w = s.box(x, 445, f'x_{{{k+1}}}', 'inp', 56, 32, mono=False)
        ho = s.box(x, 105, 'h_o', 'out', 64, 38)
        s.link(w, e); s.link(e, rows[1, x]); s.link(rows[1, x], rows[2, x]); s.link(rows[2, x], ho)
        s.line([ho.top, (x, 45)], label=f'y_{{{k+1}}}', dx=10, dy=8, anchor='start', lcolour=INK, size=16)
    s.text(610, 250, 'state kept\n(detached) for\nthe next batch:\nh: (2, bs, 64)', 14, 'start', GREY)
    s.text(610, 395, 'nn.RNN(64, 64, 2)\nruns both rows', 14, 'start', GREY)
    return s

# --- 07 -------------------------------------------------------------------------------------------

def lstm_cell() -> SVG:
    s = SVG(480, 'LSTM cell: forget, input and output gates and the cell candidate, computed from x_t and h_{t-1}')
    cy = 80
    fx, px, ox = 230, 390, 600
    mf = s.circle(fx, cy, '×')
    pl = s.circle(px, cy, '+')
    s.line([(40, cy), mf.left], '#1565c0', width=3, label='c_{t-1}', dy=-14, lcolour=INK)
    s.line([mf.right, pl.left], '#1565c0', width=3)
    s.line([pl.right, (740, cy)], '#1565c0', width=3, label='c_{t}', at=0.85, dy=-14, lcolour=INK)
    s.text(480, 35, 'cell state: only scaled and added to', 14, 'middle', GREY)
    # gates
    gy = 300
    f = s.box(fx, gy, 'f', 'gate', 70, 46, mono=False, sub='σ')
    i = s.box(330, gy, 'i', 'gate', 70, 46, mono=False, sub='σ')
    g = s.box(450, gy, 'g', 'gate', 70, 46, mono=False, sub='tanh')
    o = s.box(ox - 60, gy, 'o', 'gate', 70, 46, mono=False, sub='σ')
    mi = s.circle(px, 190, '×')
    s.link(f, mf)
    s.line([i.top, (330, 190), mi.left]); s.line([g.top, (450, 190), mi.right]); s.link(mi, pl)
    # output side
    th = s.box(ox + 60, 150, 'tanh', 'plain', 64, 36, mono=False, size=16)
    s.line([(ox + 60, cy), th.top])
    mo = s.circle(ox + 60, 235, '×')
    s.link(th, mo)
    s.line([o.top, (o.x, 235), mo.left])
    s.line([mo.bottom, (ox + 60, 390), (740, 390)], '#1565c0', width=3)
    s.text(712, 372, 'h_{t}', 17)
    # input bus
    by = 390
    s.line([(40, by), (555, by)], '#1565c0', width=3, head=False, label='h_{t-1}', at=0.07, dy=-12, lcolour=INK)
    s.line([(120, 460), (120, by)], '#2e7d32', width=3, head=False)
    s.text(135, 450, 'x_{t}', 17, 'start')
    for gate in (f, i, g, o): s.line([(gate.x, by), gate.bottom])
    s.text(200, 425, 'ih(input) + hh(h); .chunk(4) gives i, f, g, o', 15, 'start', GREY, mono=True)
    legend(s, 465, (('gate', 'gate'), ('hid', 'state')), x=480)
    return s

# --- 08 -------------------------------------------------------------------------------------------

def gru_cell() -> SVG:
    s = SVG(480, 'GRU cell: reset gate r, update gate z, proposal n; h_t = (1-z) n + z h_{t-1}')
    cy = 80
    mz = s.circle(400, cy, '×')
    pl = s.circle(600, cy, '+')
    s.line([(40, cy), mz.left], '#1565c0', width=3, label='h_{t-1}', at=0.15, dy=-14, lcolour=INK)
    s.line([mz.right, pl.left], '#1565c0', width=3)
    s.line([pl.right, (740, cy)], '#1565c0', width=3, label='h_{t}', dy=-14, lcolour=INK)
    by = 400
    s.line([(70, cy), (70, by), (690, by)], '#1565c0', width=3, head=False)
    s.line([(140, 465), (140, by)], '#2e7d32', width=3, head=False)
    s.text(155, 455, 'x_{t}', 17, 'start')
    s.text(250, 432, 'ih(x_{t}) and hh(h_{t-1}), each split into r, z, n chunks', 15, 'start', GREY)
    r = s.box(220, 300, 'r', 'gate', 70, 46, mono=False, sub='σ')
    z = s.box(400, 300, 'z', 'gate', 70, 46, mono=False, sub='σ')
    n = s.box(600, 300, 'n', 'gate', 170, 46, mono=False, sub='tanh(i_{n} + r ⊙ h_{n})')
    for g in (r, z, n): s.line([(g.x, by), g.bottom])
    s.line([r.top, (220, 240), (560, 240), (560, 277)], label='r', at=0.5, dy=-10, lcolour=INK)
    s.line([z.top, mz.bottom])
    m1 = s.circle(600, 180, '×')
    s.line([(400, 180), m1.left], label='1 − z', at=0.5, dy=-10, lcolour=INK)
    s.link(n, m1); s.link(m1, pl)
    s.text(410, 130, 'z', 17, 'start')
    legend(s, 468, (('gate', 'gate'), ('hid', 'state')), x=560)
    return s

# --- 09 -------------------------------------------------------------------------------------------

def awd() -> SVG:
    s = SVG(430, 'Regularized LSTM: dropout on the outputs, AR on the dropped outputs, TAR on the raw outputs, tied weights')
    y = 200
    tok = s.box(55, y, 'x', 'inp', 60, 40, mono=False)
    emb = s.box(165, y, 'i_h', 'inp', 90, 46)
    rnn = s.box(300, y, 'nn.LSTM', 'hid', 120, 52, sub='2 layers')
    drop = s.box(470, y, 'Dropout', 'plain', 110, 46, mono=False, sub='p = 0.4')
    ho = s.box(630, y, 'h_o', 'out', 80, 46)
    s.link(tok, emb); s.link(emb, rnn)
    s.link(rnn, drop, label='raw', dy=-12, lcolour=INK)
    s.link(drop, ho, label='out', dy=-12, lcolour=INK)
    s.line([ho.right, (750, y)], label='scores', at=0.5, dy=-12, lcolour=INK, size=14)
    s.line([emb.top, (165, 70), (630, 70), ho.top], '#ad1457', dashed=True, head=False, label='tied: h_o.weight is i_h.weight',
           dy=-12, lcolour='#ad1457')
    tar = s.box(385, 320, 'TAR', 'gate', 240, 56, mono=False, sub='β · mean((raw_{t+1} − raw_{t})²)')
    ar = s.box(640, 320, 'AR', 'gate', 200, 56, mono=False, sub='α · mean(out²)')
    s.line([(385, y), tar.top], '#e65100'); s.line([(545, y), (545, 265), (640, 265), ar.top], '#e65100')
    s.text(W/2, 395, 'loss = flat_ce(scores, y) + AR + TAR, added while training only (RNNRegularizer)', 15,
           colour=GREY)
    s.text(W/2, 418, 'α = 2, β = 1', 15, colour=GREY)
    return s

# --- 10 -------------------------------------------------------------------------------------------

def causal_attention() -> SVG:
    s = SVG(420, 'Causal self-attention: scores q k^T / sqrt(d), future positions masked to -inf, softmax per row, weights times v')
    n, c = 4, 52
    def grid(x0, y0, cell, title):
        s.text(x0 + n*c/2, y0 - 48, title, 16, bold=True)
        for t in range(n):
            for j in range(n):
                kind = 'mask' if j > t else 'attn'
                s.rect(x0 + j*c, y0 + t*c, x0 + (j+1)*c, y0 + (t+1)*c, kind, rx=0, width=1.5)
                s.text(x0 + j*c + c/2, y0 + t*c + c/2, cell(t, j), 15, colour=GREY if j > t else INK)
    x0, y0 = 110, 110
    grid(x0, y0, lambda t, j: '−∞' if j > t else f'q{t+1}·k{j+1}', 'scores / √d, masked')
    for t in range(n): s.text(x0 - 12, y0 + t*c + c/2, f'q_{{{t+1}}}', 17, 'end')
    for j in range(n): s.text(x0 + j*c + c/2, y0 - 14, f'k_{{{j+1}}}', 17)
    x1 = 430
    grid(x1, y0, lambda t, j: '0' if j > t else 'w', 'weights')
    s.line([(x0 + n*c + 12, y0 + n*c/2), (x1 - 12, y0 + n*c/2)], label='softmax', dy=-12, lcolour=INK)
    s.line([(x1 + n*c + 10, y0 + n*c/2), (x1 + n*c + 60, y0 + n*c/2)], label='@ v', dy=-12, lcolour=INK)
    s.text(x1 + n*c + 66, y0 + n*c/2, 'out', 17, 'start', bold=True)
    s.text(W/2, 365, 'row t: what position t attends to; each row of weights sums to 1', 15, colour=GREY)
    s.text(W/2, 392, 'grey: later positions (j > t), masked to −∞ before the softmax, so weight 0', 15, colour=GREY)
    s.text(20, 24, 'q, k, v: three linear layers applied to x (one head shown, 4 positions)', 15, 'start', GREY)
    return s

def transformer() -> SVG:
    s = SVG(640, 'TransformerLM: memory of the previous window plus the current window, pre-norm blocks, tied output, pointer sentinel')
    mx = 275
    mem = s.box(150, 590, 'memory: last window', 'plain', 240, 40, mono=False, size=15, dashed=True)
    win = s.box(400, 590, 'window: 16 tokens x', 'inp', 240, 40, mono=False, size=15)
    s.text(mx, 626, 'ctx = memory + window: 32 tokens', 14, colour=GREY)
    emb = s.box(mx, 520, 'drop(i_h(ctx) + pos)', 'inp', 300, 40, size=16)
    s.line([mem.top, (150, 540)]); s.line([win.top, (400, 540)])
    s.rect(60, 190, 490, 492, 'none', dashed=True, rx=12, width=1.5)
    s.text(480, 478, 'TransformerBlock × 2', 15, 'end', '#1565c0', bold=True)
    ln1 = s.box(mx, 450, 'ln1', 'plain', 80, 32)
    att = s.box(mx, 395, 'CausalSelfAttention', 'attn', 240, 38, size=15)
    p1 = s.circle(mx, 345, '+', r=14)
    ln2 = s.box(mx, 295, 'ln2', 'plain', 80, 32)
    mlp = s.box(mx, 252, 'mlp', 'hid', 160, 32)
    p2 = s.circle(mx, 208, '+', r=14)
    s.line([emb.top, ln1.bottom]); s.link(ln1, att); s.link(att, p1); s.link(p1, ln2); s.link(ln2, mlp); s.link(mlp, p2)
    s.line([(mx, 484), (105, 484), (105, 345), p1.left], '#1565c0')
    s.line([(mx, 322), (125, 322), (125, 208), p2.left], '#1565c0')
    s.text(98, 415, 'residual', 14, 'end', '#1565c0')
    ln = s.box(mx, 150, 'ln', 'plain', 70, 32)
    s.link(p2, ln)
    ho = s.box(mx, 90, 'h_o', 'out', 80, 34)
    s.link(ln, ho)
    s.text(225, 90, 'tied to i_h', 14, 'end', GREY)
    ptr = s.box(615, 90, 'PointerSentinel', 'attn', 210, 44, size=15)
    s.line([ln.right, (560, 150), (560, 112)], label='h', at=0.5, dy=-10, size=15, lcolour=INK)
    s.line([ho.right, ptr.left], label='scores', dy=-10, size=14, lcolour=INK)
    s.line([win.right, (700, 590), (700, 112)], label='ctx', at=0.5, dx=8, dy=0, anchor='start', size=14,
           lcolour=INK)
    s.line([ptr.top, (615, 22)])
    s.text(625, 32, 'log p', 15, 'start')
    s.text(600, 235, 'scores earlier positions,\ncopies the token that\nfollowed there; a sentinel\nkeeps a share for\nsoftmax(scores)',
           14, 'middle', GREY)
    s.text(600, 410, 'next batch: memory =\nlast 16 tokens of ctx,\ndetached; reset()\nempties it', 14, 'middle', GREY)
    return s

def pointer() -> SVG:
    s = SVG(400, 'PointerSentinel: the query at position t scores every earlier position j; each position votes for the token that followed it, ctx[j+1]; a sentinel keeps a share for the vocabulary softmax')
    toks = ['.', 'eight', 'thousand', 'one', '.', 'eight', 'thousand']
    xs = [70 + 88 * k for k in range(len(toks))]
    boxes = [s.box(x, 345, t, 'inp', 80, 36, size=15) for x, t in zip(xs, toks)]
    q = boxes[-1]
    s.text(q.x, 385, 'query: position t', 14, 'middle', GREY)
    for b, nxt in zip(boxes[:-1], toks[1:]): s.text(b.x, 300, f'→ {nxt}', 14, 'middle', GREY)
    s.text(xs[0] - 40, 275, 'each position j votes for ctx[j+1], the token after it', 14, 'start', GREY)
    sm = s.box(330, 215, 'softmax(a_t0 … a_t,t-1, s_t)', 'attn', 520, 40, size=15)
    s.line([q.top, (q.x, 235)])
    copy = s.box(215, 135, 'copy: α_tj to ctx[j+1]', 'attn', 290, 40, size=15)
    sent = s.box(560, 135, 'g_t · softmax(scores)', 'out', 250, 40, size=15)
    s.line([(215, 195), copy.bottom]); s.line([(560, 195), sent.bottom], label='sentinel share g_t', dx=10, dy=4, anchor='start', size=14)
    plus = s.circle(390, 70, '+', r=16)
    s.line([copy.top, (215, 70), plus.left]); s.line([sent.top, (560, 70), plus.right])
    s.line([plus.top, (390, 12)])
    s.text(405, 28, 'p(w): log of it is the output', 15, 'start')
    legend(s, 28, kinds=(('inp', 'context'), ('attn', 'pointer'), ('out', 'vocabulary')))
    return s

# --- 11 -------------------------------------------------------------------------------------------

def seq2seq() -> SVG:
    s = SVG(560, 'Seq2seq with attention: bidirectional GRU encoder, GRU decoder, dot-product attention over the encoded positions')
    ex, src = [60, 150, 240, 330], ['nine', 'thousand', '…', 'four']
    s.text(195, 24, 'encoder (words)', 17, bold=True)
    encs, grus = [], []
    for x, w in zip(ex, src):
        t = s.box(x, 525, w, 'inp', 80, 34, mono=False, size=15)
        e = s.box(x, 465, 'src_emb', 'inp', 80, 32, size=14)
        g = s.box(x, 395, 'GRU', 'hid', 64, 44, mono=False, size=15)
        c = s.box(x, 300, 'enc', 'hid', 64, 36, mono=False, size=15)
        s.link(t, e); s.link(e, g); s.link(g, c)
        encs.append(c); grus.append(g)
    for g1, g2 in zip(grus, grus[1:]):
        s.line([(g1.x + 32, 387), (g2.x - 32, 387)], '#1565c0', width=1.5)
        s.line([(g2.x - 32, 403), (g1.x + 32, 403)], '#1565c0', width=1.5)
    s.text(195, 348, 'both directions: merge(out) + emb', 13, colour=GREY)
    h0 = s.box(428, 395, 'merge, tanh', 'hid', 84, 40, mono=False, size=13)
    s.line([(362, 395), h0.left], '#1565c0')
    s.text(610, 24, 'decoder (digits)', 17, bold=True)
    dx, din, tgt = [520, 610, 700], ['xxbos', '9', '8'], ['9', '8', '7']
    prev = h0
    for k, (x, a, b) in enumerate(zip(dx, din, tgt)):
        t = s.box(x, 525, a, 'inp', 76, 34, mono=False, size=15)
        e = s.box(x, 465, 'tgt_emb', 'inp', 80, 32, size=14)
        g = s.box(x, 395, 'GRU', 'hid', 64, 44, mono=False, size=15)
        s.link(t, e); s.link(e, g)
        s.link(prev, g, colour='#1565c0')
        prev = g
        cb = s.box(x, 200, 'combine', 'attn', 84, 36, size=14)
        ho = s.box(x, 135, 'h_o', 'out', 60, 32, size=15)
        s.link(g, cb); s.link(cb, ho)
        s.line([ho.top, (x, 80)]); s.text(x + 8, 88, b, 17, 'start')
    att = s.box(360, 200, 'attention', 'attn', 160, 52, mono=False, size=16, sub='softmax(out · enc)')
    for c in encs: s.line([c.top, (att.x - 60, att.y + 26)], '#6a1b9a', width=1.5, dashed=True, head=False)
    s.line([(520, 300), (410, 300), (410, 226)], '#6a1b9a', label='out: the query', at=0.45, dy=-10, size=14,
           lcolour='#6a1b9a')
    s.line([att.right, (478, 200)], '#6a1b9a', head=True)
    s.text(360, 150, 'context = weights @ enc', 14, colour='#6a1b9a')
    s.text(360, 110, 'padding positions masked', 14, colour=GREY)
    return s

DIAGRAMS = {  # file name -> drawing function (the notebook that shows it)
    'get_batches': get_batches, 'last_word': last_word, 'ffnn': ffnn, 'rnn1_unrolled': rnn1_unrolled, 'rnn2_loop': rnn2_loop,
    'rnn3_state': rnn3_state, 'rnn4_outputs': rnn4_outputs, 'stacked_rnn': stacked, 'lstm_cell': lstm_cell,
    'gru_cell': gru_cell, 'awd': awd, 'causal_attention': causal_attention, 'transformer': transformer, 'pointer': pointer,
    'seq2seq': seq2seq}

def render_all() -> dict[str, str]:
    "Every diagram's SVG text, by file name"
    return {f'{name}.svg': fn().render() for name, fn in DIAGRAMS.items()}

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ['--check']): sys.exit('usage: diagrams.py [--check]')
    svgs = render_all()
    if argv == ['--check']:
        bad = [n for n, t in svgs.items() if not (OUT/n).exists() or (OUT/n).read_text() != t]
        if bad: sys.exit(f'out of date in {OUT}: {", ".join(bad)} (run tools/diagrams.py)')
        print(f'{len(svgs)} diagrams up to date'); return
    OUT.mkdir(parents=True, exist_ok=True)
    for n, t in svgs.items(): (OUT/n).write_text(t)
    print(f'wrote {len(svgs)} diagrams to {OUT}')

if __name__ == '__main__': main()
