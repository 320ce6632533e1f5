"""A benchmark scenario rewrites only its own section of docs/performance.md."""

from bench.doc import markers, write_section


def test_section_is_appended_then_replaced_and_the_rest_is_kept(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nhand-written\n")
    write_section(doc, "year", "first")
    write_section(doc, "pg", "postgres numbers")
    write_section(doc, "year", "second")
    text = doc.read_text()
    begin, end = markers("year")
    assert text.count(begin) == 1 and text.count(end) == 1
    assert "second" in text and "first" not in text
    assert "hand-written" in text and "postgres numbers" in text
    assert text.index("hand-written") < text.index(begin) < text.index(markers("pg")[0])
