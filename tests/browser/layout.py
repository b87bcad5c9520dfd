"""Layout checks run inside the page: what a person would see as broken on a phone or a laptop.

Each function takes a Playwright page and returns what is wrong (an empty list when nothing is), so a test
can assert on it and print the offenders. The text is measured as the browser drew it: a text node's boxes
(one per line it takes), cut to what its scrolling or clipping ancestors let through, so a table scrolled
sideways inside its wrapper, or a caption hidden for screen readers, does not count.
"""

from __future__ import annotations

from typing import Any

# The smallest text a person should have to read, in CSS pixels as drawn (SVG text scaled with its chart).
MIN_FONT_PX = 11

_TEXT_BOXES = """
(scope) => {
  const root = document.querySelector(scope) || document.body;
  const clipping = (el) => {
    const s = getComputedStyle(el);
    return s.overflowX !== 'visible' || s.overflowY !== 'visible';
  };
  const boxes = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT,
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, title, desc, noscript, option')) continue;
    if (!parent.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    // What its ancestors with overflow other than visible let through (a table's wrapper, .visually-hidden).
    let clip = { left: -Infinity, top: -Infinity, right: Infinity, bottom: Infinity };
    for (let el = parent; el && el !== document.documentElement; el = el.parentElement) {
      if (clipping(el)) {
        const r = el.getBoundingClientRect();
        clip = { left: Math.max(clip.left, r.left), top: Math.max(clip.top, r.top),
                 right: Math.min(clip.right, r.right), bottom: Math.min(clip.bottom, r.bottom) };
      }
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [];
    for (const r of range.getClientRects()) {
      const box = { left: Math.max(r.left, clip.left), top: Math.max(r.top, clip.top),
                    right: Math.min(r.right, clip.right), bottom: Math.min(r.bottom, clip.bottom) };
      if (box.right - box.left >= 2 && box.bottom - box.top >= 2) {
        rects.push({ left: box.left + scrollX, top: box.top + scrollY, right: box.right + scrollX,
                     bottom: box.bottom + scrollY });
      }
    }
    if (!rects.length) continue;
    let size = parseFloat(getComputedStyle(parent).fontSize);
    if (parent instanceof SVGElement) {  // drawn at the chart's scale: font-size is in the viewBox's units
      const m = parent.getScreenCTM();
      size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    }
    let sticky = false;
    for (let el = parent; el && !sticky; el = el.parentElement) {
      sticky = ['sticky', 'fixed'].includes(getComputedStyle(el).position);
    }
    // A table cell's text stays inside its cell, or it runs into the next one (or out of the table).
    const cell = parent.closest('td, th');
    let escapes = false;
    if (cell) {
      const c = cell.getBoundingClientRect();
      escapes = [...range.getClientRects()].some((r) => r.width && (r.right > c.right + 0.5 || r.left < c.left - 0.5));
    }
    boxes.push({
      escapes,
      text: node.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60),
      where: parent.tagName.toLowerCase() + (parent.className && typeof parent.className === 'string'
        ? '.' + parent.className.trim().split(/\\s+/).join('.') : ''),
      size: Math.round(size * 100) / 100,
      // What stays put while the rest scrolls under it (a form's action bar, a table's action column in
      // portal.css) covers the rest, it does not collide with it.
      sticky,
      rects,
    });
  }
  return boxes;
}
"""


def _text_boxes(page: Any, scope: str) -> list[dict[str, Any]]:
    return page.evaluate(_TEXT_BOXES, scope)


def page_scrolls_sideways(page: Any) -> list[str]:
    """The page itself is wider than the window (a wide table must scroll inside its own wrapper)."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width <= inner:
        return []
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => {
              const r = e.getBoundingClientRect();
              return r.width && r.right > window.innerWidth + 1 && e.checkVisibility();
            }).slice(0, 8).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.')
              + ' right=' + Math.round(e.getBoundingClientRect().right))"""
    )
    return [f"page is {width} px wide in a {inner} px window: {', '.join(wide)}"]


def small_text(page: Any, minimum: float = MIN_FONT_PX) -> list[str]:
    """Every visible text, SVG chart labels included, drawn at `minimum` px or more."""
    return [
        f"{box['size']} px: {box['text']!r} ({box['where']})"
        for box in _text_boxes(page, "body")
        if box["size"] < minimum - 0.01
    ]


_OVERLAPS = """
([boxes, tolerance]) => {
  const found = [];
  const hit = (ra, rb) => Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left) > tolerance
    && Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top) > tolerance;
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.sticky !== b.sticky) continue;
      if (a.rects.some((ra) => b.rects.some((rb) => hit(ra, rb)))) found.push([i, j]);
    }
  }
  return found;
}
"""


def overlapping_text(page: Any, scope: str = "main", tolerance: float = 0.5) -> list[str]:
    """Visible texts in `scope` whose drawn boxes overlap (by more than `tolerance` px each way), and texts
    that run out of their table cell."""
    boxes = _text_boxes(page, scope)
    found = [f"{b['text']!r} ({b['where']}) runs out of its table cell" for b in boxes if b["escapes"]]
    for i, j in page.evaluate(_OVERLAPS, [boxes, tolerance]):
        a, b = boxes[i], boxes[j]
        found.append(f"{a['text']!r} ({a['where']}) overlaps {b['text']!r} ({b['where']})")
    return found
