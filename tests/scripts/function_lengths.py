#!/usr/bin/env python3
"""Lists the product code's functions longer than a limit (lines from the
line of the opening brace's declaration to the closing brace), longest first;
exits 1 when there is one. Product code: the C++ under core/ db/ health/
pools/ lbctl/ docgen/ demo_app/ (not tests/ or bench/). Reads the text: a
function body is a brace block that opens where only namespaces and classes
enclose it; comments, strings and character literals are blanked first.

Usage: function_lengths.py SOURCE_DIR [LIMIT]   (LIMIT defaults to 80)
"""
import os
import re
import sys

FOLDERS = ["core", "db", "health", "pools", "lbctl", "docgen", "demo_app"]


def blank(text):
    """Comments, strings and char literals as spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator: 1'000
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def functions(path):
    text = blank(open(path, encoding="utf-8", errors="replace").read())
    stack = []  # each open brace: "scope" (namespace/class) or "body" or "other"
    start = 0  # where the text before the next brace began (after ; { or })
    found = []
    line = 1
    body_start = None
    for i, c in enumerate(text):
        if c == "\n":
            line += 1
        elif c == ";":
            start = i + 1
        elif c == "{":
            head = text[start:i]
            if all(kind == "scope" for kind in stack):
                tail = head.rstrip()
                ends_like_function = tail.endswith(")") or re.search(r"\)\s*(const|noexcept|override|final|mutable)$", tail)
                if SCOPE.search(head) and not ends_like_function:
                    kind = "scope"  # namespace, class, struct, union, enum
                else:
                    kind = "body" if ")" in head else "other"  # "other": an initializer
                if kind == "body":
                    names = re.findall(r"([~\w:]+)\s*\(", head)
                    body_start = (names[0] if names else "?", line - head.strip().count("\n"))
                stack.append(kind)
            else:
                stack.append("other")
            start = i + 1
        elif c == "}":
            if stack:
                kind = stack.pop()
                if kind == "body" and all(k == "scope" for k in stack) and body_start:
                    name, first = body_start
                    found.append((line - first + 1, path, first, name))
                    body_start = None
            start = i + 1
    return found


def main():
    root = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    rows = []
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            for name in names:
                if name.endswith((".cpp", ".hpp")):
                    rows += functions(os.path.join(dirpath, name))
    long_ones = sorted((r for r in rows if r[0] > limit), reverse=True)
    for length, path, first, name in long_ones:
        print(f"{length:4} lines  {os.path.relpath(path, root)}:{first}  {name}")
    print(f"{len(rows)} functions read; {len(long_ones)} longer than {limit} lines")
    return 1 if long_ones else 0


if __name__ == "__main__":
    sys.exit(main())
