"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python block"
    namespace = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    clf = namespace["clf"]
    assert clf.error_set_.size > 0
    assert "worst group" in capsys.readouterr().out


def test_readme_has_exactly_two_setup_commands():
    commands = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert len(commands) == 2
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1].strip() in ci
