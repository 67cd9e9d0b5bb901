"""Text views that fit a width: the plain-text and terminal rendering of every
command's tables and lines. No cost logic lives here, and nothing prints: a view is
turned into text (files, pipes, golden tests) or handed to a rich console (``cli``).

A view is a list of blocks: ``Line`` (text, optionally styled in parts) and ``Table``
(a column model and rows of cells). A table fits the width it is given without ever
cutting a number; what gives way, in this order:

1. decoration: a share bar narrows, then goes;
2. droppable columns (shapes, restated numbers), in their declared order, with a note;
3. names: truncated from the middle (never wrapped), down to a minimum width;
4. if the numbers still do not fit, the table is split into panels, the key columns
   (the layer name) repeated in each, groups of columns kept together. Names are cut
   (step 3) only when that spares a split.

If a single column of numbers is still wider than the screen, the line is left long
(the terminal wraps it) rather than cut.
"""

from __future__ import annotations

import unicodedata

NUMBER, NAME, BAR = "number", "name", "bar"  # column roles
BAR_WIDTH, BAR_MIN = 10, 5
NAME_MIN = 8


def cell_width(s):
    """Terminal cells taken by s (CJK and other wide characters take two)."""
    if s.isascii():
        return len(s)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF"
               else 1 for c in s)


def visible(s):
    """s with control characters shown escaped (\\x1b, \\t, ...): spec text never reaches a
    terminal as escape sequences, and a cell is always one line."""
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def truncate_middle(s, width, ellipsis="…"):
    """s cut to width cells by dropping its middle: 'mbconv6.3/se.expand' -> 'mbconv…expand'."""
    if cell_width(s) <= width:
        return s
    if width <= 1:
        return ellipsis[:width]
    keep = width - 1
    left, right = (keep + 1) // 2, keep // 2
    if s.isascii():
        return s[:left] + ellipsis + (s[-right:] if right else "")
    head, w = "", 0
    for c in s:
        if w + cell_width(c) > left:
            break
        head, w = head + c, w + cell_width(c)
    tail, w = "", 0
    for c in reversed(s):
        if w + cell_width(c) > right:
            break
        tail, w = c + tail, w + cell_width(c)
    return head + ellipsis + tail


def _pad(s, width, align):
    gap = width - cell_width(s)
    if gap <= 0:
        return s
    return " " * gap + s if align == "right" else s + " " * gap


def bar(share, width=BAR_WIDTH, unicode=True):
    """A share (0-100) as a bar of width cells: eighth blocks on a unicode terminal, '#'
    elsewhere."""
    full = share / 100 * width
    n = int(full)
    if unicode:
        eighths = " ▏▎▍▌▋▊▉"
        rest = int((full - n) * 8)
        return ("█" * n + (eighths[rest] if rest and n < width else "")).ljust(width)
    return ("#" * round(full)).ljust(width)


# ---------------------------------------------------------------- the column model

class Column:
    """One column: its header (one or more lines), alignment, role and footer.

    role: NUMBER never narrows; NAME is truncated from the middle down to min_width;
    BAR cells are shares (0-100) drawn as bars, narrowed then dropped first. drop > 0
    makes the column droppable, lowest first, before any name is cut (with a note).
    key columns are repeated in every panel; columns of one group stay in one panel.
    styles maps a cell's text to a style on a terminal ({"OVER": "bold red"}).
    (Plain classes here, not dataclasses: this module is on every table's import path.)
    """

    __slots__ = ("header", "align", "role", "footer", "drop", "key", "group", "min_width", "styles")

    def __init__(self, header, align="right", role=NUMBER, footer="", drop=0, key=False, group="",
                 min_width=NAME_MIN, styles=None):
        self.header = header  # a str, or a tuple of lines (bottom-aligned)
        self.align, self.role, self.footer, self.drop = align, role, footer, drop
        self.key, self.group, self.min_width = key, group, min_width
        self.styles = styles or {}

    def __repr__(self):
        return f"Column({self.header!r}, {self.align!r}, {self.role!r})"

    @property
    def header_lines(self):
        """The header as a tuple of lines."""
        return (self.header,) if isinstance(self.header, str) else tuple(self.header)

    @property
    def title(self):
        """The header on one line (for notes and one-line formats)."""
        return " ".join(h for h in self.header_lines if h)


