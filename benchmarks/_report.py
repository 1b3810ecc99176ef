"""Write one benchmark's section of docs/results.md between its own markers."""


def write_section(path, name, section):
    """Put ``section`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``path``.

    The section already there is replaced, so rerunning a benchmark never
    appends a second one; other sections are left as they are. A file or a
    section that does not exist yet is created.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{section.strip(chr(10))}\n{end}"
    text = path.read_text() if path.exists() else "# Results\n"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
