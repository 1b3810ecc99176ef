"""The workloads of ``benchmarks/speed.py``, one module each, and the helpers they share (``common``).

Each module holds its measurement and the text it adds to the speed section of docs/results.md;
``speed.py`` parses the arguments, runs them in order and writes the section.
"""