class Line:
    """A line of text: a str, or parts [(text, style)]; wrapped at spaces to the width
    (never inside a word), continuation lines indented by hang."""

    __slots__ = ("parts", "hang", "wrap")

    def __init__(self, parts, hang=0, wrap=True):
        self.parts, self.hang, self.wrap = parts, hang, wrap

    def __repr__(self):
        return f"Line({self.parts!r})"

    def segments(self):
        """[(text, style or None)]."""
        if isinstance(self.parts, str):
            return [(visible(self.parts), None)]
        return [(visible(t), s) for t, s in self.parts]

    def render(self, width):
        """Lines of [(text, style)]."""
        segs = self.segments()
        text = "".join(t for t, _ in segs)
        if not self.wrap or width is None or cell_width(text) <= width:
            return [segs]
        out = []
        for start, end in wrap_points(text, width, self.hang):
            line = _slice(segs, start, end)
            if start:
                line = [(" " * self.hang, None)] + line
            out.append(line)
        return out


def wrap_points(text, width, hang=0):
    """[(start, end)] spans of text, split at spaces so each fits width (continuation
    lines hang-indented); a word longer than the width stays whole on its own line."""
    spans, start, n = [], 0, len(text)
    avail = width
    while start < n:
        if cell_width(text[start:]) <= avail:
            spans.append((start, n))
            break
        end, i, w = start, start, 0
        cut = -1
        while i < n:
            w += cell_width(text[i])
            if w > avail:
                break
            if text[i] == " ":
                cut = i
            i += 1
        if i < n and text[i] == " ":
            cut = i
        if cut <= start:  # one long word: keep it whole
            cut = text.find(" ", i)
            cut = n if cut < 0 else cut
        end = cut
        spans.append((start, end))
        start = end
        while start < n and text[start] == " ":
            start += 1
        avail = max(1, width - hang)
    return spans


def _slice(segs, start, end):
    out, pos = [], 0
    for t, s in segs:
        a, b = max(start, pos), min(end, pos + len(t))
        if a < b:
            out.append((t[a - pos:b - pos], s))
        pos += len(t)
    return out


# ---------------------------------------------------------------- tables

