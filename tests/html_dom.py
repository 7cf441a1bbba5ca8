"""A small HTML tree for page tests (standard library only): find elements by tag and
attributes, read their text, as a person or a screen reader would."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Element]:
        """Elements of ``tag`` whose attributes match (True: present; a string: equal;
        ``class_`` matches one class)."""

        def matches(element: Element) -> bool:
            if tag is not None and element.tag != tag:
                return False
            for name, wanted in attrs.items():
                if name == "class_":
                    if str(wanted) not in element.attrs.get("class", "").split():
                        return False
                    continue
                name = name.rstrip("_").replace("_", "-")
                if wanted is True:
                    if name not in element.attrs:
                        return False
                elif element.attrs.get(name) != wanted:
                    return False
            return True

        return [e for e in self.walk() if matches(e)]

    def find(self, tag: str | None = None, **attrs: str | bool) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def select(self, predicate: Callable[[Element], bool]) -> list[Element]:
        return [e for e in self.walk() if predicate(e)]

    @property
    def text(self) -> str:
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        # Collapse HTML whitespace only: a non-breaking space stays what it is.
        return re.sub(r"[ \t\n\r\f]+", " ", " ".join(parts)).strip()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
