"""`pip install .` (not editable) gives a working `director` that finds its prompts.

The wheel is built from a copy of the repo and installed into a fresh venv.
Its dependencies come from this test venv through a .pth line, so the test
needs no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src") / "repo"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".venv-langgraph", ".git", "*.egg-info", "build",
                                                             "dist", ".demo-workspace", "__pycache__", ".pytest_cache"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(out), str(src)], check=True, capture_output=True, text=True)
    # The project's own build says nothing worth a warning (undeclared packages, licence metadata, ...).
    warnings = [line for line in (done.stdout + done.stderr).splitlines()
                if "Warning" in line or line.strip() == "!!"]
    assert not warnings, "\n".join(warnings)
    [whl] = out.glob("director_video-*.whl")
    return whl


def test_wheel_installs_only_the_director_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "director/prompts/styles/diorama.md" in names
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"director"}
    for needed in ("director/prompts/image.md", "director/prompts/story.md", "director/prompts/system.md",
                   "director/tools/create_image.py", "director/tools/__init__.py", "director/cli.py"):
        assert needed in names


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A venv with the wheel installed (not editable), its dependencies borrowed from this one."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target_purelib = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    # Dependencies from this venv; appended after the new venv's own site-packages.
    (target_purelib / "_deps_from_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    return venv


def test_installed_director_makes_a_video_outside_the_repo(installed, tmp_path):
    venv = installed
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import director, director.tools, director.prompts; print(director.__file__)"],
                           cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()
    assert where.startswith(str(venv))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([str(venv / "bin" / "director"), "make", "a fox in the forest", "--scenes", "1",
                           "--aspect", "1:1", "--workspace", str(tmp_path / "ws")],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    final = Path(done.stdout.strip().splitlines()[-1])
    assert final.is_file() and final.stat().st_size > 10_000
    assert "procedural" in (final.parent / "manifest.json").read_text()


def test_make_demo_installs_no_extras():
    # `make -n` prints what a fresh clone's `make demo` would run, without running it.
    root = Path(__file__).resolve().parent.parent
    fresh = {"VENV": "/nonexistent-venv", "DEMO_WORKSPACE": "/nonexistent-ws"}
    plan = subprocess.run(["make", "-n", "-C", str(root), "demo", *(f"{k}={v}" for k, v in fresh.items())],
                          capture_output=True, text=True, check=True).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("[" not in line for line in installs), plan  # the package alone
    test_plan = subprocess.run(["make", "-n", "-C", str(root), "test", *(f"{k}={v}" for k, v in fresh.items())],
                               capture_output=True, text=True, check=True).stdout
    assert "'.[dev,cluster]'" in test_plan  # the tests add the extras


def test_the_package_imports_whole_from_inside_a_source_checkout(installed):
    # A Ray worker started in the checkout has it on its path, so `director` is the checkout's folder, where
    # tools/ and prompts/ sit beside director/ instead of inside it: the package still finds them.
    probe = ("import director, director.tools, director.prompts\n"
             "from importlib.resources import files\n"
             "assert director.tools.registry()['create_image']\n"
             "assert files('director.prompts').joinpath('image.md').is_file()\n"
             "print(director.__file__)")
    done = subprocess.run([str(installed / "bin" / "python"), "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(REPO / "director" / "__init__.py")  # the checkout's, not the install's