class Table:
    """Rows of cells under a column model. frame: an ASCII frame in plain text (the
    table command's files); without it, plain text is columns two spaces apart. On a
    terminal every table is columns two spaces apart with a rule under the header (and
    above the footer). more: what the note says shows dropped columns."""

    __slots__ = ("columns", "rows", "footer", "frame", "indent", "more")

    def __init__(self, columns, rows, footer=False, frame=False, indent=0,
                 more="a wider window shows them"):
        self.columns, self.rows, self.footer, self.frame = columns, rows, footer, frame
        self.indent, self.more = indent, more

    def __repr__(self):
        return f"Table({len(self.columns)} columns, {len(self.rows)} rows)"

    # ------------------------------------------------------------ layout

    def _natural(self):
        widths = []
        for i, c in enumerate(self.columns):
            w = max([cell_width(visible(h)) for h in c.header_lines]
                    + [cell_width(visible(c.footer)) if self.footer else 0])
            if c.role == BAR:
                w = max(w, BAR_WIDTH)
            elif self.rows:
                cells = [r[i] for r in self.rows]
                joined = "".join(cells)
                if joined.isascii() and joined.isprintable():
                    w = max(w, max(map(len, cells)))
                else:
                    w = max(w, max(cell_width(visible(v)) for v in cells))
            widths.append(w)
        return widths

    def _overhead(self, n, terminal):
        if self.frame and not terminal:
            return 3 * n + 1 + self.indent
        return 2 * max(n - 1, 0) + self.indent

    def layout(self, width, terminal=False):
        """(panels, note): each panel a list of (column index, width); note says what
        was dropped or shortened to fit width ('' if nothing)."""
        natural = self._natural()
        w = dict(enumerate(natural))
        active = list(range(len(self.columns)))
        cols = self.columns

        def total(idx, widths=w):
            return sum(widths[i] for i in idx) + self._overhead(len(idx), terminal)

        if width is None or total(active) <= width:
            return [[(i, w[i]) for i in active]], ""
        dropped, shortened = [], False
        # 1. decoration: bars narrow, then go
        for i in [i for i in active if cols[i].role == BAR]:
            excess = total(active) - width
            if excess > 0:
                w[i] -= min(excess, max(w[i] - BAR_MIN, 0))
        if total(active) > width:
            active = [i for i in active if cols[i].role != BAR]
        # 2. droppable columns, lowest rank first
        for i in sorted((i for i in active if cols[i].drop), key=lambda i: (cols[i].drop, i)):
            if total(active) <= width:
                break
            active.remove(i)
            t = cols[i].title
            dropped.append(f"'{t}'" if " " in t else t)
        names = [i for i in active if cols[i].role == NAME]
        floor = dict(w)
        for i in names:
            floor[i] = min(w[i], max(cols[i].min_width, *(cell_width(h) for h in cols[i].header_lines)))
        if total(active) <= width:
            panels = [[(i, w[i]) for i in active]]
        elif total(active, floor) <= width:
            local, shortened = self._shrink(active, w, floor, width, terminal)
            panels = [[(i, local[i]) for i in active]]
        else:  # 4. panels; names cut only where a panel still does not fit
            panels = []
            for p in self._panels(active, w, width, terminal):
                local, cut = self._shrink(p, w, floor, width, terminal)
                shortened |= cut
                panels.append([(i, local[i]) for i in p])
        note = ""
        if dropped or shortened:
            what = []
            if dropped:
                what.append(_join(dropped) + " hidden")
            if shortened:
                what.append("names shortened in the middle")
            note = f"To fit {width} columns: {', '.join(what)}; {self.more}."
        return panels, note

    def _shrink(self, idx, w, floor, width, terminal):
        """({index: width}, narrowed?): the name columns in idx narrowed, most room first, until
        the row fits width or every name is at its floor."""
        excess = sum(w[i] for i in idx) + self._overhead(len(idx), terminal) - width
        names = [i for i in idx if self.columns[i].role == NAME]
        local = {i: w[i] for i in idx}
        shrunk = False
        while excess > 0:
            cand = [i for i in names if local[i] > floor[i]]
            if not cand:
                break
            i = max(cand, key=lambda j: (local[j] - floor[j], -j))
            local[i] -= 1
            excess -= 1
            shrunk = True
        return local, shrunk

    def _panels(self, active, w, width, terminal):
        keys = [i for i in active if self.columns[i].key]
        groups, seen = [], {}
        for i in active:
            if i in keys:
                continue
            g = self.columns[i].group
            if g and g in seen:
                groups[seen[g]].append(i)
            else:
                if g:
                    seen[g] = len(groups)
                groups.append([i])

        def fits(idx):
            return sum(w[i] for i in idx) + self._overhead(len(idx), terminal) <= width

        panels, cur = [], []
        for g in groups:
            parts = [g] if fits(keys + g) else [[i] for i in g]
            for part in parts:
                if cur and not fits(keys + cur + part):
                    panels.append(cur)
                    cur = []
                cur = cur + part
        if cur or not panels:
            panels.append(cur)
        return [sorted(keys + p) for p in panels]

    # ------------------------------------------------------------ rendering

    def render(self, width=None, terminal=False, unicode=False):
        """Lines; each a str (unstyled) or a list of (text, style)."""
        panels, note = self.layout(width, terminal)
        out = []
        for n, p in enumerate(panels):
            if n:
                out.append("")
            out += self._render_panel(p, terminal, unicode)
        if note:
            out += [[(t, s) for t, s in seg] for seg in Line(note).render(width)]
        return out

    def _render_panel(self, panel, terminal, unicode):
        cols = self.columns
        ell = "…" if unicode else "~"
        pad = " " * self.indent
        framed = self.frame and not terminal
        sep, left, right = (" | ", "| ", " |") if framed else ("  ", "", "")
        hstyle = "bold" if terminal else None

        def join(cells):
            return pad + left + sep.join(cells) + right

        border = pad + "+" + "+".join("-" * (w + 2) for _, w in panel) + "+"
        rule = pad + ("─" if unicode else "-") * (sum(w for _, w in panel) + 2 * (len(panel) - 1))
        out = []
        if framed:
            out.append(border)
        height = max(len(cols[i].header_lines) for i, _ in panel)
        for k in range(height):
            cells = []
            for i, w in panel:
                h = cols[i].header_lines
                h = ("",) * (height - len(h)) + h
                cells.append(_pad(visible(h[k]), w, cols[i].align))
            out.append([(join(cells), hstyle)] if hstyle else join(cells))
        out.append(border if framed else rule if terminal else None)
        if out[-1] is None:
            out.pop()
        out += self._body(panel, terminal, unicode, ell, sep, left, right, pad)
        if self.footer:
            out.append(border if framed else rule)
            cells = [_pad(visible(cols[i].footer), w, cols[i].align) for i, w in panel]
            out.append([(join(cells), hstyle)] if hstyle else join(cells))
        if framed:
            out.append(border)
        return out

    def _body(self, panel, terminal, unicode, ell, sep, left, right, pad):
        """The body lines, built column by column (a 100,000-row table is a few list
        comprehensions, not a call per cell)."""
        cols = self.columns
        formatted = []
        for i, w in panel:
            c = cols[i]
            cells = [r[i] for r in self.rows]
            if c.role == BAR:
                cells = [bar(v, w, unicode) for v in cells]
            elif c.role == NAME:
                just = str.ljust if c.align == "left" else str.rjust
                cells = [just(v, w) if len(v) <= w and v.isascii() and v.isprintable()
                         else _pad(truncate_middle(visible(v), w, ell), w, c.align) for v in cells]
            elif c.align == "right":
                cells = [v.rjust(w) if v.isascii() and v.isprintable() else _pad(visible(v), w, "right")
                         for v in cells]
            else:
                cells = [v.ljust(w) if v.isascii() and v.isprintable() else _pad(visible(v), w, "left")
                         for v in cells]
            formatted.append(cells)
        head, tail = pad + left, right
        lines = [head + sep.join(cells) + tail for cells in zip(*formatted)] if formatted else []
        styled = [(k, cols[i].styles) for k, (i, _) in enumerate(panel) if cols[i].styles]
        if not (terminal and styled):
            return lines
        for n, cells in enumerate(zip(*formatted)):
            if not any(cells[k].strip() in st for k, st in styled):
                continue
            parts = [(head, None)]
            for k, c in enumerate(cells):
                if k:
                    parts.append((sep, None))
                st = cols[panel[k][0]].styles.get(c.strip())
                if st:  # style the word, not its padding
                    word = c.strip()
                    lead = c[:len(c) - len(c.lstrip())]
                    parts += [(lead, None), (word, st), (c[len(lead) + len(word):], None)]
                else:
                    parts.append((c, None))
            parts.append((tail, None))
            lines[n] = parts
        return lines


