"""Every report caption is valid reStructuredText: Snakemake renders each with docutils, and an
error there (an undefined substitution such as ``|error|``) shows as a broken link in the report."""
from pathlib import Path

import docutils.core
import docutils.utils
import pytest

CAPTIONS = sorted((Path(__file__).resolve().parents[1] / "workflow/report").glob("*.rst"))


def rst_errors(text: str) -> list[str]:
    """The messages of level ERROR or worse that docutils raises on ``text``."""
    document = docutils.core.publish_doctree(text, settings_overrides={"report_level": 5, "halt_level": 5})
    messages = [*document.findall(docutils.nodes.system_message), *document.transform_messages]
    return [message.astext() for message in messages if message["level"] >= docutils.utils.Reporter.ERROR_LEVEL]


def test_an_undefined_substitution_is_caught():
    assert rst_errors("the mean |error| over seeds") != []


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda path: path.name)
def test_caption_renders_without_errors(caption):
    assert rst_errors(caption.read_text()) == []
