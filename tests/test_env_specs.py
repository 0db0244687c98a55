"""requirements.txt (pip) and environment.yml (conda) pin the same packages."""
import re

import yaml


def pins_from_requirements():
    pins = {}
    for line in open("requirements.txt"):
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def pins_from_environment():
    env = yaml.safe_load(open("environment.yml"))
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                name, version = line.split("==")
                pins[name.lower()] = version
        elif dep not in ("pip",) and not dep.startswith("python="):
            name, version = re.split(r"=+", dep)
            pins[name.lower()] = version
    return pins


def test_every_requirement_is_pinned_exactly():
    for line in open("requirements.txt"):
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][A-Za-z0-9.+]*", line), line


def test_pip_and_conda_specs_agree():
    assert pins_from_requirements() == pins_from_environment()


def test_torch_is_the_cpu_build_pin():
    assert pins_from_requirements()["torch"] == "2.13.0"


def test_installed_torch_is_a_cpu_build():
    """The benchmark times CPUs: a CUDA or ROCm build would be a different, larger package."""
    torch = __import__("pytest").importorskip("torch")
    assert torch.version.cuda is None and getattr(torch.version, "hip", None) is None, torch.__version__
    assert not torch.backends.cuda.is_built()
    assert torch.__version__.split("+")[0] == pins_from_requirements()["torch"]