def _join(names):
    names = [n for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------- whole views

def render_lines(view, width=None, terminal=False, unicode=False):
    """Every block of view as lines (str, or lists of (text, style))."""
    out = []
    for block in view:
        if isinstance(block, Table):
            out += block.render(width, terminal, unicode)
        else:
            line = block if isinstance(block, Line) else Line(block)
            out += line.render(width)
    return out


def plain(view, width=None):
    """The view as plain text (no styles, ASCII decoration), trailing spaces stripped;
    width None: nothing is fitted or wrapped."""
    lines = []
    for ln in render_lines(view, width):
        text = ln if isinstance(ln, str) else "".join(t for t, _ in ln)
        lines.append(text.rstrip())
    return "\n".join(lines) + "\n"


class Rich:
    """A view as a rich renderable, fitted to the console's width: unicode bars and rules
    when the console's encoding allows, styles where the console shows them. Runs of
    unstyled lines go out as one segment, so a 100,000-row table costs little more
    than its text."""

    def __init__(self, view):
        self.view = view

    def __rich_console__(self, console, options):
        """Yield the segments of every line."""
        from rich.segment import Segment
        from rich.style import Style

        styles = {}
        run = []
        for ln in render_lines(self.view, options.max_width, True, not options.ascii_only):
            if isinstance(ln, str):
                run.append(ln)
                continue
            if run:
                yield Segment("\n".join(run) + "\n")
                run = []
            for text, style in ln:
                if style and style not in styles:
                    styles[style] = Style.parse(style)
                yield Segment(text, styles[style] if style else None)
            yield Segment.line()
        if run:
            yield Segment("\n".join(run) + "\n")
